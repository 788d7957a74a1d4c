"""The tutorial's three table methods, as published, on the real ``gym.make("NChain-v0")``.

This is the readable per-step reference that :mod:`reproduce.tabular.engine` must agree
with. The code follows the tutorial line by line; the only changes are gymnasium's API
(``reset`` returns ``(obs, info)``, ``step`` a 5-tuple, done = terminated or truncated),
the agent's random source passed in as ``rng`` (anything with numpy's legacy
``random()`` and ``randint(low, high)``; default: the global ``np.random``, as published)
and the update rule chosen by name.

Update rules (``q`` is the table, ``m = max(q[s'])``):

- ``tutorial`` (as published): ``q[s, a] += r + lr * (y * m - q[s, a])``: the reward is
  added outside the learning rate;
- ``textbook`` (Watkins): ``q[s, a] += lr * (r + y * m - q[s, a])``.

The published rule is the textbook rule on a table scaled by ``1 / lr``: if
``q_tut = q_text / lr`` before an update, it still holds after it. So both rules make the
same greedy choices (up to float rounding) and the tutorial's table converges to
``Q* / lr`` rather than ``Q*``.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from reproduce.envs import NCHAIN_ID

RULES = ("tutorial", "textbook")


def q_update(q, s, a, r, new_s, rule="tutorial", lr=0.8, y=0.95):
    """Apply one Q-learning update to ``q[s, a]`` in place, by the named rule."""
    if rule == "tutorial":
        q[s, a] += r + lr * (y * np.max(q[new_s, :]) - q[s, a])
    elif rule == "textbook":
        q[s, a] += lr * (r + y * np.max(q[new_s, :]) - q[s, a])
    else:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")


def _episode_done(step_result):
    new_s, r, terminated, truncated, _ = step_result
    return new_s, r, terminated or truncated


def naive_sum_reward_agent(env, num_episodes=500, rng=np.random):
    """Reward-sum table: pick the action with the largest summed reward so far."""
    r_table = np.zeros((5, 2))
    for _g in range(num_episodes):
        s, _ = env.reset()
        done = False
        while not done:
            if np.sum(r_table[s, :]) == 0:
                a = rng.randint(0, 2)
            else:
                a = np.argmax(r_table[s, :])
            new_s, r, done = _episode_done(env.step(a))
            r_table[s, a] += r
            s = new_s
    return r_table


def q_learning_with_table(env, num_episodes=500, rng=np.random, rule="tutorial", lr=0.8, y=0.95):
    """Greedy Q-table: always the largest Q-value, random only while the row is all zeros."""
    q_table = np.zeros((5, 2))
    for _i in range(num_episodes):
        s, _ = env.reset()
        done = False
        while not done:
            if np.sum(q_table[s, :]) == 0:
                a = rng.randint(0, 2)
            else:
                a = np.argmax(q_table[s, :])
            new_s, r, done = _episode_done(env.step(a))
            q_update(q_table, s, a, r, new_s, rule, lr, y)
            s = new_s
    return q_table


def eps_greedy_q_learning_with_table(env, num_episodes=500, rng=np.random, rule="tutorial", lr=0.8,
                                     y=0.95, eps=0.5, decay_factor=0.999):
    """eps-greedy Q-table: eps starts at 0.5 and is multiplied by 0.999 at each episode start."""
    q_table = np.zeros((5, 2))
    for _i in range(num_episodes):
        s, _ = env.reset()
        eps *= decay_factor
        done = False
        while not done:
            if rng.random() < eps or np.sum(q_table[s, :]) == 0:
                a = rng.randint(0, 2)
            else:
                a = np.argmax(q_table[s, :])
            new_s, r, done = _episode_done(env.step(a))
            q_update(q_table, s, a, r, new_s, rule, lr, y)
            s = new_s
    return q_table


def run_game(table, env):
    """One greedy test game; returns its total reward."""
    s, _ = env.reset()
    tot_reward = 0
    done = False
    while not done:
        a = np.argmax(table[s, :])
        s, r, done = _episode_done(env.step(a))
        tot_reward += r
    return tot_reward


def test_methods(num_iterations=100, num_episodes=500, seed=0, rule="tutorial", steps=1000, slip=0.2):
    """The tutorial's comparison on a fresh seeded ``NChain-v0``.

    Returns ``(returns, tables)``: test returns per round and method, shape (rounds, 3), and
    the final tables, shape (rounds, 3, 5, 2). The winner counts follow with
    :func:`reproduce.tabular.engine.winners`.
    """
    env = gym.make(NCHAIN_ID, max_episode_steps=steps, slip=slip)
    env.reset(seed=seed)
    rng = np.random.RandomState(seed)
    returns = np.zeros((num_iterations, 3))
    tables = np.zeros((num_iterations, 3, 5, 2))
    for g in range(num_iterations):
        tables[g, 0] = naive_sum_reward_agent(env, num_episodes, rng)
        tables[g, 1] = q_learning_with_table(env, num_episodes, rng, rule)
        tables[g, 2] = eps_greedy_q_learning_with_table(env, num_episodes, rng, rule)
        returns[g] = [run_game(tables[g, m], env) for m in range(3)]
    env.close()
    return returns, tables


class Replay:
    """A fixed sequence of agent draws with the legacy ``np.random`` interface.

    ``random()`` returns the next of ``uniforms``, ``randint(0, 2)`` the next of ``actions``;
    fed to the reference and (as arrays) to the engine, it fixes all agent randomness.
    """

    def __init__(self, uniforms, actions):
        self.uniforms = list(uniforms)
        self.actions = list(actions)
        self.iu = 0
        self.ia = 0

    def random(self):
        self.iu += 1
        return self.uniforms[self.iu - 1]

    def randint(self, low, high):
        assert (low, high) == (0, 2)
        self.ia += 1
        return int(self.actions[self.ia - 1])
