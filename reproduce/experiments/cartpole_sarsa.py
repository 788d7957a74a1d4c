"""``cartpole-sarsa``: keras-rl's examples/sarsa_cartpole.py (SARSAAgent, 3 x Dense(16), Boltzmann, 5k)."""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.kerasrl.config import KERAS_RL, RunConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import POSITIVE, option


@dataclass(frozen=True)
class Config(RunConfig):
    """The example's 5,000 training steps, then 100 greedy test episodes."""

    steps: int = option(5_000, "training steps (the example: 5,000)", check=POSITIVE)
    check_every: int = 1_000
    """steps between greedy checks (the learning curve)"""


def build(config, env, processor=None):
    from reproduce.kerasrl.examples import sarsa_cartpole

    return sarsa_cartpole(config, env, processor)


EXPERIMENT = kerasrl_experiment(
    "cartpole-sarsa", "keras-rl's SARSA CartPole example (SARSAAgent, Boltzmann, 5k steps)", Config,
    Report("keras-rl example SARSA", table="solve", source=KERAS_RL), hooks=Hooks(build=build),
    differences=("CartPole-v1 by default (the script: CartPole-v0, `--env CartPole-v0`)",),
)
