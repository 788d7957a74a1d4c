"""Exact NChain solution by value iteration over the known transition model.

Gives the ground truth every learned Q-table is compared with: Q*, the optimal policy,
and the expected (undiscounted) return of a finite episode under any fixed policy; and
Q^pi of any stationary stochastic policy (what SARSA with an eps-greedy policy converges to).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reproduce.envs.nchain import BACKWARD, FORWARD
from reproduce.errors import ConfigError


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


def solve_nchain(n=5, slip=0.2, small=2.0, large=10.0, gamma=0.95, steps=1000) -> NChainSolution:
    """Q*, the optimal policy (argmax, ties to forward) and its ``steps``-step return."""
    q = q_star(n, slip, small, large, gamma)
    policy = q.argmax(axis=1)
    return NChainSolution(q, policy, episode_return(policy, n, slip, small, large, steps))


def q_pi(policy_probs, n=5, slip=0.2, small=2.0, large=10.0, gamma=0.95) -> np.ndarray:
    """Exact Q^pi (states x actions) of a stationary stochastic policy, by one linear solve.

    ``policy_probs[s, a]`` is the probability of action ``a`` in state ``s``. Solves
    ``V = r_pi + gamma P_pi V`` for the state values, then ``Q = R + gamma P V``. SARSA with an
    eps-greedy policy converges to this Q of its own policy, not to Q*.
    """
    probs = np.asarray(policy_probs, dtype=float)
    if probs.shape != (n, 2):
        raise ConfigError(f"policy_probs must have shape ({n}, 2) (states x actions), got {probs.shape}; "
                          "pass one row of action probabilities per state")
    if not (np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1.0)):
        raise ConfigError(f"policy_probs rows must be non-negative and sum to 1, got row sums "
                          f"{np.round(probs.sum(axis=1), 6).tolist()}; normalize each state's row")
    if not 0 <= gamma < 1:
        raise ConfigError(f"gamma must be in [0, 1) for a finite Q^pi, got {gamma}; use e.g. 0.95")
    p, r = transition_model(n, slip, small, large)
    p_pi = np.einsum("sa,sat->st", probs, p)
    r_pi = (probs * r).sum(axis=1)
    v = np.linalg.solve(np.eye(n) - gamma * p_pi, r_pi)
    return r + gamma * p @ v


def eps_greedy_probs(q, eps) -> np.ndarray:
    """Action probabilities of eps-greedy over a Q table: ``eps / n_actions`` each, plus
    ``1 - eps`` on the greedy action (ties broken as ``np.argmax`` does: the first)."""
    q = np.asarray(q, dtype=float)
    if q.ndim != 2 or q.shape[1] < 1:
        raise ConfigError(f"q must be a 2-D (states x actions) table, got shape {q.shape}; "
                          "pass one row of action values per state")
    if not 0 <= eps <= 1:
        raise ConfigError(f"eps must be in [0, 1], got {eps}; pass an exploration probability")
    probs = np.full(q.shape, eps / q.shape[1])
    probs[np.arange(q.shape[0]), q.argmax(axis=1)] += 1.0 - eps
    return probs
