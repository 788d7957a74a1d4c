"""``pendulum-naf``: keras-rl's examples/naf_pendulum.py (NAFAgent, rewards / 100, 50k steps), Pendulum-v1."""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.dqn.config import RunConfig
from reproduce.dqn.experiment import dqn_experiment
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


def processor(env):
    from reproduce.examples import PendulumProcessor

    return PendulumProcessor()


def build(config, env, processor=None):
    from reproduce.examples import naf_pendulum

    return naf_pendulum(config, env, processor)


EXPERIMENT = dqn_experiment(
    "pendulum-naf", "keras-rl's NAF Pendulum example (NAFAgent, rewards / 100, 50k steps)", Config,
    "keras-rl example NAF", build=build, processor_for=processor,
    differences=("Pendulum-v1 (gymnasium; the script: gym's retired Pendulum-v0, the same dynamics and "
                 "200-step limit); test returns are in the env's own units (the processor divides the "
                 "training rewards by 100)",),
)
