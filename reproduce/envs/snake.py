"""Snake: Qlearning4k's game (``qlearning4k/games/snake.py``, Fariz Rahman) as a gymnasium env.

Same rules, same odd corners, kept on purpose:

* coordinates are ``(row, col)`` of the canvas: "left" (0) and "right" (1) move along the rows,
  "up" (2) and "down" (3) along the columns; "idle" (4) and a reversal keep the current direction;
* a step first moves (head in, tail out: the head may enter the cell the tail just left), then,
  if the head is on the fruit, the snake grows one cell *beyond its tail* and a new fruit drops;
* the game is over when a segment repeats or the head **or the tail** is on the wall. The reward
  (upstream's ``get_score``) is decided before that check, so growing the tail into the wall or
  the body ends the game with the positive reward of eating;
* the reward is the new length on eating, -1 on death, 0 otherwise; there is no time limit
  (Qlearning4k's ``play`` loops forever when a greedy snake circles): register a cap at
  ``gym.make(SNAKE_ID, max_episode_steps=...)`` for evaluation only.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from reproduce.errors import ConfigError

LEFT, RIGHT, UP, DOWN, IDLE = range(5)
MOVES = {LEFT: (-1, 0), RIGHT: (1, 0), UP: (0, -1), DOWN: (0, 1)}
FORBIDDEN = {(LEFT, RIGHT), (RIGHT, LEFT), (UP, DOWN), (DOWN, UP)}  # (action, direction): a reversal
FRUIT = 0.5
MIN_GRID = 6  # a length-3 snake centred on the interior, with room to move


class SnakeEnv(gym.Env):
    """Steer a snake on a walled ``grid_size`` x ``grid_size`` board to eat fruit.

    ## Description
    The board's outer ring is wall. The snake starts with ``snake_length`` (3) cells in row-order
    along column ``grid_size // 2``, its head at row ``(grid_size - snake_length) // 2`` heading
    "left" (rows decreasing) or, reversed, at the other end heading "right", with equal odds; the
    fruit drops on a uniformly drawn free interior cell (drawn before the direction, as upstream).

    ## Action Space
    ``Discrete(5)``: 0 left, 1 right, 2 up, 3 down, 4 idle. Idle, or the opposite of the current
    direction, keeps the current direction.

    ## Observation Space
    ``Box(0, 1, (grid_size, grid_size), float32)``: 1 on walls and snake cells, 0.5 at the fruit,
    0 elsewhere (upstream's ``get_state``). Qlearning4k's agent stacks ``nb_frames`` of them.

    ## Rewards
    The snake's new length when it eats, -1 when it dies, 0 otherwise.

    ## Episode End
    Terminated when two segments share a cell or the head or tail is on the wall. No truncation:
    pass ``max_episode_steps`` to ``gym.make`` to cap an evaluation.
    ``info`` has ``length``, ``fruit_eaten`` and ``won`` (upstream's ``is_won``: it ate at least once).

    ## Version History
    * v0: Qlearning4k's ``Snake`` on gymnasium's API, with its own seeded ``np_random``. When no
      interior cell is free, upstream sets the fruit to ``(-1, -1)`` and then loops forever drawing
      one; here the fruit stays at ``(-1, -1)`` (unreachable in practice: 64 cells on 10 x 10).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 8}

    def __init__(self, grid_size: int = 10, snake_length: int = 3, render_mode: str | None = None):
        ok = isinstance(grid_size, (int, np.integer)) and not isinstance(grid_size, bool)
        if not ok or grid_size < MIN_GRID:
            raise ConfigError(f"Snake grid_size must be an integer >= {MIN_GRID}, got {grid_size!r}; "
                              f"pass e.g. grid_size=10")
        if not isinstance(snake_length, (int, np.integer)) or not 2 <= snake_length <= grid_size - 4:
            raise ConfigError(f"Snake snake_length must be an integer in [2, {grid_size - 4}], "
                              f"got {snake_length!r}; pass e.g. snake_length=3")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"Snake render_mode must be 'ansi' or None, got {render_mode!r}")
        self.grid_size, self.snake_length, self.render_mode = int(grid_size), int(snake_length), render_mode
        self.action_space = spaces.Discrete(5)
        self.observation_space = spaces.Box(0.0, 1.0, (self.grid_size, self.grid_size), np.float32)
        edge = (0, self.grid_size - 1)
        self.border = {cell for z in range(self.grid_size) for w in edge for cell in ((z, w), (w, z))}
        self.snake, self.fruit, self.direction, self.fruit_eaten, self.scored = [], (-1, -1), LEFT, 0, False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """``options={"snake": [(row, col), ...] (head first), "direction": 0-3, "fruit": (row, col)}``
        places any of them instead of drawing (tests)."""
        super().reset(seed=seed)
        g, n = self.grid_size, self.snake_length
        head = (g - n) // 2
        self.snake = [(x, g // 2) for x in range(head, head + n)]
        self.fruit_eaten, self.scored = 0, False
        self._drop_fruit()
        if self.np_random.integers(2) == 0:
            self.direction = LEFT
        else:
            self.direction = RIGHT
            self.snake.reverse()
        if options:
            self._place(options)
        return self._canvas(), self._info()

    def _place(self, options):
        unknown = set(options) - {"snake", "direction", "fruit"}
        if unknown:
            raise ConfigError(f"Snake reset options are snake, direction and fruit; got {sorted(unknown)}")
        self.snake = [tuple(int(v) for v in seg) for seg in options.get("snake", self.snake)]
        self.direction = int(options.get("direction", self.direction))
        if "fruit" in options:
            self.fruit = tuple(int(v) for v in options["fruit"])
        elif self.fruit in self.snake:
            self._drop_fruit()

    def _drop_fruit(self):
        taken = set(self.snake)
        if len(self.snake) >= (self.grid_size - 2) ** 2:
            self.fruit = (-1, -1)
            return
        while True:  # upstream's rejection sampling: draw a pair, retry while it is on the snake
            fruit = tuple(int(v) for v in self.np_random.integers(1, self.grid_size - 1, 2))
            if fruit not in taken:
                self.fruit = fruit
                return

    def _grow(self):
        (end_r, end_c), (seg_r, seg_c) = self.snake[-1], self.snake[-2]
        self.snake.append((2 * end_r - seg_r, 2 * end_c - seg_c))  # one cell beyond the tail

    def over(self) -> bool:
        """Upstream's ``is_over``: a repeated segment, or the head or tail on the wall."""
        return (len(self.snake) > len(set(self.snake)) or self.snake[0] in self.border
                or self.snake[-1] in self.border)

    def step(self, action):
        if not self.action_space.contains(action):
            raise ConfigError(f"Snake action must be an integer in 0..4 (left, right, up, down, idle), "
                              f"got {action!r}")
        action = int(action)
        if action != IDLE and (action, self.direction) not in FORBIDDEN:
            self.direction = action
        dr, dc = MOVES[self.direction]
        self.snake.insert(0, (self.snake[0][0] + dr, self.snake[0][1] + dc))
        self.snake.pop()
        self.scored = self.snake[0] == self.fruit
        dead = False
        if self.scored:
            self._grow()
            self.fruit_eaten += 1
            self._drop_fruit()
        else:
            dead = self.over()
        reward = -1.0 if dead else float(len(self.snake)) if self.scored else 0.0
        return self._canvas(), reward, self.over(), False, self._info()

    def _canvas(self) -> np.ndarray:
        g = self.grid_size
        out = np.ones((g, g), np.float32)
        out[1:-1, 1:-1] = 0.0
        for r, c in self.snake:
            out[r, c] = 1.0
        out[self.fruit] = FRUIT
        return out

    def _info(self) -> dict:
        return {"length": len(self.snake), "fruit_eaten": self.fruit_eaten,
                "won": len(self.snake) > self.snake_length}

    def render(self):
        if self.render_mode == "ansi":
            symbols = {0.0: ".", FRUIT: "*", 1.0: "#"}
            pic = self._canvas()
            pic[self.snake[0]] = -1 if self.snake[0] not in self.border else 1
            return "\n".join("".join(symbols.get(float(v), "@") for v in row) for row in pic) + "\n"
        return None
