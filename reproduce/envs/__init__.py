"""Environments: NChain-v0 and Catch-v0 (registered with gymnasium on import) and their exact solvers."""

import gymnasium as gym

from reproduce.envs.catch import LEFT, RIGHT, STAY, CatchEnv
from reproduce.envs.catch_solver import (
    CatchSolution,
    catch_observations,
    catch_starts,
    catch_states,
    greedy_win_rate,
    solve_catch,
)
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

CATCH_ID = "Catch-v0"
if CATCH_ID not in gym.registry:  # episodes end after grid_size - 1 steps: no time limit
    gym.register(id=CATCH_ID, entry_point="reproduce.envs.catch:CatchEnv")

__all__ = [
    "BACKWARD", "FORWARD", "NCHAIN_ID", "NChainEnv", "NChainSolution",
    "episode_return", "policy_string", "q_star", "solve",
    "eps_greedy_probs", "q_pi",
    "CATCH_ID", "LEFT", "RIGHT", "STAY", "CatchEnv", "CatchSolution", "catch_observations",
    "catch_starts", "catch_states", "greedy_win_rate", "solve_catch",
]
