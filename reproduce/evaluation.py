"""The one greedy evaluator, and its one seed convention.

Runs, periodic solve checks, ``reproduce evaluate``, the tabular CartPole baseline and the
benchmarks all evaluate through :func:`greedy_episodes`: ``episodes`` copies of the env,
reset with seeds ``seed, seed + 1, ...``, stepped in lockstep, and one batched call picks all
their actions. A run with seed ``s`` evaluates at :func:`eval_seed` ``(s)``, so
``reproduce evaluate RUN_DIR`` replays exactly the episodes of the run's ``eval.csv``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np

EVAL_SEED_BASE = 1_000_000


def eval_seed(run_seed: int) -> int:
    """The first reset seed of a run's greedy test episodes (apart from every training seed)."""
    return EVAL_SEED_BASE + 1000 * int(run_seed)


def greedy_episodes(choose: Callable[[list], Sequence[int]], env_id: str, episodes: int, seed: int,
                    observe: Callable = np.asarray, window: int = 1, **make_kwargs):
    """Play ``episodes`` episodes of ``gym.make(env_id, **make_kwargs)``; ``[(return, length)]`` in
    reset-seed order.

    ``choose(states)`` gets one state per running episode, each the last ``window`` observed
    observations (``observe(obs)``, zeros before the first), and returns their actions.
    """
    envs = [gym.make(env_id, **make_kwargs) for _ in range(episodes)]
    recent = []
    for i, env in enumerate(envs):
        first = observe(env.reset(seed=seed + i)[0])
        recent.append([np.zeros_like(first)] * (window - 1) + [first])
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=int)
    active = list(range(episodes))
    while active:
        actions = choose([recent[i] for i in active])
        still = []
        for i, action in zip(active, actions):
            obs, reward, terminated, truncated, _ = envs[i].step(action)
            returns[i] += reward
            lengths[i] += 1
            recent[i] = (recent[i] + [observe(obs)])[-window:]
            if not (terminated or truncated):
                still.append(i)
        active = still
    for env in envs:
        env.close()
    return [(float(r), int(n)) for r, n in zip(returns, lengths)]


def solve_check(play: Callable[[int, int], list], check_episodes: int, confirm: int, seed: int,
                threshold: float | None):
    """One periodic check of a run: ``check_episodes`` greedy episodes from reset seed ``seed + 500_000``;
    if their mean reaches ``threshold``, ``confirm`` episodes from ``seed`` (the run's evaluation) decide.

    ``play(episodes, seed) -> [(return, length)]``. Returns ``(check returns, confirm episodes or None)``:
    the confirm episodes only when they solve.
    """
    quick = [r for r, _ in play(check_episodes, seed + 500_000)]
    if threshold is not None and np.mean(quick) >= threshold:
        full = play(confirm, seed)
        if np.mean([r for r, _ in full]) >= threshold:
            return quick, full
    return quick, None


def keras_rl_episodes(agent, env_id: str, episodes: int, seed: int) -> list[tuple[float, int]]:
    """Greedy episodes of any keras-rl agent, with its processor and window.

    Q-agents with a ``test_policy`` (DQN, SARSA) choose from one batched ``compute_batch_q_values``
    call; the others (CEM, DDPG, NAF) through their own ``select_action`` with training off (CEM's
    best parameters and argmax, no exploration noise), one state at a time.
    """
    agent.training = False
    agent._on_test_begin()  # keras-rl's own hook before test episodes (FastDQNAgent syncs its weights here)
    proc = agent.processor
    policy = getattr(agent, "test_policy", None)

    def choose(states):
        if policy is not None:
            actions = [policy.select_action(q_values=row) for row in agent.compute_batch_q_values(states)]
        else:
            actions = [agent.select_action(state) for state in states]
        return actions if proc is None else [proc.process_action(a) for a in actions]

    observe = np.asarray if proc is None else (lambda o: np.asarray(proc.process_observation(o)))
    memory = getattr(agent, "memory", None)  # SARSA keeps none: it learns from the last transition only
    return greedy_episodes(choose, env_id, episodes, seed, observe, memory.window_length if memory else 1)


def random_returns(env_id: str, episodes: int, seed: int) -> list[float]:
    """Returns of a uniformly random policy (the bar a learner must beat): env and action space
    seeded once with ``seed``, episodes played one after another."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    out = []
    for t in range(episodes):
        env.reset(seed=seed if t == 0 else None)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        out.append(total)
    env.close()
    return out
