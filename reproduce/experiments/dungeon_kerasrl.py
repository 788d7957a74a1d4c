"""``dungeon-kerasrl``: the DeepGambler's network in keras-rl's ``DQNAgent``, beside the one-sample update.

Valohai's tutorial part 3 trains one-hot(5) -> Dense(16, sigmoid) -> Dense(16, sigmoid) -> Dense(2) on
one transition per step (``dungeon-deepgambler``). Here the same network, loss (squared error), optimizer
(SGD, lr 0.1), discount (0.95) and exploration (epsilon 1 -> 0 linearly over the run, the tutorial's
``exploration_delta = 1 / iterations``, as keras-rl's ``LinearAnnealedPolicy``) learn through keras-rl's
``DQNAgent`` instead, with what keras-rl's ``dqn_cartpole.py`` example adds around it: a
``SequentialMemory(limit=50000)``, minibatches of 32 (keras-rl's default), training from step 10
(``nb_steps_warmup=10``) and a target network updated softly (``target_model_update=1e-2``).

Dungeon-v0 never ends, so keras-rl's loop runs on ``DungeonCapped-v0``: the same dungeon cut into
250-step episodes (the tutorial's print window), each starting on tile 0, bootstrapped through the cut
(``truncation_aware``: FastDQNAgent, keras-rl's update through faster session calls). Each training
episode is thus one of the tutorial's printed windows; the greedy test plays 250-step episodes.

Scores, against the exact solution (:func:`reproduce.envs.solve_dungeon`): the training reward per step
in each 250-step window (``performance.csv``), the greedy test's reward per step against the optimal
policy's exact expectation over the same 250 steps from tile 0, and, as for ``dungeon-deepgambler``, the
final greedy policy's exact long-run reward per step against the optimal 6.105 and Q against Q*.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Column, Report
from reproduce.errors import ConfigError
from reproduce.experiments.dungeon_qlearning import SOURCE
from reproduce.kerasrl.config import DQNConfig, DQNRunConfig, PolicyConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import ENV_ID, POSITIVE, nested, option
from reproduce.originals.dungeon import settings
from reproduce.runs import RunDir

NAME = "dungeon-kerasrl"
DEEPGAMBLER = "dungeon-deepgambler"
PERFORMANCE = RunDir.PERFORMANCE
TUTORIAL = settings("2019")  # train.py's DeepGambler at 2f6aac0
DEEPGAMBLER_DQN = DQNConfig(
    hidden=(TUTORIAL.units, TUTORIAL.units), activation="sigmoid", memory_limit=50_000, window_length=1,
    batch_size=32,
    policy=PolicyConfig("linear-annealed-eps", value_max=1.0, value_min=0.0, value_test=0.0, nb_steps=10_000),
    test_policy=PolicyConfig("greedy"), nb_steps_warmup=10, target_model_update=1e-2, optimizer="sgd",
    learning_rate=TUTORIAL.learning_rate, train_interval=1, gamma=TUTORIAL.discount, fast=True,
    truncation_aware=True,
)
"""The DeepGambler's network, loss, optimizer, discount and exploration; keras-rl's example for the rest.
The policy's ``nb_steps`` follows ``--steps`` (see :func:`build`)."""
COLUMNS = (
    Column("training reward/step", "train_reward_per_step"),
    Column("last 250-step window", "last_window"),
    Column("greedy test reward/step", "greedy_reward_per_step"),
    Column("optimal policy, same test", "optimal_window_reward_per_step"),
    Column("greedy policy optimal (share)", "policy_optimal"),
)
NOTES = (
    "keras-rl's DQNAgent (replay 50,000, batch 32, warm-up 10, soft target 1e-2) with the DeepGambler's "
    "network, SGD 0.1, discount 0.95 and epsilon 1 -> 0 over the run, on the dungeon cut into 250-step "
    "episodes (DungeonCapped-v0, bootstrapped through the cut). 'greedy return' is, as for "
    "dungeon-deepgambler, the exact long-run reward per step of the final greedy policy (optimum 6.105); "
    "'greedy test reward/step' is the mean of the greedy 250-step test episodes from tile 0, next to the "
    "optimal policy's exact expectation over the same episodes."
)


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """valohai.yaml's 10,000 steps as 40 episodes of 250, then 10 greedy 250-step test episodes."""

    env: str = option("DungeonCapped-v0", "gymnasium env id (the dungeon in 250-step episodes)",
                      check=ENV_ID)
    steps: int = option(10_000, "training steps (valohai.yaml: 10000; train.py: 2000)", check=POSITIVE)
    eval_episodes: int = option(10, "greedy 250-step test episodes at the end", check=POSITIVE)
    dqn: DQNConfig = nested(lambda: DEEPGAMBLER_DQN)


def check(config: Config) -> None:
    """keras-rl's loop and the greedy test need episodes: a time-limited env with Discrete observations."""
    import gymnasium as gym

    import reproduce.envs  # noqa: F401  (registers DungeonCapped-v0)

    spec = gym.spec(config.env)
    space = spec.make().observation_space
    if not isinstance(space, gym.spaces.Discrete) or spec.max_episode_steps is None:
        raise ConfigError(f"{NAME} needs a time-limited env with Discrete observations (one-hot input), but "
                          f"{config.env} observes {space} with max_episode_steps={spec.max_episode_steps}; "
                          f"pass --env DungeonCapped-v0")


def processor(env):
    from reproduce.adapters import OneHotProcessor

    return OneHotProcessor(int(env.observation_space.n))


def build(config: Config, env, processor=None):
    """The configured DQNAgent, epsilon annealed over the whole run (the tutorial's 1 / iterations)."""
    from reproduce.kerasrl.builders import build_agent

    dqn = config.dqn
    if dqn.policy.name == "linear-annealed-eps":
        dqn = dqn.replace(policy=dataclasses.replace(dqn.policy, nb_steps=config.steps))
    return build_agent(dqn, int(env.action_space.n), (processor.n,), processor=processor)


def against_optimum(agent, run, config: Config) -> dict:
    """After training: the windows of the training stream (``performance.csv``), the greedy test per step,
    the final greedy policy's exact gain and Q against Q* (``q_table.csv``)."""
    import gymnasium as gym
    import numpy as np
    import pandas as pd

    from callbacks import load_rewards
    from reproduce.envs import policy_string, solve_dungeon
    from reproduce.envs.dungeon import DUNGEON, average_reward, expected_rewards
    from reproduce.experiments.nchain_dqn import q_table
    from reproduce.runs import write_csv

    cap = int(gym.spec(config.env).max_episode_steps)
    solution = solve_dungeon(config.dqn.gamma)
    q = q_table(agent, run)
    greedy = np.argmax(q, axis=1)  # keras-rl's GreedyQPolicy: np.argmax, a tie to FORWARD
    probs = np.zeros(q.shape)
    probs[np.arange(len(q)), greedy] = 1.0
    gain = average_reward(probs, **DUNGEON)
    policy = policy_string(greedy)
    episodes = load_rewards(run.file(RunDir.EPISODES))
    windows = (episodes.r / episodes.l).to_numpy()
    optimal_window = float(expected_rewards(solution.policy, cap, **DUNGEON).mean())
    write_csv(run.file(PERFORMANCE), pd.DataFrame({
        "step": episodes.l.cumsum().to_numpy(), "kerasrl": windows,
        "optimum_expected": optimal_window, "optimal_gain": solution.average_reward}))
    finite = bool(np.isfinite(q).all())
    return {
        "episode_cap": cap, "policy": policy, "policy_optimal": float(policy == solution.policy_string),
        "mean_return": gain, "optimal_return": solution.average_reward,
        "regret": solution.average_reward - gain,
        "max_abs_q_error": float(np.abs(q - solution.q).max()) if finite else None,
        "train_reward_per_step": float(episodes.r.sum() / episodes.l.sum()) if len(episodes) else None,
        "last_window": float(windows[-1]) if len(windows) else None,
        "greedy_reward_per_step": float(run.summary.eval_mean) / cap,
        "optimal_window_reward_per_step": optimal_window,
    }


def figures(runs, out: Path):
    """The training stream's 250-step windows beside the DeepGambler's printed performance; the optimum."""
    import numpy as np

    from reproduce import figures as fig_

    mine = [r for r in runs if r.experiment == NAME and PERFORMANCE in r.files]
    groups: dict[int, list] = {}
    for r in mine:
        groups.setdefault(int(r.config.get("steps", 0)), []).append(r)
    out_figures = []
    for steps, group in sorted(groups.items()):
        n = min(len(r.files[PERFORMANCE]) for r in group)
        if n == 0:
            continue
        frame = group[0].files[PERFORMANCE].iloc[:n]
        plt = fig_.plt()
        fig, ax = plt.subplots(figsize=fig_.SIZE)
        data = np.stack([r.files[PERFORMANCE].kerasrl.to_numpy()[:n] for r in group])
        fig_.band(ax, frame.step, data, "keras-rl DQNAgent")
        deep = [r for r in runs if r.experiment == DEEPGAMBLER and PERFORMANCE in r.files
                and r.config.get("iterations") == steps and r.config.get("variant", "2019") == "2019"
                and r.config.get("implementation", "fast") == "fast"]
        for r in sorted(deep, key=lambda r: not r.config.get("quirks", True)):
            d = r.files[PERFORMANCE]
            tag = "zero kernels" if r.config.get("quirks", True) else "glorot"
            ax.plot(d.step, d.deepgambler, lw=1, alpha=0.8, label=f"DeepGambler, {tag}")
        ax.axhline(float(frame.optimum_expected.iat[0]), color="k", ls="--", lw=1,
                   label="optimal policy, from tile 0")
        ax.axhline(float(frame.optimal_gain.iat[0]), color="k", lw=0.6, alpha=0.6, label="optimal gain 6.105")
        fig_.label(ax, "step", "reward per step, last 250 steps",
                   f"Valohai dungeon: keras-rl's DQNAgent ({steps} steps)",
                   outside=True)
        caption = (
            f"Reward per step in each 250-step window of the training stream, {steps} steps: keras-rl's "
            f"DQNAgent with the DeepGambler's network ({fig_.band_caption(len(group))}; each window is one "
            f"250-step episode from tile 0) beside dungeon-deepgambler's printed performance at the same "
            f"budget where the report holds it (the mean of its streams, hidden kernels at zero as published "
            f"or glorot); epsilon falls from 1 to 0 over the run in both."
        )
        out_figures.append((fig_.save(fig, out / f"dungeon_kerasrl_{steps}.png"), caption))
    return out_figures


EXPERIMENT = kerasrl_experiment(
    NAME, "Valohai's dungeon: the DeepGambler's network in keras-rl's DQNAgent (replay, target net)",
    Config,
    Report("keras-rl DQNAgent, DeepGambler's network", table="optimum", columns=COLUMNS, notes=NOTES,
           figures=(figures,), source=SOURCE),
    hooks=Hooks(build=build, processor_for=processor, after_training=against_optimum), check=check,
    differences=(
        "keras-rl's DQNAgent learns from a replay memory (SequentialMemory(limit=50000), keras-rl's "
        "dqn_cartpole.py) in minibatches of 32 (its default) from step 10 (the example's warm-up), with a "
        "target network updated softly at 1e-2 per step (the example's); the tutorial fits the one "
        "transition just played towards r + 0.95 max Q(s') of the same network",
        "the loss is keras-rl's masked squared error, 0.5 (Q - target)^2 on the action taken, averaged over "
        "the batch: per transition the same gradient as the tutorial's Keras mse over two outputs",
        "the dungeon is cut into 250-step episodes (DungeonCapped-v0; keras-rl's fit and the greedy test "
        "need episode ends), each restarting on tile 0; the cut is bootstrapped through (truncation-aware "
        "FastDQNAgent, keras-rl's update through direct session calls), so only the restarts differ from "
        "the tutorial's one stream",
        "Keras's default initializers (glorot-uniform kernels, zero biases) where the tutorial's hidden "
        "kernels start at zero (dungeon-deepgambler --no-quirks is the tutorial with glorot kernels)",
        "keras-rl's EpsGreedyQPolicy draws from numpy's global generator and explores with a uniform action; "
        "keras-rl2's fit runs one more forward and backward after each episode end (its own quirk)",
    ),
)
