"""keras-rl callbacks for DQN runs: a progress bar and stop-once-solved checks.

The episode log and checkpoints are the package's own callbacks (``callbacks.training_callbacks``).

Evaluation is greedy and batched: ``n`` copies of the env step in lockstep and one
``compute_batch_q_values`` call picks all their actions through the agent's ``test_policy``.
Each episode is exactly what ``agent.test`` would play from the same reset seed, at a
fraction of the cost, so periodic checks stay cheap.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
from rl.callbacks import Callback


class StopTraining(KeyboardInterrupt):  # noqa: N818 - keras-rl's fit ends cleanly on KeyboardInterrupt
    """Raised by a callback to end ``fit`` early; ``fit`` catches it and runs ``on_train_end``."""


class Progress(Callback):
    """A tqdm bar over training steps showing the last episode's reward."""

    def __init__(self, total: int, desc: str):
        super().__init__()
        self.total, self.desc = total, desc
        self.bar = None

    def on_train_begin(self, logs=None):
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, desc=self.desc, unit="step", mininterval=1.0, leave=False)

    def on_step_end(self, step, logs=None):
        self.bar.update(1)

    def on_episode_end(self, episode, logs=None):
        self.bar.set_postfix(episode=int(episode), r=float(logs["episode_reward"]), refresh=False)

    def on_train_end(self, logs=None):
        self.bar.close()


def evaluate(agent, env_id: str, episodes: int, seed: int) -> list[tuple[float, int]]:
    """Play ``episodes`` greedy test episodes (reset seeds ``seed, seed+1, ...``): ``[(return, length)]``."""
    agent.training = False
    envs = [gym.make(env_id) for _ in range(episodes)]
    window = agent.memory.window_length
    proc = agent.processor
    observe = (lambda o: o) if proc is None else proc.process_observation
    recent = []
    for i, env in enumerate(envs):
        obs, _ = env.reset(seed=seed + i)
        first = np.asarray(observe(obs))
        recent.append([np.zeros_like(first)] * (window - 1) + [first])
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=int)
    active = list(range(episodes))
    while active:
        q = agent.compute_batch_q_values([recent[i][-window:] for i in active])
        still = []
        for row, i in enumerate(active):
            action = agent.test_policy.select_action(q_values=q[row])
            if proc is not None:
                action = proc.process_action(action)
            obs, reward, terminated, truncated, _ = envs[i].step(action)
            returns[i] += reward
            lengths[i] += 1
            recent[i] = recent[i][-(window - 1):] + [np.asarray(observe(obs))] if window > 1 \
                else [np.asarray(observe(obs))]
            if not (terminated or truncated):
                still.append(i)
        active = still
    for env in envs:
        env.close()
    return [(float(r), int(n)) for r, n in zip(returns, lengths)]


class SolveCheck(Callback):
    """Every ``every`` steps, a cheap greedy check; if it passes, confirm over ``confirm`` episodes.

    Solved means the confirm mean >= ``threshold``; then training stops (``StopTraining``) and
    the confirm episodes are kept as the run's evaluation.
    """

    def __init__(self, env_id, threshold, every, check_episodes, confirm, seed, t0, stop=True):
        super().__init__()
        self.env_id, self.threshold, self.every = env_id, threshold, every
        self.check_episodes, self.confirm, self.seed = check_episodes, confirm, seed
        self.t0, self.stop = t0, stop
        self.solved_at = None  # (steps, seconds since t0)
        self.eval = None
        self.checks = 0

    def on_step_end(self, step, logs=None):
        steps = int(self.model.step) + 1
        if self.solved_at is not None or steps % self.every:
            return
        self.checks += 1
        quick = evaluate(self.model, self.env_id, self.check_episodes, self.seed + 500_000)
        ok = np.mean([r for r, _ in quick]) >= self.threshold
        if ok:
            full = evaluate(self.model, self.env_id, self.confirm, self.seed)
            if np.mean([r for r, _ in full]) >= self.threshold:
                self.eval = full
                self.solved_at = (steps, time.perf_counter() - self.t0)
        self.model.training = True
        if self.solved_at is not None and self.stop:
            raise StopTraining
