"""Exact NChain solution by value iteration over the known transition model.

Gives the ground truth every learned Q-table is compared with: Q*, the optimal policy,
and the expected (undiscounted) return of a finite episode under any fixed policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reproduce.envs.nchain import BACKWARD, FORWARD


@dataclass(frozen=True)
class NChainSolution:
    """Q* (states x actions), the greedy optimal policy and its episode return."""

    q: np.ndarray
    policy: np.ndarray
    optimal_return: float


def policy_string(policy) -> str:
    """A greedy policy as one letter per state: ``F`` forward, ``B`` backward (``FFFFF`` is optimal)."""
    return "".join("FB"[int(a)] for a in policy)


def transition_model(n=5, slip=0.2, small=2.0, large=10.0):
    """Return (P, R): P[s, a, s'] transition probabilities, R[s, a] expected rewards."""
    p = np.zeros((n, 2, n))
    r = np.zeros((n, 2))
    for s in range(n):
        for a in (FORWARD, BACKWARD):
            for taken, prob in ((a, 1.0 - slip), (1 - a, slip)):
                if taken == BACKWARD:
                    p[s, a, 0] += prob
                    r[s, a] += prob * small
                else:
                    p[s, a, min(s + 1, n - 1)] += prob
                    r[s, a] += prob * (large if s == n - 1 else 0.0)
    return p, r


def q_star(n=5, slip=0.2, small=2.0, large=10.0, gamma=0.95, tol=1e-12):
    """Optimal action values by value iteration (discounted, infinite horizon)."""
    p, r = transition_model(n, slip, small, large)
    q = np.zeros((n, 2))
    while True:
        q_new = r + gamma * p @ q.max(axis=1)
        if np.max(np.abs(q_new - q)) < tol:
            return q_new
        q = q_new


def episode_return(policy, n=5, slip=0.2, small=2.0, large=10.0, steps=1000, start=0):
    """Expected undiscounted return of ``steps`` steps from ``start`` under a fixed policy."""
    policy = np.asarray(policy, dtype=int)
    p, r = transition_model(n, slip, small, large)
    idx = np.arange(n)
    p_pi, r_pi = p[idx, policy], r[idx, policy]
    dist = np.zeros(n)
    dist[start] = 1.0
    total = 0.0
    for _ in range(steps):
        total += dist @ r_pi
        dist = dist @ p_pi
    return float(total)


def solve(n=5, slip=0.2, small=2.0, large=10.0, gamma=0.95, steps=1000) -> NChainSolution:
    """Q*, the optimal policy (argmax, ties to forward) and its ``steps``-step return."""
    q = q_star(n, slip, small, large, gamma)
    policy = q.argmax(axis=1)
    return NChainSolution(q, policy, episode_return(policy, n, slip, small, large, steps))
