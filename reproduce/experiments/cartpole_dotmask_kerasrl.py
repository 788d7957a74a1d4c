"""``cartpole-dotmask-kerasrl``: the Dot-mask notebook's task through keras-rl's ``DQNAgent``.

The notebook's network (Dense(4, relu) x 2), replay of 5,000, batch 128, gamma 0.9, RMSprop,
5,000 observe steps and 100,000 steps on CartPole-v0. keras-rl masks the chosen action inside
its own loss, so no Dot layer is needed; ``target_model_update=1`` copies the online network
every step, which is the notebook's single network.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.experiments.cartpole_dotmask import SOURCE as NOTEBOOK
from reproduce.kerasrl.config import DQNConfig, DQNRunConfig, PolicyConfig
from reproduce.kerasrl.experiment import kerasrl_experiment
from reproduce.options import ENV_ID, POSITIVE, nested, option

NOTEBOOK_DQN = DQNConfig(
    hidden=(4, 4), activation="relu", memory_limit=5_000, window_length=1, batch_size=128, gamma=0.9,
    policy=PolicyConfig("linear-annealed-eps", value_max=0.1, value_min=1e-4, nb_steps=5_066),
    test_policy=PolicyConfig("greedy"), nb_steps_warmup=5_000, target_model_update=1, optimizer="rmsprop",
    learning_rate=1e-3, train_interval=1, fast=True,
)


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """The notebook's budget on CartPole-v0, then 100 greedy test episodes."""

    env: str = option("CartPole-v0", "gymnasium env id", check=ENV_ID)
    steps: int = option(100_000, "training steps (the notebook's TIME_LIMIT)", check=POSITIVE)
    check_every: int = 5_000
    """steps between greedy checks (the learning curve, at the notebook's print points)"""
    dqn: DQNConfig = nested(lambda: NOTEBOOK_DQN)


EXPERIMENT = kerasrl_experiment(
    "cartpole-dotmask-kerasrl", "the Dot-mask notebook's task through keras-rl's DQNAgent (4x4 net, RMSprop)",
    Config, Report("keras-rl DQN, notebook settings", table="solve", source=NOTEBOOK),
    differences=(
        "keras-rl's LinearAnnealedPolicy from 0.1 to 1e-4 over 5,066 steps stands in for the notebook's "
        "eps x 0.9 per step after step 5,000 (keras-rl has no multiplicative schedule); both are greedy "
        "after step 5,066",
        "FastDQNAgent (the same update as keras-rl's DQNAgent, tested to 1e-5) so 100k steps fit the suite",
        "keras-rl samples its replay without replacement from what is stored and handles resets",
    ),
)
