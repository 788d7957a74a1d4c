"""sentdex's Blob world ("Reinforcement Learning w/ Python", parts 4-6) as a gymnasium env.

A ``size`` x ``size`` grid (10) holds three blobs: the player, the food and the enemy. Only the player
moves. Each step costs ``move_penalty`` (1); landing on the enemy costs ``enemy_penalty`` (300) and
ends the episode; landing on the food pays ``food_reward`` (25) and ends it (the enemy is checked
first); after ``max_steps`` (200) steps the episode is truncated. Moves are clipped at the walls.

Two versions of the tutorial, one env:

- **Part 4** (the Q-table), ``Blob-v0``'s defaults: 4 diagonal moves; the three blobs start at
  independent uniform cells (they may overlap); the observation is the vector
  ``(player - food, player - enemy)``, four integers in [-9, 9].
- **Part 6** (the DQN's ``BlobEnv``), ``gym.make("Blob-v0", **PART6)``: 9 actions, the food is redrawn
  until it is off the player and the enemy until it is off both; the observation is the 10 x 10 x 3
  RGB image (``observation="rgb"``; ``"vector"`` is the tutorial's ``RETURN_IMAGES = False``).
  Actions 4-8 call ``move(x=1, y=0)`` and the like, and ``move`` treats 0 as "no value given", so
  that axis moves at random by -1, 0 or +1 (``random_zero_moves=True``, the tutorial's quirk;
  ``False`` keeps the axis still, as the comment meant).

All randomness goes through ``self.np_random``: ``integers(0, size)`` for each coordinate of a start
(x then y; player, food, enemy), ``integers(-1, 2)`` for a random axis move (x then y), the draws the
tutorial makes with ``np.random.randint``.

The image puts the food's colour at ``[food.x, food.y]``, then the enemy's, then the player's
(``(255, 175, 0)``, ``(0, 255, 0)``, ``(0, 0, 255)`` for player, food and enemy, the tutorial's
``d``), so a blob drawn later hides one beneath it.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

SIZE = 10
# (dx, dy) per action; None: the axis moves at random (-1, 0, +1), the tutorial's move(x=0) quirk
MOVES = ((1, 1), (-1, -1), (-1, 1), (1, -1), (1, 0), (-1, 0), (0, 1), (0, -1), (0, 0))
PLAYER_COLOUR, FOOD_COLOUR, ENEMY_COLOUR = (255, 175, 0), (0, 255, 0), (0, 0, 255)
PART4 = {"observation": "vector", "actions": 4, "distinct_start": False}
PART6 = {"observation": "rgb", "actions": 9, "distinct_start": True}


class BlobEnv(gym.Env):
    """The Blob world; see the module docstring for the rules.

    ## Action Space
    ``Discrete(4)`` (part 4): 0 (+1, +1), 1 (-1, -1), 2 (-1, +1), 3 (+1, -1). ``Discrete(9)`` (part 6)
    adds 4 (+1, 0), 5 (-1, 0), 6 (0, +1), 7 (0, -1), 8 (0, 0), where each 0 is a random -1/0/+1
    unless ``random_zero_moves=False``.

    ## Observation Space
    ``"vector"``: ``Box(-(size-1), size-1, (4,), int64)``, (player.x - food.x, player.y - food.y,
    player.x - enemy.x, player.y - enemy.y). ``"rgb"``: ``Box(0, 255, (size, size, 3), uint8)``.

    ## Rewards and Episode End
    -1 per step, -300 and the end on the enemy, +25 and the end on the food; truncated at ``max_steps``.
    ``info`` holds the three positions.
    """

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(
        self,
        size: int = SIZE,
        observation: str = "vector",
        actions: int = 4,
        distinct_start: bool = False,
        random_zero_moves: bool = True,
        move_penalty: float = 1,
        enemy_penalty: float = 300,
        food_reward: float = 25,
        max_steps: int = 200,
        render_mode: str | None = None,
    ):
        if isinstance(size, bool) or not isinstance(size, int) or size < 2:
            raise ValueError(f"Blob size must be an integer >= 2, got {size!r}")
        if observation not in ("vector", "rgb"):
            raise ValueError(f"Blob observation must be 'vector' or 'rgb', got {observation!r}")
        if actions not in (4, 9):
            raise ValueError(f"Blob actions must be 4 (part 4) or 9 (part 6), got {actions!r}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"Blob max_steps must be a positive integer, got {max_steps!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"Blob render_mode must be one of {self.metadata['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        self.size, self.observation, self.n_actions = size, observation, actions
        self.distinct_start, self.random_zero_moves = bool(distinct_start), bool(random_zero_moves)
        self.move_penalty, self.enemy_penalty, self.food_reward = move_penalty, enemy_penalty, food_reward
        self.max_steps, self.render_mode = max_steps, render_mode
        self.action_space = spaces.Discrete(actions)
        if observation == "vector":
            self.observation_space = spaces.Box(-(size - 1), size - 1, (4,), np.int64)
        else:
            self.observation_space = spaces.Box(0, 255, (size, size, 3), np.uint8)
        self.player = self.food = self.enemy = (0, 0)
        self.steps = 0

    # --- the tutorial's Blob
    def _blob(self) -> tuple[int, int]:
        x = int(self.np_random.integers(0, self.size))
        y = int(self.np_random.integers(0, self.size))
        return x, y

    def _move(self, x: int, y: int, action: int) -> tuple[int, int]:
        dx, dy = MOVES[action]
        if dx == 0 and self.random_zero_moves:  # `if not x:` -- 0 counts as "no value given"
            dx = int(self.np_random.integers(-1, 2))
        if dy == 0 and self.random_zero_moves:
            dy = int(self.np_random.integers(-1, 2))
        return min(max(x + dx, 0), self.size - 1), min(max(y + dy, 0), self.size - 1)

    def _obs(self):
        if self.observation == "vector":
            (px, py), (fx, fy), (ex, ey) = self.player, self.food, self.enemy
            return np.array([px - fx, py - fy, px - ex, py - ey], dtype=np.int64)
        return self.image()

    def image(self) -> np.ndarray:
        """The tutorial's ``get_image``: food, then enemy, then player, at ``[x, y]``."""
        img = np.zeros((self.size, self.size, 3), dtype=np.uint8)
        img[self.food] = FOOD_COLOUR
        img[self.enemy] = ENEMY_COLOUR
        img[self.player] = PLAYER_COLOUR
        return img

    def _info(self) -> dict:
        return {"player": self.player, "food": self.food, "enemy": self.enemy, "steps": self.steps}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.player = self._blob()
        self.food = self._blob()
        while self.distinct_start and self.food == self.player:
            self.food = self._blob()
        self.enemy = self._blob()
        while self.distinct_start and self.enemy in (self.player, self.food):
            self.enemy = self._blob()
        self.steps = 0
        return self._obs(), self._info()

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"Blob action must be an integer in [0, {self.n_actions}), got {action!r}")
        self.steps += 1
        self.player = self._move(*self.player, int(action))
        if self.player == self.enemy:
            reward, terminated = -float(self.enemy_penalty), True
        elif self.player == self.food:
            reward, terminated = float(self.food_reward), True
        else:
            reward, terminated = -float(self.move_penalty), False
        truncated = not terminated and self.steps >= self.max_steps
        return self._obs(), reward, terminated, truncated, self._info()

    def render(self):
        if self.render_mode == "rgb_array":
            return np.kron(self.image(), np.ones((30, 30, 1), dtype=np.uint8))  # 300 x 300, as cv2 showed it
        if self.render_mode == "ansi":
            rows = []
            for x in range(self.size):
                row = ""
                for y in range(self.size):
                    cell = (x, y)
                    row += (
                        "P"
                        if cell == self.player
                        else "E"
                        if cell == self.enemy
                        else "F"
                        if cell == self.food
                        else "."
                    )
                rows.append(row)
            return "\n".join(rows)
        return None
