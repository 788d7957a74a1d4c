"""``cartpole-cem``: keras-rl's examples/cem_cartpole.py (CEMAgent, linear softmax policy, 100,000 steps)."""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.kerasrl.config import KERAS_RL, RunConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import POSITIVE, option


@dataclass(frozen=True)
class Config(RunConfig):
    """The example's 100,000 training steps, then 100 greedy test episodes (CEM's best parameters)."""

    steps: int = option(100_000, "training steps (the example: 100,000)", check=POSITIVE)
    check_every: int = 10_000
    """steps between greedy checks (the learning curve)"""


def build(config, env, processor=None):
    from reproduce.kerasrl.examples import cem_cartpole

    return cem_cartpole(config, env, processor)


EXPERIMENT = kerasrl_experiment(
    "cartpole-cem", "keras-rl's CEM CartPole example (CEMAgent, linear softmax policy, 100k steps)", Config,
    Report("keras-rl example CEM", table="solve", source=KERAS_RL), hooks=Hooks(build=build),
    differences=("CartPole-v1 by default (the script: CartPole-v0, `--env CartPole-v0`)",),
)
