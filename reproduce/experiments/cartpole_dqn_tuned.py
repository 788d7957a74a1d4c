"""``cartpole-dqn-tuned``: tuned CartPole-v1 DQN, found by measured search (bench/cartpole_dqn_search.py).

Still keras-rl's objects (SequentialMemory, LinearAnnealedPolicy over EpsGreedyQPolicy,
GreedyQPolicy, the compiled trainable model), run through :class:`FastDQNAgent`: the same
update with a faster per-step path, bootstrapping through the 500-step time limit
(truncation-aware). The schedule is rl-zoo's SB3 CartPole-v1 one (128 gradient steps every
256 env steps, the target synced after each burst, eps 1 -> 0.04 over 8,000 steps, Adam 2.3e-3,
PyTorch's initialization, gradient norm clipped at 10) on a 64x64 network with double DQN:
search round 5 candidate ``r5-64-ddqn`` (bench/results/cartpole_dqn_search_round5.txt).
Training stops once solved: every ``check_every`` steps a cheap greedy check, and if it passes,
100 greedy episodes must average >= the env's reward threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.kerasrl.config import DQNConfig, DQNRunConfig, PolicyConfig
from reproduce.kerasrl.experiment import kerasrl_experiment
from reproduce.options import nested

TUNED = DQNConfig(  # bench/cartpole_dqn_search.py candidate "r5-64-ddqn"
    hidden=(64, 64), activation="relu", init="torch", memory_limit=100_000, window_length=1,
    policy=PolicyConfig("linear-annealed-eps", value_max=1.0, value_min=0.04, nb_steps=8000),
    test_policy=PolicyConfig("greedy"),
    enable_double_dqn=True, nb_steps_warmup=1000, target_model_update=256, optimizer="adam",
    learning_rate=2.3e-3, global_clipnorm=10.0, train_interval=256, gradient_steps=128,
    batch_size=64, gamma=0.99, delta_clip=1.0, fast=True, truncation_aware=True,
)


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """The tuned agent; stops once solved (checks every 1,000 steps)."""

    check_every: int = 1_000
    """steps between greedy checks"""
    stop_when_solved: bool = True
    """train only until solved"""
    dqn: DQNConfig = nested(lambda: TUNED)


EXPERIMENT = kerasrl_experiment(
    "cartpole-dqn-tuned",
    "our tuned CartPole DQN (keras-rl objects, fast agent, truncation-aware, stops once solved)",
    Config, Report("keras-rl DQN, tuned (early stop)", table="solve",
                   notes="stops at its first confirmed solve, so its final agent is the solving one"),
)
