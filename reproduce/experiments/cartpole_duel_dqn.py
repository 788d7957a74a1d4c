"""``cartpole-duel-dqn``: keras-rl's examples/duel_dqn_cartpole.py (dueling DQN, 'avg' head, 50k steps)."""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.experiments.cartpole_dqn import KERAS_RL_EXAMPLE
from reproduce.kerasrl.config import KERAS_RL, DQNConfig, DQNRunConfig
from reproduce.kerasrl.experiment import kerasrl_experiment
from reproduce.options import nested


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """The example: keras-rl's CartPole DQN with ``enable_dueling_network=True, dueling_type='avg'``."""

    check_every: int = 2_500
    """steps between greedy checks (the learning curve)"""
    dqn: DQNConfig = nested(lambda: KERAS_RL_EXAMPLE.replace(enable_dueling_network=True, dueling_type="avg"))


EXPERIMENT = kerasrl_experiment(
    "cartpole-duel-dqn", "keras-rl's dueling DQN CartPole example (DQNAgent, dueling 'avg' head, 50k steps)",
    Config, Report("keras-rl example dueling DQN", table="solve", source=KERAS_RL),
    differences=("CartPole-v1 by default (the script: CartPole-v0, `--env CartPole-v0`)",),
)
