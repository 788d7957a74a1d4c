"""``pendulum-naf``: keras-rl's examples/naf_pendulum.py (NAFAgent, rewards / 100, 50k steps), Pendulum-v1."""

from __future__ import annotations

from reproduce.contract import Report
from reproduce.experiments.pendulum_ddpg import Config  # the same budget: 50k steps, 10 test episodes
from reproduce.kerasrl.config import KERAS_RL
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment


def processor(env):
    from reproduce.kerasrl.examples import PendulumProcessor

    return PendulumProcessor()


def build(config, env, processor=None):
    from reproduce.kerasrl.examples import naf_pendulum

    return naf_pendulum(config, env, processor)


EXPERIMENT = kerasrl_experiment(
    "pendulum-naf", "keras-rl's NAF Pendulum example (NAFAgent, rewards / 100, 50k steps)", Config,
    Report("keras-rl example NAF", source=KERAS_RL), hooks=Hooks(build=build, processor_for=processor),
    differences=("Pendulum-v1 (gymnasium; the script: gym's retired Pendulum-v0, the same dynamics and "
                 "200-step limit); test returns are in the env's own units (the processor divides the "
                 "training rewards by 100)",),
)
