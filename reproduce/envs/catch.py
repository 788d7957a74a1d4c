"""Catch: Qlearning4k's fruit-catching game (``qlearning4k/games/catch.py``) as a gymnasium env.

Same rules, same odd corners: the fruit starts in a column drawn from ``0 .. grid-2`` (never the
last one), the basket centre from ``1 .. grid-3`` (``np.random.randint``'s exclusive upper bound,
twice), and the centre is clamped to ``[1, grid-1]``: the basket never leaves the grid on the
left but may stick out one cell on the right, where the canvas shows only two of its cells.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from reproduce.errors import ConfigError

LEFT = 0
STAY = 1
RIGHT = 2
MIN_GRID = 4  # Qlearning4k draws the basket centre from randint(1, grid-2): empty below 4


def check_grid_size(grid_size) -> int:
    """``grid_size`` as an int, or a one-line ConfigError."""
    if isinstance(grid_size, bool) or not isinstance(grid_size, (int, np.integer)) or grid_size < MIN_GRID:
        raise ConfigError(
            f"Catch grid_size must be an integer >= {MIN_GRID} (the basket centre is drawn from "
            f"1 .. grid_size-3), got {grid_size!r}; pass e.g. grid_size=10")
    return int(grid_size)


def canvas(state, grid_size: int = 10) -> np.ndarray:
    """Qlearning4k's ``get_state`` picture of ``state = (fruit_row, fruit_col, basket)``: float32 0/1."""
    row, col, basket = (int(v) for v in state)
    out = np.zeros((grid_size, grid_size), np.float32)
    out[row, col] = 1.0
    out[-1, basket - 1:basket + 2] = 1.0  # the slice clips at the right edge, as upstream
    return out


class CatchEnv(gym.Env):
    """Move a 3-cell basket along the bottom row to catch a fruit falling straight down.

    ## Description
    A ``grid_size`` x ``grid_size`` grid (10 in Qlearning4k's example). The fruit starts in row 0,
    in a column drawn uniformly from ``0 .. grid_size-2``; the basket's centre starts in a column
    drawn uniformly from ``1 .. grid_size-3``. Each step the basket moves (its centre clamped to
    ``[1, grid_size-1]``) and then the fruit falls one row. ``reset(options={"fruit_col": c,
    "basket": b})`` starts from a chosen position instead (any fruit column, centre in
    ``[1, grid_size-1]``), for tests and exact evaluation.

    ## Action Space
    ``Discrete(3)``: 0 = left (``LEFT``), 1 = stay (``STAY``), 2 = right (``RIGHT``).

    ## Observation Space
    ``Box(0, 1, (grid_size, grid_size), float32)``: Qlearning4k's canvas, 1 at the fruit and at
    the basket's cells in the last row (the basket shows two cells when its centre is in the last
    column). Qlearning4k's agent feeds the model ``(1, nb_frames, grid, grid)``: add the frame
    axis yourself.

    ## Rewards
    0 on every step but the last; on the last, +1 if the fruit's column is within one of the
    basket's centre, else -1.

    ## Episode End
    Terminated when the fruit reaches the last row, after exactly ``grid_size - 1`` steps (no
    truncation needed). The current ``(fruit_row, fruit_col, basket)`` is ``env.unwrapped.state``.

    ## Version History
    * v0: Qlearning4k's ``Catch`` (Eder Santana's game), on gymnasium's API.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, grid_size: int = 10, render_mode: str | None = None):
        self.grid_size = check_grid_size(grid_size)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"Catch render_mode must be 'ansi' or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(3)
        self.observation_space = spaces.Box(0.0, 1.0, (self.grid_size, self.grid_size), np.float32)
        self.state = (0, 0, 1)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        g = self.grid_size
        col = int(self.np_random.integers(0, g - 1))
        basket = int(self.np_random.integers(1, g - 2))
        if options:
            col, basket = self._start_from(options, col, basket)
        self.state = (0, col, basket)
        return canvas(self.state, g), {}

    def _start_from(self, options, col, basket):
        g = self.grid_size
        unknown = set(options) - {"fruit_col", "basket"}
        col, basket = options.get("fruit_col", col), options.get("basket", basket)
        if unknown or not 0 <= col < g or not 1 <= basket < g:
            raise ConfigError(
                f"Catch reset options must be fruit_col in [0, {g - 1}] and basket in [1, {g - 1}], "
                f"got {options!r}; pass e.g. options={{'fruit_col': 0, 'basket': 1}}")
        return int(col), int(basket)

    def step(self, action):
        if not self.action_space.contains(action):
            raise ConfigError(f"Catch action must be 0 (left), 1 (stay) or 2 (right), got {action!r}")
        row, col, basket = self.state
        g = self.grid_size
        basket = min(max(1, basket + int(action) - 1), g - 1)
        row += 1
        self.state = (row, col, basket)
        terminated = row == g - 1
        reward = (1.0 if abs(col - basket) <= 1 else -1.0) if terminated else 0.0
        return canvas(self.state, g), reward, terminated, False, {}

    def render(self):
        if self.render_mode == "ansi":
            pic = canvas(self.state, self.grid_size)
            return "\n".join("".join(".#"[int(v)] for v in line) for line in pic) + "\n"
        return None
