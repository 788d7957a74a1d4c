"""``mountaincar-gj-linear``: garethjns's linear Q on MountainCar (reinforcement-learning-keras, 7264d6b).

The CartPole agent (``cartpole-gj-linear``) unchanged on ``MountainCar-v0``: clip, StandardScaler, three
RBFSamplers (gamma 100, 1, 0.02; 60 components), an ``SGDRegressor`` per action; 500 episodes of at most
1,000 steps (one of the published 6 repetitions per seed), with its done targets as published: -200 both
on reaching the flag and on the 1,000th step (the subclass's ``_final_reward`` 500 is dead code).
``--no-quirks``: the goal gets 500 and the cap bootstraps. Run by
:class:`reproduce.originals.garethjns_linear.FastLinearQ` (numba, tested against the scikit-learn loop).
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Experiment, Report
from reproduce.experiments.cartpole_gj_linear import LINEAR_DIFFERENCES
from reproduce.options import POSITIVE, option
from reproduce.originals.garethjns_source import source

NAME = "mountaincar-gj-linear"
COMMIT = "7264d6b"
# The published LinearQAgentMC.png (6 reps x 500 episodes): its mean-score line, read off the figure's
# pixels (the line's mean height over +-12 episodes around each point).
PUBLISHED = {50: -856.0, 100: -656.0, 150: -427.0, 200: -379.0, 250: -282.0, 300: -353.0, 350: -238.0,
             400: -243.0, 450: -321.0, 500: -312.0}
WINDOW = 25  # episodes around each point (upstream's 5% moving-average window)
EVAL_ENV = "MountainCar-v0"
EVAL_CAP = 1000  # the greedy test keeps the trained task's 1,000-step limit


@dataclass(frozen=True)
class Config:
    """The published run: 500 episodes of at most 1,000 steps."""

    episodes: int = option(500, "training episodes (the published n_episodes)", check=POSITIVE)
    quirks: bool = option(
        True,
        "target -200 on reaching the flag and on the 1,000th step, as published; false: the subclass's "
        "final reward 500 on the flag, the cap bootstraps",
    )
    eval_episodes: int = option(100, "greedy test episodes after training", check=POSITIVE)
    seed: int = 0
    """seeds the env's resets, the epsilon and action draws, the scaler's samples and the RBF samplers"""


def run(config: Config, run_dir) -> dict:
    from reproduce.originals.garethjns_linear import FastLinearQ
    from reproduce.originals.garethjns_report import train_and_evaluate

    agent = FastLinearQ(config.seed, "mountaincar", quirks=config.quirks)
    return train_and_evaluate(
        NAME, config, run_dir, agent, lambda a, each: a.train(config.episodes, each),
        eval_env_id=EVAL_ENV, max_episode_steps=EVAL_CAP,
    )


def make_report(name: str, agent: str, title: str, points: dict, window: int, reps: int, path: str,
                commit: str) -> Report:
    def published(runs) -> list[dict]:
        from reproduce.originals.garethjns_report import MOUNTAINCAR_RANGE, curve_verdicts

        return curve_verdicts(runs, name, f"{agent} mean score", points, window, MOUNTAINCAR_RANGE)

    def figure(runs, out_dir):
        from reproduce.originals.garethjns_report import figure

        return figure(name, title, points, reps, clip_band=False)(runs, out_dir)

    return Report(
        agent,
        table="solve",
        published=published,
        figures=(figure,),
        source=source(path, commit),
        notes="Trained on MountainCar-v0 with the loop's 1,000-step limit (gym 0.17's TimeLimit set to it); "
        "the greedy test runs MountainCar-v0 with the same limit and its threshold (-110) decides solved. "
        "The published curve is compared at a few episodes read from its figure "
        f"(mean over {window} episodes around each).",
    )


MOUNTAINCAR_DIFFERENCES = (
    "gymnasium's MountainCar-v0 unwrapped (the same physics) with the 1,000-step limit applied by the loop, "
    "done on the 1,000th step as gym 0.17's TimeLimit reported it; one env for the whole run where "
    "upstream's checkpoint every 10 episodes (pickling) made a new one (new seed)",
    "the greedy test plays MountainCar-v0 (float32 observations) with a 1,000-step limit; upstream's "
    "play_best plays one episode of the best repetition",
)

EXPERIMENT = Experiment(
    NAME,
    "garethjns's linear Q on MountainCar (the CartPole agent; -200 on the flag and on the cap), "
    "500 episodes, numba",
    Config,
    run,
    make_report(
        NAME, "linear Q on MountainCar (reinforcement-learning-keras)", "garethjns linear Q on MountainCar",
        PUBLISHED, WINDOW, 6, "agents/mountain_car/q_learning/linear_q_agent.py", COMMIT,
    ),
    differences=(
        *MOUNTAINCAR_DIFFERENCES,
        "the scaler's samples come from MountainCar's observation box (the same bounds in gym 0.17 and "
        "gymnasium)",
        *LINEAR_DIFFERENCES,
    ),
)
