"""Environments: NChain-v0, Catch-v0 and Snake-v0 (registered with gymnasium on import) and exact solvers."""

import gymnasium as gym

from reproduce.envs.blob import PART4, PART6, BlobEnv
from reproduce.envs.catch import LEFT, RIGHT, STAY, CatchEnv
from reproduce.envs.catch_solver import (
    CatchSolution,
    catch_observations,
    catch_starts,
    catch_states,
    greedy_win_rate,
    solve_catch,
)
from reproduce.envs.dungeon import DUNGEON_ID, DungeonSolution, solve_dungeon
from reproduce.envs.nchain import BACKWARD, FORWARD, NChainEnv
from reproduce.envs.snake import SnakeEnv
from reproduce.envs.solver import (
    NChainSolution,
    episode_return,
    eps_greedy_probs,
    policy_string,
    q_pi,
    q_star,
    solve_nchain,
)

NCHAIN_ID = "NChain-v0"
if NCHAIN_ID not in gym.registry:
    gym.register(
        id=NCHAIN_ID,
        entry_point="reproduce.envs.nchain:NChainEnv",
        max_episode_steps=1000,
    )

if DUNGEON_ID not in gym.registry:  # Valohai's dungeon: one endless stream of steps, no time limit
    gym.register(id=DUNGEON_ID, entry_point="reproduce.envs.nchain:NChainEnv", kwargs={"slip": 0.1})

DUNGEON_CAPPED_ID = "DungeonCapped-v0"  # for runners that make their env from an id alone (keras-rl's): the
if DUNGEON_CAPPED_ID not in gym.registry:  # dungeon cut into 250-step episodes (the tutorial's print window)
    gym.register(id=DUNGEON_CAPPED_ID, entry_point="reproduce.envs.nchain:NChainEnv", kwargs={"slip": 0.1},
                 max_episode_steps=250)

BLOB_ID = "Blob-v0"
if BLOB_ID not in gym.registry:  # part 4's rules by default; gym.make(BLOB_ID, **PART6) for part 6's BlobEnv
    gym.register(id=BLOB_ID, entry_point="reproduce.envs.blob:BlobEnv")
BLOB_IMAGE_ID = "BlobImage-v0"  # Blob-v0 with PART6, for runners that make their env from an id alone
if BLOB_IMAGE_ID not in gym.registry:
    gym.register(id=BLOB_IMAGE_ID, entry_point="reproduce.envs.blob:BlobEnv", kwargs=dict(PART6))

CATCH_ID = "Catch-v0"
if CATCH_ID not in gym.registry:  # episodes end after grid_size - 1 steps: no time limit
    gym.register(id=CATCH_ID, entry_point="reproduce.envs.catch:CatchEnv")

SNAKE_ID = "Snake-v0"
if SNAKE_ID not in gym.registry:  # no time limit, as upstream: cap evaluations with max_episode_steps
    gym.register(id=SNAKE_ID, entry_point="reproduce.envs.snake:SnakeEnv")
SNAKE_CAPPED_ID = "SnakeCapped-v0"  # for runners that cannot pass max_episode_steps (keras-rl's)
if SNAKE_CAPPED_ID not in gym.registry:
    gym.register(id=SNAKE_CAPPED_ID, entry_point="reproduce.envs.snake:SnakeEnv", max_episode_steps=1000)

__all__ = [
    "BACKWARD", "FORWARD", "NCHAIN_ID", "NChainEnv", "NChainSolution",
    "episode_return", "policy_string", "q_star", "solve_nchain",
    "eps_greedy_probs", "q_pi",
    "CATCH_ID", "LEFT", "RIGHT", "STAY", "CatchEnv", "CatchSolution", "catch_observations",
    "catch_starts", "catch_states", "greedy_win_rate", "solve_catch",
    "SNAKE_ID", "SNAKE_CAPPED_ID", "SnakeEnv",
    "DUNGEON_ID", "DUNGEON_CAPPED_ID", "DungeonSolution", "solve_dungeon",
    "BLOB_ID", "BLOB_IMAGE_ID", "BlobEnv", "PART4", "PART6",
]
