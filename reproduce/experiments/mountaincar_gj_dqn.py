"""``mountaincar-gj-dqn``: garethjns's DQN on MountainCar (reinforcement-learning-keras, 3888e91).

The CartPole DQN (Dense 16 -> 8 -> 3, mse, replay 200, batch 75, eps 0.05 x 0.998 per action) on
``MountainCar-v0``, 500 episodes of at most 1,000 steps (one of the published 6 repetitions per seed), as
the code ran: Adam 1e-3 (the subclass's 0.0025 never reaches the instance), target -10 on every done (the
flag and the 1,000th step; the subclass's 650 is dead code) and Adam restarted by the checkpoint every 10
episodes (:mod:`reproduce.originals.garethjns_mountaincar`). ``--no-quirks``: 0.0025, 650 on the flag, the
cap bootstraps, no restart. Run by :class:`reproduce.originals.garethjns_mountaincar.FastMountainCarDQN`
(numba; the same actions and weights to 1e-5 as the tf-keras reference loop, tested).
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Experiment
from reproduce.experiments.mountaincar_gj_linear import (
    EVAL_CAP,
    EVAL_ENV,
    MOUNTAINCAR_DIFFERENCES,
    make_report,
)
from reproduce.options import POSITIVE, option

NAME = "mountaincar-gj-dqn"
COMMIT = "3888e91"
# The published DeepQAgentMC.png (6 reps x 500 episodes; its title says DQNAgent): its mean-score line,
# read off the figure's pixels (the line's mean height over +-12 episodes around each point).
PUBLISHED = {50: -920.0, 100: -933.0, 150: -889.0, 200: -834.0, 250: -669.0, 300: -748.0, 350: -603.0,
             400: -859.0, 450: -663.0, 500: -746.0}
WINDOW = 25


@dataclass(frozen=True)
class Config:
    """The published run: 500 episodes of at most 1,000 steps."""

    episodes: int = option(500, "training episodes (the published n_episodes)", check=POSITIVE)
    quirks: bool = option(
        True,
        "as the code ran (Adam 1e-3, -10 on the flag and on the cap, Adam restarted every 10 episodes); "
        "false: as declared (0.0025, 650 on the flag, the cap bootstraps, no restart)",
    )
    eval_episodes: int = option(100, "greedy test episodes after training", check=POSITIVE)
    seed: int = 0
    """seeds the env's resets, the epsilon, action and replay draws and the initial weights"""


def run(config: Config, run_dir) -> dict:
    from reproduce.originals.garethjns_mountaincar import FastMountainCarDQN
    from reproduce.originals.garethjns_report import train_and_evaluate

    agent = FastMountainCarDQN(config.seed, quirks=config.quirks)
    return train_and_evaluate(
        NAME, config, run_dir, agent, lambda a, each: a.train(config.episodes, each),
        eval_env_id=EVAL_ENV, max_episode_steps=EVAL_CAP,
    )


EXPERIMENT = Experiment(
    NAME,
    "garethjns's DQN on MountainCar (the CartPole DQN; -10 on every done, Adam restarted every 10 "
    "episodes), 500 episodes, numba",
    Config,
    run,
    make_report(
        NAME, "DQN on MountainCar (reinforcement-learning-keras)", "garethjns DQN on MountainCar",
        PUBLISHED, WINDOW, 6, "agents/mountain_car/q_learning/deep_q_agent.py", COMMIT,
    ),
    differences=(
        *MOUNTAINCAR_DIFFERENCES,
        "seeded streams (env resets, epsilon draws, action-space samples, replay indices, initial weights) "
        "where upstream seeded nothing; observations are the env's float64 state as gym 0.17 returned "
        "them (the network sees them as float32 either way)",
        "initial weights drawn by numpy with Keras's glorot-uniform/zeros rule and set on both models; the "
        "checkpoint's rebuilt models keep the action model's weights, so only Adam's state restarts",
        "the unused clip + StandardScaler pipeline (fitted on 100,000 samples upstream, never applied) "
        "is not built; Adam is tf-keras's legacy class (the package runs Keras in graph mode; the same "
        "update)",
        "the fast run (numba, float64) replays the reference loop's draws: same actions, weights to ~1e-6",
        "one seed is one of the published repetitions; the report's curve pools the seeds as upstream's plot",
    ),
)
