"""``cartpole-dqn-tuned``: tuned CartPole-v1 DQN, found by measured search (bench/cartpole_dqn_search.py).

Still keras-rl's objects (SequentialMemory, LinearAnnealedPolicy over EpsGreedyQPolicy,
GreedyQPolicy, the compiled trainable model), run through :class:`FastDQNAgent`: the same
update with a faster per-step path, bootstrapping through the 500-step time limit
(truncation-aware), with double DQN and Adam lr 1e-3: found by the search's round 3
(bench/results/cartpole_dqn_search_round3.txt), it solved 10/10 seeds where the previous
default (r2-zoo-like-64: no double DQN, lr 2.3e-3) solved 7/10, collapsing on seeds 4, 8, 9.
Training stops once solved: every ``check_every`` steps a cheap greedy check, and if it passes,
100 greedy episodes must average >= 475.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reproduce.dqn import run as dqn_run
from reproduce.dqn.config import DQNConfig, PolicyConfig

DESCRIPTION = "our tuned CartPole DQN (keras-rl objects, fast agent, truncation-aware, stops once solved)"

TUNED = DQNConfig(  # bench/cartpole_dqn_search.py candidate "r3-ddqn-lr1e-3"
    hidden=(64, 64), activation="relu", memory_limit=50_000, window_length=1,
    policy=PolicyConfig("linear-annealed-eps", value_max=1.0, value_min=0.04, nb_steps=8000),
    test_policy=PolicyConfig("greedy"),
    enable_double_dqn=True, nb_steps_warmup=1000, target_model_update=256, optimizer="adam",
    learning_rate=1e-3,
    train_interval=2, batch_size=64, gamma=0.99, delta_clip=1.0, fast=True, truncation_aware=True,
)


@dataclass(frozen=True)
class Config(dqn_run.RunConfig):
    """The tuned agent; stops once solved (checks every 1,000 steps)."""

    env: str = "CartPole-v1"
    """gymnasium env id"""
    steps: int = 50_000
    """training steps at most"""
    check_every: int = 1_000
    """steps between stop-once-solved checks"""
    check_episodes: int = 10
    """greedy episodes in each cheap check before the 100-episode confirm"""
    dqn: DQNConfig = field(default_factory=lambda: TUNED)
    """the tuned agent"""


add_arguments, config_from_args, run, resume, build_agent, make_env = dqn_run.experiment_protocol(
    "cartpole-dqn-tuned", Config)
