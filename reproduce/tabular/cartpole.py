"""A handwritten CartPole baseline: eps-greedy Q-learning on a bucketed state.

The classic tabular recipe (as in Matthew Chan's widely copied CartPole Q-learning
tutorial): cart position and velocity are ignored (1 bucket each), the pole angle gets 6
buckets over +-12 degrees and the pole's angular velocity 3 buckets over +-50 deg/s;
values outside a range fall into the end bucket. Exploration and learning rate both
decay with the episode index ``t``: ``eps = max(0.01, min(1, 1 - log10((t + 1) / 25)))``
and ``lr = max(0.1, min(0.5, 1 - log10((t + 1) / 25)))``; discount 0.99; textbook update
``q[s, a] += lr * (r + gamma * max(q[s']) * (not terminated) - q[s, a])``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ENV_ID = "CartPole-v1"


@dataclass(frozen=True)
class Buckets:
    """Bucket counts and (low, high) ranges for (x, x_dot, theta, theta_dot)."""

    counts: tuple[int, ...] = (1, 1, 6, 3)
    lows: tuple[float, ...] = (-2.4, -0.5, -math.radians(12), -math.radians(50))
    highs: tuple[float, ...] = (2.4, 0.5, math.radians(12), math.radians(50))

    def index(self, obs) -> tuple[int, ...]:
        """The bucket of each observation component (clipped to the end buckets)."""
        out = []
        for x, n, lo, hi in zip(obs, self.counts, self.lows, self.highs):
            i = int((float(x) - lo) / (hi - lo) * n)
            out.append(min(n - 1, max(0, i)))
        return tuple(out)


def explore_rate(t: int, minimum: float = 0.01) -> float:
    return max(minimum, min(1.0, 1.0 - math.log10((t + 1) / 25)))


def learning_rate(t: int, minimum: float = 0.1) -> float:
    return max(minimum, min(0.5, 1.0 - math.log10((t + 1) / 25)))


class BucketQAgent:
    """A Q-table over buckets; ``act`` is eps-greedy, ``update`` the textbook rule."""

    def __init__(self, buckets: Buckets = Buckets(), gamma: float = 0.99, seed: int = 0):
        self.buckets = buckets
        self.gamma = gamma
        self.q = np.zeros((*buckets.counts, 2))
        self.rng = np.random.default_rng(seed)

    def act(self, state, eps: float = 0.0) -> int:
        if eps > 0 and self.rng.random() < eps:
            return int(self.rng.integers(2))
        return int(np.argmax(self.q[state]))

    def update(self, state, action, reward, new_state, terminated, lr):
        target = reward + (0.0 if terminated else self.gamma * float(np.max(self.q[new_state])))
        self.q[state + (action,)] += lr * (target - self.q[state + (action,)])


def train(agent: BucketQAgent, env, episodes: int, seed: int, on_episode=None):
    """Train for ``episodes`` episodes; ``on_episode(t, return, length)`` after each."""
    for t in range(episodes):
        obs, _ = env.reset(seed=seed if t == 0 else None)
        state = agent.buckets.index(obs)
        eps, lr = explore_rate(t), learning_rate(t)
        total, length, done = 0.0, 0, False
        while not done:
            action = agent.act(state, eps)
            obs, reward, terminated, truncated, _ = env.step(action)
            new_state = agent.buckets.index(obs)
            agent.update(state, action, reward, new_state, terminated, lr)
            state = new_state
            total += reward
            length += 1
            done = terminated or truncated
        if on_episode is not None:
            on_episode(t, total, length)


def evaluate(agent: BucketQAgent, episodes: int, seed: int) -> list[tuple[float, int]]:
    """Greedy test episodes through the package's one evaluator (reset seeds ``seed, seed + 1, ...``)."""
    from reproduce.evaluation import greedy_episodes

    return greedy_episodes(lambda states: [agent.act(agent.buckets.index(s[-1])) for s in states], ENV_ID,
                           episodes, seed)

