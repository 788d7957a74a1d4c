"""``pendulum-ddpg``: keras-rl's examples/ddpg_pendulum.py (DDPGAgent, OU noise, 50k steps), Pendulum-v1."""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.kerasrl.config import KERAS_RL, RunConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import ENV_ID, POSITIVE, option


@dataclass(frozen=True)
class Config(RunConfig):
    """The example's 50,000 steps of 200-step episodes, then 10 test episodes without noise."""

    env: str = option("Pendulum-v1", "gymnasium env id (continuous actions)", check=ENV_ID)
    eval_episodes: int = option(10, "test episodes without exploration noise", check=POSITIVE)
    check_every: int = 5_000
    """steps between greedy checks (the learning curve)"""
    check_episodes: int = 5
    """test episodes per check"""


def build(config, env, processor=None):
    from reproduce.kerasrl.examples import ddpg_pendulum

    return ddpg_pendulum(config, env, processor)


EXPERIMENT = kerasrl_experiment(
    "pendulum-ddpg", "keras-rl's DDPG Pendulum example (DDPGAgent, OU noise, 50k steps)", Config,
    Report("keras-rl example DDPG", source=KERAS_RL), hooks=Hooks(build=build),
    differences=("Pendulum-v1 (gymnasium; the script: gym's retired Pendulum-v0, the same dynamics and "
                 "200-step limit)",),
)
