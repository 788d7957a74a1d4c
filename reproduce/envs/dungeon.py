"""Valohai's dungeon: NChain with the tutorial's constants, one endless stream, and its exact solution.

The dungeon of Valohai's "Reinforcement Learning Tutorial" (``dungeon_simulator.py`` in
``valohai/qlearning-simple``) is :class:`~reproduce.envs.nchain.NChainEnv` with 5 tiles, slip 0.1
(the action is reversed), BACKWARD paying 2 and returning to tile 0, FORWARD moving on for 0 or,
on the last tile, paying 10 and staying. It has no episodes: ``train.py`` plays one stream of
iterations, so ``Dungeon-v0`` is registered without a time limit and never terminates.

The tutorial scores an agent by its average reward per step over each 250 steps; the reference is
the optimal policy's long-run average reward per step (its gain), and, for a given window, the
exact expected reward of the optimal policy started on tile 0 (:func:`expected_rewards`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reproduce.envs.solver import policy_string, q_star, transition_model

DUNGEON_ID = "Dungeon-v0"
DUNGEON = {"n": 5, "slip": 0.1, "small": 2.0, "large": 10.0}
"""``DungeonSimulator()``'s defaults: length 5, slip 0.1, small 2, large 10."""
GAMMA = 0.95  # the tutorial's discount (2019 code); the 2020 code's train.py uses 0.98


def _policy_matrix(policy, n: int) -> np.ndarray:
    """Action probabilities (states x 2) from a deterministic policy (ints) or a probability table."""
    policy = np.asarray(policy, dtype=float)
    if policy.ndim == 1:
        probs = np.zeros((n, 2))
        probs[np.arange(n), policy.astype(int)] = 1.0
        return probs
    return policy


def average_reward(policy, n=5, slip=0.1, small=2.0, large=10.0) -> float:
    """Long-run average reward per step (the gain) of a stationary policy: ``policy`` is one action per
    state, or a (states x 2) table of action probabilities. Every policy here is unichain (a slip or a
    BACKWARD always leads back to tile 0), so the gain is the stationary distribution's expected reward."""
    probs = _policy_matrix(policy, n)
    p, r = transition_model(n, slip, small, large)
    p_pi = np.einsum("sa,sat->st", probs, p)
    r_pi = (probs * r).sum(axis=1)
    a = np.vstack([p_pi.T - np.eye(n), np.ones(n)])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    stationary = np.linalg.lstsq(a, b, rcond=None)[0]
    return float(stationary @ r_pi)


def expected_rewards(policy, steps: int, n=5, slip=0.1, small=2.0, large=10.0, start=0) -> np.ndarray:
    """Exact expected reward at each of ``steps`` steps of a stationary policy started on ``start``."""
    probs = _policy_matrix(policy, n)
    p, r = transition_model(n, slip, small, large)
    p_pi = np.einsum("sa,sat->st", probs, p)
    r_pi = (probs * r).sum(axis=1)
    dist = np.zeros(n)
    dist[start] = 1.0
    out = np.empty(steps)
    for t in range(steps):
        out[t] = dist @ r_pi
        dist = dist @ p_pi
    return out


def printed_windows(rewards, window: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """What ``train.py`` prints from a reward stream: at every step ``t`` with ``t % window == 0``, the
    reward gained since the previous print divided by ``window``. ``rewards`` is (..., steps); returns
    (print steps, performance (..., prints)). The first print covers step 0 alone (still divided by
    ``window``) and the steps after the last print are never printed: the tutorial's own windows."""
    rewards = np.asarray(rewards, dtype=float)
    steps = rewards.shape[-1]
    at = np.arange(0, steps, window)
    total = np.cumsum(rewards, axis=-1)[..., at]
    previous = np.concatenate([np.zeros(total.shape[:-1] + (1,)), total[..., :-1]], axis=-1)
    return at, (total - previous) / window


@dataclass(frozen=True)
class DungeonSolution:
    """Q* at ``gamma``, its greedy policy, and what the tutorial's score can reach."""

    q: np.ndarray  # states x actions (0 forward, 1 backward)
    policy: np.ndarray
    gamma: float
    average_reward: float  # the optimal policy's long-run reward per step (its gain)
    best_average_reward: float  # the best gain over every deterministic stationary policy
    random_average_reward: float  # the Drunkard's gain (each action with probability 1/2)

    @property
    def policy_string(self) -> str:
        return policy_string(self.policy)


def solve_dungeon(gamma: float = GAMMA, n=5, slip=0.1, small=2.0, large=10.0) -> DungeonSolution:
    """The exact solution of the dungeon at discount ``gamma`` (value iteration over the known model)."""
    q = q_star(n, slip, small, large, gamma)
    policy = q.argmax(axis=1)
    gains = [
        average_reward(np.array([(k >> s) & 1 for s in range(n)]), n, slip, small, large) for k in range(2**n)
    ]
    random_gain = average_reward(np.full((n, 2), 0.5), n, slip, small, large)
    return DungeonSolution(
        q, policy, gamma, average_reward(policy, n, slip, small, large), max(gains), random_gain
    )
