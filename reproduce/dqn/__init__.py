"""keras-rl2's DQNAgent on NChain and CartPole: typed configs, builders, a fast agent subclass."""

from reproduce.dqn.agent import TERMINATED, TRUNCATED, FastDQNAgent, TruncationProcessor
from reproduce.dqn.builders import (
    build_agent,
    build_memory,
    build_model,
    build_optimizer,
    build_policy,
    check_env_id,
    validate,
)
from reproduce.dqn.config import POLICIES, DQNConfig, PolicyConfig

__all__ = [
    "POLICIES", "TERMINATED", "TRUNCATED", "DQNConfig", "FastDQNAgent", "PolicyConfig",
    "TruncationProcessor", "build_agent", "build_memory", "build_model", "build_optimizer",
    "build_policy", "check_env_id", "validate",
]
