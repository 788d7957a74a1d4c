"""``cartpole-dqn``: keras-rl's published CartPole example (examples/dqn_cartpole.py), as it is.

Flatten, 3 x Dense(16, relu), Dense(2, linear); SequentialMemory(limit=50000,
window_length=1); BoltzmannQPolicy; nb_steps_warmup=10; target_model_update=1e-2;
Adam(1e-3); 50,000 steps; keras-rl's own ``DQNAgent``. Then 100 greedy test episodes.
``--env CartPole-v0`` runs the 200-step original.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reproduce.dqn import run as dqn_run
from reproduce.dqn.config import DQNConfig, PolicyConfig

DESCRIPTION = "keras-rl's CartPole DQN example as published (DQNAgent, Boltzmann, 50k steps)"

KERAS_RL_EXAMPLE = DQNConfig(
    hidden=(16, 16, 16), activation="relu", memory_limit=50_000, window_length=1,
    policy=PolicyConfig("boltzmann"), test_policy=PolicyConfig("greedy"),
    nb_steps_warmup=10, target_model_update=1e-2, optimizer="adam", learning_rate=1e-3,
)


@dataclass(frozen=True)
class Config(dqn_run.RunConfig):
    """keras-rl's example: 50k steps on CartPole-v1, no early stop, 100 greedy test episodes."""

    env: str = "CartPole-v1"
    """gymnasium env id (CartPole-v0 for 200-step episodes)"""
    steps: int = 50_000
    """training steps"""
    dqn: DQNConfig = field(default_factory=lambda: KERAS_RL_EXAMPLE)
    """keras-rl's example agent"""


add_arguments, config_from_args, run, resume, build_agent, make_env = dqn_run.experiment_protocol(
    "cartpole-dqn", Config)
