"""``cartpole-gj-dqn``: garethjns's hand-written DQN on CartPole (reinforcement-learning-keras, 19c5fc2).

Dense 16 -> 8 (relu) -> 2, mse, Adam 1e-3, replay of 200 (training every step once full, batch 75),
-10 on done, the value model copied at each episode's end, eps 0.05 x 0.998 per action (floor 0.002),
500 episodes (one of the published 5 repetitions per seed), run by
:class:`reproduce.originals.garethjns_dqn.FastDQN` (numba; same actions and weights to 1e-5 as the
tf-keras reference loop, tested). ``cartpole-gj-dueling`` is the same with the dueling head.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Experiment, Report
from reproduce.options import POSITIVE, option
from reproduce.originals.garethjns_source import source

NAME = "cartpole-gj-dqn"
# The published DQNAgent.png (5 reps x 500 episodes): its mean-score line read by eye.
PUBLISHED = {50: 55.0, 100: 190.0, 150: 250.0, 200: 330.0, 250: 370.0, 300: 470.0, 400: 490.0, 500: 500.0}
WINDOW = 25  # episodes around each point (upstream's 5% moving-average window)


@dataclass(frozen=True)
class Config:
    """The published run: 500 episodes of at most 500 steps."""

    episodes: int = option(500, "training episodes (the published n_episodes)", check=POSITIVE)
    quirks: bool = option(
        True,
        "untaken actions' targets from the value (target) model, as published; "
        "false: from the action model",
    )
    eval_episodes: int = option(100, "greedy test episodes after training", check=POSITIVE)
    seed: int = 0
    """seeds the env's resets, the epsilon, action and replay draws and the initial weights"""


def make_run(name: str, dueling: bool):
    def run(config, run_dir) -> dict:
        from reproduce.originals.garethjns_dqn import FastDQN
        from reproduce.originals.garethjns_report import train_and_evaluate

        agent = FastDQN(config.seed, dueling=dueling, quirks=config.quirks)
        return train_and_evaluate(
            name, config, run_dir, agent, lambda a, each: a.train(config.episodes, each)
        )

    return run


def make_report(
    name: str, agent: str, title: str, points: dict, window: int, reps: int, path: str
) -> Report:
    def published(runs) -> list[dict]:
        from reproduce.originals.garethjns_report import curve_verdicts

        return curve_verdicts(runs, name, f"{agent} mean score", points, window)

    def figure(runs, out_dir):
        from reproduce.originals.garethjns_report import figure

        return figure(name, title, points, reps)(runs, out_dir)

    return Report(
        agent,
        table="solve",
        published=published,
        figures=(figure,),
        source=source(path),
        notes="Trained on CartPole-v0 with its 200-step limit removed and a 500-step loop cap, which is "
        "CartPole-v1's task; so the greedy test runs CartPole-v1 and its threshold (475) decides "
        f"solved. The published curve is compared at a few episodes read from its figure (mean "
        f"over {window} episodes around each).",
    )


DIFFERENCES = (
    "seeded streams (env resets, epsilon draws, action-space samples, replay indices, initial weights) where "
    "upstream seeded nothing; gymnasium's CartPole-v0 unwrapped (same physics, float32 observations)",
    "initial weights drawn by numpy with Keras's glorot-uniform/zeros rule and set on both models",
    "the unused clip + StandardScaler pipeline (fitted on 100,000 samples upstream, never applied) "
    "is not built",
    "Adam is tf-keras's legacy class (the package runs Keras in graph mode; the same update)",
    "the fast run (numba, float64) replays the reference loop's draws: same actions, weights to ~1e-5",
    "one seed is one of the published repetitions; the report's curve pools the seeds as upstream's plot",
)

EXPERIMENT = Experiment(
    NAME,
    "garethjns's DQN on CartPole (Dense 16-8, replay 200, batch 75, -10 on done), 500 episodes, numba",
    Config,
    make_run(NAME, False),
    make_report(
        NAME,
        "DQN (reinforcement-learning-keras)",
        "garethjns DQN on CartPole",
        PUBLISHED,
        WINDOW,
        5,
        "agents/cart_pole/q_learning/deep_q_agent.py",
    ),
    differences=DIFFERENCES,
)
