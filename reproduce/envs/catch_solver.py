"""Exact Catch solution: Q* over every reachable state, and exact greedy win rates.

States are ``(fruit_row, fruit_col, basket)`` tuples. :func:`catch_states` lists every state a
game can be in before its last step (rows ``0 .. grid-2``, reachable from the start
distribution under any actions), sorted; Q* and any network's Q are arrays aligned with that
list (one row per state, one column per action), so ``max |Q - Q*|`` is one numpy expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reproduce.envs.catch import canvas, check_grid_size

GAMMA = 0.9


def catch_starts(grid_size: int = 10) -> np.ndarray:
    """The equally likely start states, ``(0, col, basket)`` with col ``0..g-2``, basket ``1..g-3``."""
    g = check_grid_size(grid_size)
    return np.array([(0, c, b) for c in range(g - 1) for b in range(1, g - 2)], np.int64)


def _move(basket, action, g):
    return np.clip(basket + action - 1, 1, g - 1)


def catch_states(grid_size: int = 10) -> np.ndarray:
    """Every reachable non-terminal state, ``(n, 3)`` int rows sorted lexicographically."""
    g = check_grid_size(grid_size)
    layer = {tuple(s) for s in catch_starts(g)}
    states = set(layer)
    for _ in range(g - 2):
        layer = {(r + 1, c, int(_move(b, a, g))) for r, c, b in layer for a in range(3)}
        states |= layer
    return np.array(sorted(states), np.int64)


def catch_observations(states, grid_size: int = 10) -> np.ndarray:
    """The env's observation of each state: ``(n, grid, grid)`` float32 canvases."""
    return np.stack([canvas(s, grid_size) for s in np.asarray(states)])


def _transitions(states, g):
    """Per (state, action): successor row index (-1 if terminal) and reward."""
    index = {tuple(s): i for i, s in enumerate(states.tolist())}
    nxt = np.full((len(states), 3), -1, np.int64)
    reward = np.zeros((len(states), 3))
    for i, (r, c, b) in enumerate(states.tolist()):
        for a in range(3):
            b2 = int(_move(b, a, g))
            if r + 1 == g - 1:
                reward[i, a] = 1.0 if abs(c - b2) <= 1 else -1.0
            else:
                nxt[i, a] = index[(r + 1, c, b2)]
    return nxt, reward


def greedy_win_rate(q, grid_size: int = 10) -> float:
    """Exact win rate of ``argmax q`` (ties to the first action, like ``np.argmax``) over the
    uniform start distribution; ``q`` is ``(n, 3)`` aligned with :func:`catch_states`."""
    g = check_grid_size(grid_size)
    states = catch_states(g)
    q = np.asarray(q)
    if q.shape != (len(states), 3):
        raise ValueError(f"q must have shape {(len(states), 3)} (catch_states x actions), got {q.shape}")
    nxt, reward = _transitions(states, g)
    index = {tuple(s): i for i, s in enumerate(states.tolist())}
    policy = q.argmax(axis=1)
    wins = 0
    for start in catch_starts(g).tolist():
        i = index[tuple(start)]
        while nxt[i, policy[i]] >= 0:
            i = nxt[i, policy[i]]
        wins += reward[i, policy[i]] > 0
    return wins / len(catch_starts(g))


@dataclass(frozen=True)
class CatchSolution:
    """Q* (one row per :func:`catch_states` state) and the optimal policy's exact win rate."""

    grid_size: int
    gamma: float
    states: np.ndarray
    q: np.ndarray
    win_rate: float
    index: dict = field(repr=False)

    def q_of(self, state) -> np.ndarray:
        """Q*(state, .) for a ``(fruit_row, fruit_col, basket)`` tuple."""
        return self.q[self.index[tuple(int(v) for v in state)]]

    def max_abs_error(self, q) -> float:
        """``max |q - Q*|`` over every reachable state and action."""
        return float(np.abs(np.asarray(q, float) - self.q).max())


def solve_catch(grid_size: int = 10, gamma: float = GAMMA) -> CatchSolution:
    """Q* by value iteration over the reachable states (exact after ``grid-1`` sweeps)."""
    g = check_grid_size(grid_size)
    states = catch_states(g)
    nxt, reward = _transitions(states, g)
    terminal = nxt < 0
    q = np.zeros((len(states), 3))
    while True:
        v = q.max(axis=1)
        q_new = reward + gamma * np.where(terminal, 0.0, v[np.maximum(nxt, 0)])
        if np.array_equal(q_new, q):
            break
        q = q_new
    index = {tuple(s): i for i, s in enumerate(states.tolist())}
    return CatchSolution(g, float(gamma), states, q, greedy_win_rate(q, g), index)
