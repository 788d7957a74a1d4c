"""Exact values of the Blob world: the best achievable expected return, and any table policy's.

The food and the enemy never move, so each (food, enemy) pair is a small MDP over the player's
``size**2`` cells; with every pair, the state is the full (player, food, enemy) positions, 10^6 states
on the 10 x 10 grid. Finite-horizon value iteration (undiscounted: the episode reward the tutorial
reports; ``max_steps`` = 200 steps to go at the start) gives ``V[player, food, enemy]``, the optimal
expected return of an episode started there; with a policy (one action per relative observation,
as a Q-table's greedy choice), the same backup evaluates that policy exactly. Compiled with numba,
one (food, enemy) pair per parallel task; each pair stops as soon as its values stop changing.

Starts: part 4 draws the three blobs independently (:func:`start_weights` ``distinct=False``),
part 6 redraws the food off the player and the enemy off both (uniform over distinct triples).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from reproduce.envs.blob import MOVES, SIZE


def _backup_python(
    size,
    n_actions,
    random_zero,
    horizon,
    move_penalty,
    enemy_penalty,
    food_reward,
    policy,
    values,
    iterations,
):
    """``values[p, f, e]`` (cells as x * size + y) after up to ``horizon`` backups per (food, enemy) pair."""
    n = size * size
    r = 2 * size - 1
    moves = np.array(MOVES, dtype=np.int64)
    for pair in numba_prange(n * n):
        f = pair // n
        e = pair % n
        fx, fy, ex, ey = f // size, f % size, e // size, e % size
        v = np.zeros(n)
        v_new = np.zeros(n)
        done = horizon
        for k in range(horizon):
            changed = False
            for p in range(n):
                px, py = p // size, p % size
                best = -np.inf
                first, last = 0, n_actions
                if policy.shape[0] > 0:
                    first = policy[
                        (((px - fx + size - 1) * r + py - fy + size - 1) * r + px - ex + size - 1) * r
                        + py
                        - ey
                        + size
                        - 1
                    ]
                    last = first + 1
                for a in range(first, last):
                    dx, dy = moves[a, 0], moves[a, 1]
                    x_lo, x_hi, y_lo, y_hi = dx, dx, dy, dy
                    if dx == 0 and random_zero:
                        x_lo, x_hi = -1, 1
                    if dy == 0 and random_zero:
                        y_lo, y_hi = -1, 1
                    prob = 1.0 / ((x_hi - x_lo + 1) * (y_hi - y_lo + 1))
                    total = 0.0
                    for mx in range(x_lo, x_hi + 1):
                        nx = min(max(px + mx, 0), size - 1)
                        for my in range(y_lo, y_hi + 1):
                            ny = min(max(py + my, 0), size - 1)
                            q = nx * size + ny
                            if q == e:
                                total += prob * -enemy_penalty
                            elif q == f:
                                total += prob * food_reward
                            else:
                                total += prob * (-move_penalty + v[q])
                    if total > best:
                        best = total
                v_new[p] = best
                if best != v[p]:
                    changed = True
            v, v_new = v_new, v
            if not changed:
                done = k
                break
        for p in range(n):
            values[p, f, e] = v[p]
        iterations[pair] = done


def _chains_python(size, horizon, move_penalty, enemy_penalty, food_reward, policy, values):
    """A deterministic policy's exact returns: each step costs ``move_penalty`` until the chain of cells
    it visits reaches the food or the enemy (k steps: ``-(k - 1) * move_penalty`` + the terminal reward)
    or runs out of ``horizon`` (``-horizon * move_penalty``); one pass over each pair's chains."""
    n = size * size
    r = 2 * size - 1
    moves = np.array(MOVES, dtype=np.int64)
    for pair in numba_prange(n * n):
        f = pair // n
        e = pair % n
        fx, fy, ex, ey = f // size, f % size, e // size, e % size
        nxt = np.empty(n, dtype=np.int64)
        for p in range(n):
            px, py = p // size, p % size
            a = policy[
                (((px - fx + size - 1) * r + py - fy + size - 1) * r + px - ex + size - 1) * r
                + py
                - ey
                + size
                - 1
            ]
            nxt[p] = min(max(px + moves[a, 0], 0), size - 1) * size + min(max(py + moves[a, 1], 0), size - 1)
        steps = np.full(n, -1, dtype=np.int64)  # steps to a terminal; -2 on the current chain; 10**9 never
        final = np.zeros(n)  # the terminal reward the chain ends with
        stack = np.empty(n + 1, dtype=np.int64)
        for p0 in range(n):
            if steps[p0] != -1:
                continue
            depth = 0
            p = p0
            k, end = 0, 0.0
            while True:
                if steps[p] >= 0:  # resolved: continue from its answer
                    k, end = steps[p], final[p]
                    break
                if steps[p] == -2:  # a cycle of ordinary cells: never ends
                    k = 10**9
                    break
                q = nxt[p]
                stack[depth] = p
                depth += 1
                steps[p] = -2
                if q == e or q == f:
                    k, end = 0, -enemy_penalty if q == e else food_reward
                    break
                p = q
            for i in range(depth - 1, -1, -1):
                c = stack[i]
                if k < 10**9:
                    k += 1
                steps[c] = k
                final[c] = end
        for p in range(n):
            k = steps[p]
            values[p, f, e] = (
                (-(k - 1) * move_penalty + final[p]) if k <= horizon else -horizon * move_penalty
            )


def numba_prange(n):  # replaced by numba.prange when compiled
    return range(n)


@functools.cache
def _compiled():
    import numba

    global numba_prange
    numba_prange = numba.prange
    jit = numba.njit(parallel=True, cache=True)
    return jit(_backup_python), jit(_chains_python)


# The optimal expected returns of the tutorial's two settings, pinned (blob_values(...).expected(...),
# tested): part 4 (4 diagonal moves, independent starts) and part 6 (9 actions with the random-axis
# quirk, distinct starts). Experiments quote these instead of recomputing them (seconds per run).
PART4_OPTIMUM = 18.495104
PART6_OPTIMUM = 21.0563728419746


@dataclass(frozen=True)
class BlobValues:
    """``values[p, f, e]``: the expected return from each start (cells as ``x * size + y``)."""

    values: np.ndarray
    size: int
    iterations: int  # the most backups any (food, enemy) pair needed to converge (<= horizon)

    def expected(self, distinct: bool = False) -> float:
        """The expected return over the start distribution (part 4: independent; part 6: distinct)."""
        return float((self.values * start_weights(self.size, distinct)).sum())


def start_weights(size: int = SIZE, distinct: bool = False) -> np.ndarray:
    """The probability of each start (player, food, enemy) under part 4's or part 6's reset."""
    n = size * size
    if not distinct:
        return np.full((n, n, n), 1.0 / n**3)
    w = np.ones((n, n, n))
    idx = np.arange(n)
    w[idx, idx, :] = 0
    w[idx, :, idx] = 0
    w[:, idx, idx] = 0
    return w / w.sum()


def blob_values(
    size: int = SIZE,
    actions: int = 4,
    random_zero_moves: bool = True,
    horizon: int = 200,
    policy=None,
    move_penalty: float = 1,
    enemy_penalty: float = 300,
    food_reward: float = 25,
    jit: bool = True,
    dynamic_programming: bool = False,
) -> BlobValues:
    """Optimal (``policy=None``) or a table policy's exact expected return from every start.

    ``policy`` is one action per relative observation, shaped like the Q-table's first four axes
    ((2 size - 1)^4, indexed by ``(player - food, player - enemy) + size - 1``).
    """
    n = size * size
    values = np.zeros((n, n, n))
    iterations = np.zeros(n * n, dtype=np.int64)
    flat = np.zeros(0, dtype=np.int64) if policy is None else np.asarray(policy, dtype=np.int64).ravel()
    backup, chains = _compiled() if jit else (_backup_python, _chains_python)
    deterministic = (
        not dynamic_programming
        and policy is not None
        and (not random_zero_moves or int(flat.max(initial=0)) < 4)
    )
    if deterministic:  # every action the policy takes is a fixed move: follow its chains
        chains(size, horizon, float(move_penalty), float(enemy_penalty), float(food_reward), flat, values)
        return BlobValues(values, size, horizon)
    backup(
        size,
        actions,
        bool(random_zero_moves),
        horizon,
        float(move_penalty),
        float(enemy_penalty),
        float(food_reward),
        flat,
        values,
        iterations,
    )
    return BlobValues(values, size, int(iterations.max()))


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """A Q-table's greedy action per relative observation (``np.argmax``: ties to the first)."""
    return np.asarray(q).argmax(axis=-1)
