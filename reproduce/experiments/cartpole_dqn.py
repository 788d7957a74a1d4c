"""``cartpole-dqn``: keras-rl's published CartPole example (examples/dqn_cartpole.py), as it is.

Flatten, 3 x Dense(16, relu), Dense(2, linear); SequentialMemory(limit=50000,
window_length=1); BoltzmannQPolicy; nb_steps_warmup=10; target_model_update=1e-2;
Adam(1e-3); 50,000 steps; keras-rl's own ``DQNAgent``. Then 100 greedy test episodes.
``--env CartPole-v0`` runs the 200-step original.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.kerasrl.config import KERAS_RL, DQNConfig, DQNRunConfig, PolicyConfig
from reproduce.kerasrl.experiment import kerasrl_experiment
from reproduce.options import nested

KERAS_RL_EXAMPLE = DQNConfig(
    hidden=(16, 16, 16), activation="relu", memory_limit=50_000, window_length=1,
    policy=PolicyConfig("boltzmann"), test_policy=PolicyConfig("greedy"),
    nb_steps_warmup=10, target_model_update=1e-2, optimizer="adam", learning_rate=1e-3,
)


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """keras-rl's example: 50k steps on CartPole-v1, no early stop, 100 greedy test episodes."""

    check_every: int = 2_500
    """steps between greedy checks (the learning curve; training runs all steps, as published)"""
    dqn: DQNConfig = nested(lambda: KERAS_RL_EXAMPLE)


def published(runs) -> list[dict]:
    from reproduce.compare import learns_row

    return learns_row("keras-rl CartPole example learns (solves CartPole-v1)", runs, "CartPole-v1")


EXPERIMENT = kerasrl_experiment(
    "cartpole-dqn", "keras-rl's CartPole DQN example as published (DQNAgent, Boltzmann, 50k steps)", Config,
    Report("keras-rl example DQN", table="solve", published=published, source=KERAS_RL),
    differences=("keras-rl2 treats the 500-step time limit as terminal; kept, to stay faithful",),
)
