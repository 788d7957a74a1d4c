"""sentdex's "Reinforcement Learning w/ Python" part 4: the Q-table on the Blob world, as published and fast.

The published loop (checked against several public copies; the report lists where they disagree):
25,000 episodes; each starts three blobs at independent random cells; up to 200 steps of
``obs = (player - food, player - enemy)``, an eps-greedy action among the 4 diagonal moves
(``np.random.random() > epsilon`` -> ``np.argmax(q_table[obs])``, else ``np.random.randint(0, 4)``),
the move, the reward (enemy -300, food +25, else -1), and the update

    new_q = FOOD_REWARD            if reward == FOOD_REWARD
            -ENEMY_PENALTY         if reward == -ENEMY_PENALTY
            (1 - lr) q + lr (reward + discount max q_table[new_obs])   otherwise

(lr 0.1, discount 0.95); the episode ends on food or enemy. The table starts at ``uniform(-5, 0)``
for each of the 19^4 observations and 4 actions; epsilon starts at 0.9 and is multiplied by 0.9998
after each episode. The published figure is the 3,000-episode moving average of the episode reward
(``np.convolve(..., mode="valid")``).

:func:`train_reference` runs that loop, readable, on ``Blob-v0`` (part 4's rules): the blobs'
starts come from the env's ``np_random`` (``integers(0, 10)``, as ``np.random.randint(0, SIZE)``), the
agent's draws from its own generator (:func:`agent_rng`: the table's initial values in one bulk draw,
then per step ``random()`` and, when exploring, ``integers(0, 4)``). :func:`train_fast` is the same loop
compiled with numba, given the same two generators: numba's ``Generator`` methods are numpy's
algorithms on the shared bit generator, so it makes exactly the reference's draws: the same actions,
rewards and table (tested).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np

from reproduce.envs.blob import MOVES, PART4, SIZE

EPISODES = 25_000
MAX_STEPS = 200
MOVE_PENALTY, ENEMY_PENALTY, FOOD_REWARD = 1, 300, 25
EPSILON, EPS_DECAY = 0.9, 0.9998
LEARNING_RATE, DISCOUNT = 0.1, 0.95
SHOW_EVERY = 3000  # the moving-average window of the published figure
ACTIONS = 4
AGENT_STREAM = 4  # the agent's generator is seeded (seed, 4): apart from the env's (seed)


def agent_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, AGENT_STREAM])


def initial_table(rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """``q_table[((i, ii), (iii, iiii))] = [np.random.uniform(-5, 0) for i in range(4)]`` for every
    observation, as an array indexed by ``obs + size - 1``."""
    r = 2 * size - 1
    return rng.uniform(-5, 0, size=(r, r, r, r, ACTIONS))


@dataclass
class Result:
    q: np.ndarray
    episode_rewards: np.ndarray
    episode_lengths: np.ndarray
    epsilon: np.ndarray  # epsilon during each episode
    actions: np.ndarray | None = None  # every action, in order (recorded on request)
    seconds: float = 0.0

    def moving_average(self, window: int = SHOW_EVERY) -> np.ndarray:
        """The published curve: ``np.convolve(episode_rewards, np.ones((w,)) / w, mode="valid")``."""
        return np.convolve(self.episode_rewards, np.ones((window,)) / window, mode="valid")


def train_reference(seed: int, episodes: int = EPISODES, record_actions: bool = False) -> Result:
    """The published part-4 loop on ``Blob-v0`` (slow: about 10 us per step in Python)."""
    import gymnasium as gym

    from reproduce.envs import BLOB_ID

    env = gym.make(BLOB_ID, **PART4)
    rng = agent_rng(seed)
    q_table = initial_table(rng)
    off = SIZE - 1
    epsilon = EPSILON
    rewards, lengths, eps, actions = [], [], [], []
    start = time.perf_counter()
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed) if episode == 0 else env.reset()
        episode_reward = 0
        eps.append(epsilon)
        steps = 0
        for _ in range(MAX_STEPS):
            steps += 1
            key = tuple(obs + off)
            if rng.random() > epsilon:
                action = int(np.argmax(q_table[key]))
            else:
                action = int(rng.integers(0, ACTIONS))
            new_obs, reward, terminated, truncated, _ = env.step(action)
            new_key = tuple(new_obs + off)
            max_future_q = np.max(q_table[new_key])
            current_q = q_table[key][action]
            if reward == FOOD_REWARD:
                new_q = FOOD_REWARD
            elif reward == -ENEMY_PENALTY:
                new_q = -ENEMY_PENALTY
            else:
                new_q = (1 - LEARNING_RATE) * current_q + LEARNING_RATE * (reward + DISCOUNT * max_future_q)
            q_table[key][action] = new_q
            if record_actions:
                actions.append(action)
            episode_reward += reward
            obs = new_obs
            if reward == FOOD_REWARD or reward == -ENEMY_PENALTY:
                break
        rewards.append(episode_reward)
        lengths.append(steps)
        epsilon *= EPS_DECAY
    return Result(
        q_table,
        np.array(rewards, dtype=float),
        np.array(lengths),
        np.array(eps),
        np.array(actions) if record_actions else None,
        time.perf_counter() - start,
    )


def _train_python(env_rng, rng, q, episodes, size, record, rewards, lengths, eps_out, actions):
    moves = np.array(MOVES[:ACTIONS], dtype=np.int64)
    off = size - 1
    epsilon = EPSILON
    k = 0
    for episode in range(episodes):
        px = env_rng.integers(0, size)
        py = env_rng.integers(0, size)
        fx = env_rng.integers(0, size)
        fy = env_rng.integers(0, size)
        ex = env_rng.integers(0, size)
        ey = env_rng.integers(0, size)
        episode_reward = 0.0
        eps_out[episode] = epsilon
        steps = 0
        for _ in range(MAX_STEPS):
            steps += 1
            a0, a1, a2, a3 = px - fx + off, py - fy + off, px - ex + off, py - ey + off
            if rng.random() > epsilon:
                action = np.argmax(q[a0, a1, a2, a3])
            else:
                action = rng.integers(0, ACTIONS)
            px = min(max(px + moves[action, 0], 0), size - 1)
            py = min(max(py + moves[action, 1], 0), size - 1)
            if px == ex and py == ey:
                reward = -float(ENEMY_PENALTY)
            elif px == fx and py == fy:
                reward = float(FOOD_REWARD)
            else:
                reward = -float(MOVE_PENALTY)
            b0, b1, b2, b3 = px - fx + off, py - fy + off, px - ex + off, py - ey + off
            max_future_q = np.max(q[b0, b1, b2, b3])
            current_q = q[a0, a1, a2, a3, action]
            if reward == FOOD_REWARD:
                new_q = float(FOOD_REWARD)
            elif reward == -ENEMY_PENALTY:
                new_q = -float(ENEMY_PENALTY)
            else:
                new_q = (1 - LEARNING_RATE) * current_q + LEARNING_RATE * (reward + DISCOUNT * max_future_q)
            q[a0, a1, a2, a3, action] = new_q
            if record:
                actions[k] = action
                k += 1
            episode_reward += reward
            if reward == FOOD_REWARD or reward == -ENEMY_PENALTY:
                break
        rewards[episode] = episode_reward
        lengths[episode] = steps
        epsilon *= EPS_DECAY
    return k


@functools.cache
def _compiled():
    import numba

    return numba.njit(cache=True)(_train_python)


def train_fast(seed: int, episodes: int = EPISODES, record_actions: bool = False, jit: bool = True) -> Result:
    """:func:`train_reference`, compiled: the same generators, draws, actions, rewards and table."""
    from gymnasium.utils import seeding

    env_rng = seeding.np_random(seed)[0]  # what Blob-v0's reset(seed=seed) seeds
    rng = agent_rng(seed)
    q = initial_table(rng)
    rewards = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    eps = np.zeros(episodes)
    actions = np.zeros(episodes * MAX_STEPS if record_actions else 0, dtype=np.int64)
    train = _compiled() if jit else _train_python
    start = time.perf_counter()
    k = train(env_rng, rng, q, episodes, SIZE, record_actions, rewards, lengths, eps, actions)
    seconds = time.perf_counter() - start
    return Result(q, rewards, lengths, eps, actions[:k] if record_actions else None, seconds)


def greedy_returns(q: np.ndarray, episodes: int, seed: int) -> np.ndarray:
    """Greedy test episodes on ``Blob-v0`` (part 4's starts), for a sampled check of the exact value."""
    import gymnasium as gym

    from reproduce.envs import BLOB_ID

    env = gym.make(BLOB_ID, **PART4)
    out = []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed) if i == 0 else env.reset()
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(np.argmax(q[tuple(obs + SIZE - 1)])))
            total += reward
            done = terminated or truncated
        out.append(total)
    return np.array(out)
