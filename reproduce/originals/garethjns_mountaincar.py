"""garethjns/reinforcement-learning-keras on MountainCar (June 2020): the env it trained on, ``DeepQAgent``.

**The env.** ``gym.make("MountainCar-v0")`` (gym 0.17) with the agent's loop setting
``env._max_episode_steps = max_episode_steps`` (1,000) before each episode: the ``TimeLimit`` wrapper then
returns ``done=True`` on the 1,000th step, which the agents treat like any other ``done``. Observations
were ``np.array(self.state)``, float64. Here: gymnasium's ``MountainCar-v0`` unwrapped (the same physics),
the float64 state read as gym 0.17 returned it (:func:`observe`), ``done`` = terminated or the 1,000th
step; :func:`mountaincar_step` is the same physics in numba (tested against the env step by step).

**DeepQAgent at commit 3888e91** (``agents/mountain_car/q_learning/deep_q_agent.py``, run by
``scripts/experiment_dqn_mountain_car.py``: 6 reps x 500 episodes of at most 1,000 steps). The subclass
re-declares ``learning_rate: float = 0.0025`` and ``_final_reward -> 650`` without ``@dataclass``, and:

- ``learning_rate`` 0.0025 is dead: the parent dataclass's generated ``__init__`` assigns its own default
  (0.001) to the instance, which shadows the class attribute. The network trains with Adam 1e-3.
- ``_final_reward`` 650 is dead: ``update_model`` sets ``-10`` on every ``done`` (CartPole's failure
  target). So reaching the flag *and* hitting the 1,000-step limit both get the target -10, far above the
  ~-100 a -1-per-step return is worth: the time limit is rewarded.
- ``AgentBase.train``'s default ``checkpoint_every=10`` pickles the agent after episodes 1, 11, 21, ...;
  ``__getstate__`` -> ``unready()`` + ``check_ready()`` rebuilds and recompiles both Keras models from the
  action model's weights, so **Adam's moments and step count restart** every 10 episodes (and a new env is
  made: new random streams, which only matters for seeding).
- The value (target) model is synced after every episode (``update_every=1``), before the checkpoint.
- Everything else is the CartPole agent (:mod:`reproduce.originals.garethjns_dqn`): raw states into
  ``Dense(16)-Dense(8)-Dense(3)``, replay 200 across episode ends, batch 75 from ``np.random.randint(0,
  199)``, untaken actions' targets from the value model, eps 0.05 decayed by 0.998 per action (floor
  0.002). The clip + StandardScaler pipeline is fitted (100,000 samples) and never applied: not built.

``quirks=False`` is what the code evidently meant: Adam 0.0025, the goal's target 650, the 1,000-step cap
a truncation that bootstraps, and no optimizer restart.

:func:`train_reference` runs the published loop with tf-keras; :class:`FastMountainCarDQN` is the same in
numba (float64), replaying the reference's draws (reset positions from the env's generator, the
EpsilonGreedy's uniforms, ``Discrete(3)`` samples, the replay indices).
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np

from reproduce.originals.garethjns import GAMMA, Stream, flatten, glorot_init, unflatten
from reproduce.originals.garethjns_dqn import (
    BATCH,
    BUFFER_SIZE,
    DONE_TARGET,
    EPS_DECAY,
    EPS_INITIAL,
    EPS_MIN,
    Result,
    _q,
    _train,
)

ENV_ID = "MountainCar-v0"
MAX_EPISODE_STEPS = 1000  # the experiment scripts' max_episode_steps: the TimeLimit's limit and the loop's
N_ACTIONS = 3
OBS_LOW = np.array([-1.2, -0.07], dtype=np.float32)  # the observation box (gym 0.17 and gymnasium alike)
OBS_HIGH = np.array([0.6, 0.07], dtype=np.float32)

DQN_COMMIT = "3888e91"
LINEAR_COMMIT = "7264d6b"
DQN_LAYERS = ((2, 16), (16, 8), (8, 3))
LEARNING_RATE = 0.001  # what the instance gets (the parent dataclass's default)
DECLARED_LEARNING_RATE = 0.0025  # the subclass's dead class attribute
DQN_FINAL_REWARD = 650.0  # the subclass's dead _final_reward
CHECKPOINT_EVERY = 10  # AgentBase.train's default: pickling rebuilds the models (fresh Adam)


def make_env():
    """``MountainCar-v0`` without gymnasium's ``TimeLimit``: the loop applies the 1,000-step limit."""
    import gymnasium as gym

    return gym.make(ENV_ID).unwrapped


def observe(env) -> np.ndarray:
    """The observation gym 0.17 returned: ``np.array(self.state)``, float64."""
    return np.array(env.unwrapped.state, dtype=np.float64)


# MountainCar's physics (gymnasium's MountainCarEnv), float64 state.
FORCE, GRAVITY, MAX_SPEED = 0.001, 0.0025, 0.07
MIN_POSITION, MAX_POSITION, GOAL_POSITION = -1.2, 0.6, 0.5


@numba.njit(cache=True)
def mountaincar_step(state, action):
    """Advance ``state`` (float64[2], in place) by one step; returns ``terminated``."""
    position, velocity = state[0], state[1]
    velocity += (action - 1) * FORCE + math.cos(3 * position) * (-GRAVITY)
    velocity = min(max(velocity, -MAX_SPEED), MAX_SPEED)
    position += velocity
    position = min(max(position, MIN_POSITION), MAX_POSITION)
    if position == MIN_POSITION and velocity < 0:
        velocity = 0.0
    state[0] = position
    state[1] = velocity
    return position >= GOAL_POSITION and velocity >= 0.0


def reset_stream(seed: int) -> Stream:
    """MountainCar's reset states: ``reset(seed=seed)`` then ``reset()``, each ``[uniform(-0.6, -0.4), 0]``
    from the env's generator (``np.random.default_rng(seed)``, what gymnasium seeds)."""
    rng = np.random.default_rng(seed)

    def draw(n):
        out = np.zeros((n, 2))
        out[:, 0] = rng.uniform(-0.6, -0.4, size=n)
        return out

    return Stream(rng, draw, 256)


def initial_weights(seed: int, model: int = 0) -> list[np.ndarray]:
    """Model 0 is the action model, 1 the value model (built separately upstream: its own init)."""
    return glorot_init(np.random.RandomState(30_000 + 2 * seed + model), DQN_LAYERS)


def build_model(learning_rate: float):
    """``_build_model_copy`` as published, for MountainCar's 2 inputs and 3 actions."""
    import tensorflow as tf

    keras = tf.keras
    state_input = keras.layers.Input(name="input", shape=(2,))
    fc1 = keras.layers.Dense(units=16, name="fc1", activation="relu")(state_input)
    fc2 = keras.layers.Dense(units=8, name="fc2", activation="relu")(fc1)
    output = keras.layers.Dense(units=N_ACTIONS, name="output", activation=None)(fc2)
    model = keras.Model(inputs=[state_input], outputs=[output])
    model.compile(keras.optimizers.legacy.Adam(learning_rate=learning_rate), loss="mse")
    return model


def train_reference(
    seed: int,
    episodes: int,
    quirks: bool = True,
    buffer_size: int = BUFFER_SIZE,
    batch: int = BATCH,
    max_steps: int = MAX_EPISODE_STEPS,
) -> Result:
    """The published ``AgentBase.train`` / ``play_episode`` / ``update_model`` loop with tf-keras, the
    checkpoint's model rebuild included (``buffer_size``, ``batch`` and ``max_steps`` shrink for tests)."""
    import collections

    from reproduce.originals.keras_qnet import new_session

    new_session(seed)
    start = time.perf_counter()
    lr = LEARNING_RATE if quirks else DECLARED_LEARNING_RATE
    action_model, value_model = build_model(lr), build_model(lr)
    action_model.set_weights(initial_weights(seed, 0))
    value_model.set_weights(initial_weights(seed, 1))
    global_rng = np.random.RandomState(seed)  # upstream's np.random (the replay sample)
    eps_rng = np.random.RandomState(seed + 1)  # EpsilonGreedy's own RandomState
    env = make_env()
    env.action_space.seed(seed + 2)
    eps = EPS_INITIAL
    states, others = collections.deque(maxlen=buffer_size), collections.deque(maxlen=buffer_size)
    returns, all_actions = [], []
    for episode in range(episodes):
        env.reset(seed=seed if episode == 0 else None)
        obs = observe(env)
        total = 0.0
        for step in range(max_steps):
            eps = max(EPS_MIN, eps - eps * EPS_DECAY)
            if eps_rng.random() < eps:
                action = env.action_space.sample()
            else:
                action = np.argmax(action_model.predict(np.atleast_2d(obs), verbose=0))
            prev_obs = obs
            _, reward, terminated, _, _ = env.step(action)
            obs = observe(env)
            # gym 0.17's TimeLimit: done on the max_episode_steps-th step too (info TimeLimit.truncated)
            truncated = step == max_steps - 1
            done = terminated or (truncated and quirks)
            total += reward
            all_actions.append(int(action))
            states.append(prev_obs)
            others.append((action, reward, done))
            if len(states) == buffer_size:
                idx = global_rng.randint(0, len(states) - 1, batch)
                ss = [states[i] for i in idx]
                ss_ = [states[i + 1] for i in idx]
                ard = [others[i] for i in idx]
                y_now = value_model.predict(np.vstack(ss), verbose=0)
                y_future = value_model.predict(np.vstack(ss_), verbose=0)
                y = []
                for i, (a, r, d) in enumerate(ard):
                    if d:
                        g = DONE_TARGET if quirks else DQN_FINAL_REWARD  # quirks=False: d is the goal only
                    else:
                        g = r + GAMMA * np.max(y_future[i, :])
                    y_ = y_now[i, :]
                    y_[a] = g
                    y.append(y_)
                action_model.train_on_batch(np.vstack(ss), np.stack(y))
            if terminated or truncated:
                break
        returns.append(total)
        value_model.set_weights(action_model.get_weights())  # _after_episode_update (update_every=1)
        if quirks and episode % CHECKPOINT_EVERY == 0:
            # save() -> __getstate__: unready() keeps the weights, check_ready() rebuilds both models
            weights = action_model.get_weights()
            action_model, value_model = build_model(lr), build_model(lr)
            action_model.set_weights(weights)
            value_model.set_weights(weights)
    return Result(
        np.array(returns), np.array(all_actions), action_model.get_weights(), time.perf_counter() - start
    )


@numba.njit(cache=True)
def _episode(
    theta,
    target,
    m,
    v,
    t,
    eps,
    start,
    uniforms,
    explore,
    replay,
    buf_s,
    buf_a,
    buf_d,
    count,
    sizes,
    quirks,
    lr,
    max_steps,
    buffer_size,
    batch,
    actions_out,
):
    """One episode; the buffer is a ring (``count`` transitions ever appended). Returns
    (steps, t, eps, explores used, replay rows used, count)."""
    state = start.copy()
    obs = np.empty((1, 2))
    k_explore = 0
    k_replay = 0
    xs = np.empty((batch, 2))
    xs_ = np.empty((batch, 2))
    for step in range(max_steps):
        for k in range(2):
            obs[0, k] = np.float32(state[k])
        eps = max(EPS_MIN, eps - eps * EPS_DECAY)
        if uniforms[step] < eps:
            action = explore[k_explore]
            k_explore += 1
        else:
            action = np.argmax(_q(theta, obs, sizes)[0][0])
        actions_out[step] = action
        terminated = mountaincar_step(state, action)
        truncated = step == max_steps - 1
        pos = count % buffer_size
        buf_s[pos] = obs[0]
        buf_a[pos] = action
        buf_d[pos] = terminated or (truncated and quirks)
        count += 1
        if count >= buffer_size:
            oldest = count - buffer_size
            idx = replay[k_replay]
            k_replay += 1
            for i in range(batch):
                xs[i] = buf_s[(oldest + idx[i]) % buffer_size]
                xs_[i] = buf_s[(oldest + idx[i] + 1) % buffer_size]
            y = _q(target, xs, sizes)[0]
            future = _q(target, xs_, sizes)[0]
            for i in range(batch):
                p = (oldest + idx[i]) % buffer_size
                if buf_d[p]:
                    y[i, buf_a[p]] = DONE_TARGET if quirks else DQN_FINAL_REWARD
                else:
                    y[i, buf_a[p]] = -1.0 + GAMMA * future[i].max()
            t += 1
            _train(theta, m, v, t, xs, y, sizes, lr)
        if terminated or truncated:
            return step + 1, t, eps, k_explore, k_replay, count
    return max_steps, t, eps, k_explore, k_replay, count


class FastMountainCarDQN:
    """:func:`train_reference`'s algorithm and draws in numba, one episode per call."""

    def __init__(
        self,
        seed: int,
        quirks: bool = True,
        buffer_size: int = BUFFER_SIZE,
        batch: int = BATCH,
        max_steps: int = MAX_EPISODE_STEPS,
    ):
        self.seed, self.quirks = seed, quirks
        self.buffer_size, self.batch, self.max_steps = buffer_size, batch, max_steps
        self.lr = LEARNING_RATE if quirks else DECLARED_LEARNING_RATE
        self.sizes = DQN_LAYERS
        self.theta = flatten(initial_weights(seed, 0))
        self.target = flatten(initial_weights(seed, 1))
        self.m, self.v = np.zeros_like(self.theta), np.zeros_like(self.theta)
        self.t, self.eps, self.count, self.episode = 0, EPS_INITIAL, 0, 0
        self.resets = reset_stream(seed)
        replay_rng, eps_rng = np.random.RandomState(seed), np.random.RandomState(seed + 1)
        action_rng = np.random.default_rng(seed + 2)
        self.replay = Stream(replay_rng, lambda n: replay_rng.randint(0, buffer_size - 1, (n, batch)), 4096)
        self.uniforms = Stream(eps_rng, eps_rng.random_sample, 8192)
        self.explore = Stream(action_rng, lambda n: action_rng.integers(N_ACTIONS, size=n), 1024)
        self.buf_s = np.zeros((buffer_size, 2))
        self.buf_a = np.zeros(buffer_size, dtype=np.int64)
        self.buf_d = np.zeros(buffer_size, dtype=np.bool_)
        self._actions = np.empty(max_steps, dtype=np.int64)

    @property
    def weights(self) -> list[np.ndarray]:
        return unflatten(self.theta, initial_weights(0))

    def episode_run(self) -> tuple[float, np.ndarray]:
        start = self.resets.ahead(1)[0]
        self.resets.take(1)
        n, self.t, self.eps, used_explore, used_replay, self.count = _episode(
            self.theta,
            self.target,
            self.m,
            self.v,
            self.t,
            self.eps,
            start,
            self.uniforms.ahead(self.max_steps),
            self.explore.ahead(self.max_steps),
            self.replay.ahead(self.max_steps),
            self.buf_s,
            self.buf_a,
            self.buf_d,
            self.count,
            self.sizes,
            self.quirks,
            self.lr,
            self.max_steps,
            self.buffer_size,
            self.batch,
            self._actions,
        )
        self.uniforms.take(n)
        self.explore.take(used_explore)
        self.replay.take(used_replay)
        self.target[:] = self.theta
        if self.quirks and self.episode % CHECKPOINT_EVERY == 0:
            self.m[:] = 0.0  # the checkpoint's rebuilt models: a fresh Adam
            self.v[:] = 0.0
            self.t = 0
        self.episode += 1
        return -float(n), self._actions[:n].copy()

    def train(self, episodes: int, on_episode=None) -> Result:
        start = time.perf_counter()
        returns, actions = [], []
        for _ in range(episodes):
            total, acts = self.episode_run()
            returns.append(total)
            actions.append(acts)
            if on_episode is not None:
                on_episode(self.episode, total)
        return Result(
            np.array(returns),
            np.concatenate(actions) if actions else np.zeros(0, int),
            self.weights,
            time.perf_counter() - start,
        )

    def greedy(self, states) -> list[int]:
        x = np.array([np.float32(s[-1]) for s in states], dtype=np.float64)
        return list(np.argmax(_q(self.theta, x, self.sizes)[0], axis=1))
