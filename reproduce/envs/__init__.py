"""Environments: NChain-v0 (registered with gymnasium on import) and its exact solver."""

import gymnasium as gym

from reproduce.envs.nchain import BACKWARD, FORWARD, NChainEnv
from reproduce.envs.solver import (
    NChainSolution,
    episode_return,
    eps_greedy_probs,
    policy_string,
    q_pi,
    q_star,
    solve,
)

NCHAIN_ID = "NChain-v0"
if NCHAIN_ID not in gym.registry:
    gym.register(
        id=NCHAIN_ID,
        entry_point="reproduce.envs.nchain:NChainEnv",
        max_episode_steps=1000,
    )

__all__ = [
    "BACKWARD", "FORWARD", "NCHAIN_ID", "NChainEnv", "NChainSolution",
    "episode_return", "policy_string", "q_star", "solve",
    "eps_greedy_probs", "q_pi",
]
