"""garethjns's ``DeepQAgent`` and ``DuelingDeepQAgent`` (agents/cart_pole/q_learning/, commit 19c5fc2).

Published: raw state -> ``Dense(16, relu)`` -> ``Dense(8, relu)`` -> ``Dense(2)`` (dueling: ``Dense(1)``
and ``Dense(2)`` heads merged as ``V + A - mean(A)``), ``mse``, Adam 1e-3; an action model trained
every step and a value (target) model copied from it at the end of each episode. ``EpsilonGreedy(0.05,
decay=0.002, eps_min=0.002)``: before every action ``eps = max(0.002, eps - eps * 0.002)``, then
``random() < eps`` explores with ``env.action_space.sample()``. ``ReplayBuffer(200)``: two deques of
200 (states; (a, r, done)); once full, every step samples ``np.random.randint(0, 199, 75)`` indices,
takes ``s = states[i]``, ``s' = states[i + 1]``, and trains on ``y = value_model.predict(s)`` with the
taken action's slot set to ``-10`` if done else ``r + 0.99 max value_model.predict(s')``.
:func:`train_reference` runs that loop with tf-keras.

Quirks, kept: the clip + StandardScaler pipeline is fitted but never applied (states go in raw, so it
is not built here); the buffer runs across episode ends (after a 500-step cap the last transition
bootstraps from the next episode's first state); epsilon decays on every action. Switchable
(``quirks=False``): the untaken actions' targets come from the value (target) model's ``Q(s)``, not the
action model's, so they pull the action model toward the target model; the fix uses the action model's
own predictions (zero error on untaken actions, the usual DQN).

:func:`train_fast` is the same algorithm in numba (float64), replaying the reference's draws:
reset states, one uniform per step (``RandomState(seed + 1)``, the EpsilonGreedy's), one
``integers(2)`` per exploring step (the action space, ``default_rng(seed + 2)``), 75 replay indices per
training step (``RandomState(seed)``, upstream's global ``np.random``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np

from reproduce.originals.garethjns import (
    GAMMA,
    MAX_EPISODE_STEPS,
    Stream,
    adam_update,
    cartpole_step,
    dense_views,
    flatten,
    glorot_init,
    make_env,
    reset_stream,
    unflatten,
)

DQN_LAYERS = ((4, 16), (16, 8), (8, 2))
DUELING_LAYERS = ((4, 16), (16, 8), (8, 1), (8, 2))  # fc1, fc2, V, A (get_weights order)
LEARNING_RATE = 0.001
EPS_INITIAL, EPS_DECAY, EPS_MIN = 0.05, 0.002, 0.002
BUFFER_SIZE, BATCH = 200, 75
DONE_TARGET = -10.0


def layers(dueling: bool):
    return DUELING_LAYERS if dueling else DQN_LAYERS


def initial_weights(seed: int, dueling: bool, model: int = 0) -> list[np.ndarray]:
    """Model 0 is the action model, 1 the value model (built separately upstream: its own init)."""
    return glorot_init(np.random.RandomState(20_000 + 2 * seed + model), layers(dueling))


def build_model(dueling: bool):
    """``_build_model_copy`` as published (the dueling one's Lambda merge included)."""
    import tensorflow as tf

    keras = tf.keras
    state_input = keras.layers.Input(name="input", shape=(4,))
    fc1 = keras.layers.Dense(units=16, name="fc1", activation="relu")(state_input)
    fc2 = keras.layers.Dense(units=8, name="fc2", activation="relu")(fc1)
    if dueling:
        v_layer = keras.layers.Dense(1, activation="linear")(fc2)
        a_layer = keras.layers.Dense(2, activation="linear")(fc2)
        output = keras.layers.Lambda(
            lambda ins: ins[0] + ins[1] - keras.backend.mean(ins[1], axis=1, keepdims=True),
            output_shape=(2,),
            name="output",
        )([v_layer, a_layer])
    else:
        output = keras.layers.Dense(units=2, name="output", activation=None)(fc2)
    model = keras.Model(inputs=[state_input], outputs=[output])
    # Adam as published; in the graph mode the package runs Keras in, that is the legacy class (same update)
    model.compile(keras.optimizers.legacy.Adam(learning_rate=LEARNING_RATE), loss="mse")
    return model


@dataclass
class Result:
    returns: np.ndarray
    actions: np.ndarray
    weights: list
    seconds: float


def train_reference(
    seed: int,
    episodes: int,
    dueling: bool = False,
    quirks: bool = True,
    buffer_size: int = BUFFER_SIZE,
    batch: int = BATCH,
    max_steps: int = MAX_EPISODE_STEPS,
) -> Result:
    """The published ``train`` / ``play_episode`` / ``update_model`` loop, tf-keras ``predict`` and
    ``train_on_batch`` (``buffer_size`` and ``batch`` are the components' arguments; tests shrink them)."""
    import collections

    from reproduce.originals.keras_qnet import new_session

    new_session(seed)
    start = time.perf_counter()
    action_model, value_model = build_model(dueling), build_model(dueling)
    action_model.set_weights(initial_weights(seed, dueling, 0))
    value_model.set_weights(initial_weights(seed, dueling, 1))
    global_rng = np.random.RandomState(seed)  # upstream's np.random (the replay sample)
    eps_rng = np.random.RandomState(seed + 1)  # EpsilonGreedy's own RandomState
    env = make_env()
    env.action_space.seed(seed + 2)
    eps = EPS_INITIAL
    states, others = collections.deque(maxlen=buffer_size), collections.deque(maxlen=buffer_size)
    returns, all_actions = [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed if episode == 0 else None)
        total = 0.0
        for _ in range(max_steps):
            eps = max(EPS_MIN, eps - eps * EPS_DECAY)
            if eps_rng.random() < eps:
                action = env.action_space.sample()
            else:
                action = np.argmax(action_model.predict(np.atleast_2d(obs), verbose=0))
            prev_obs = obs
            obs, reward, done, _, _ = env.step(action)
            total += reward
            all_actions.append(int(action))
            states.append(prev_obs)
            others.append((action, reward, done))
            if len(states) == buffer_size:
                idx = global_rng.randint(0, len(states) - 1, batch)
                ss = [states[i] for i in idx]
                ss_ = [states[i + 1] for i in idx]
                ard = [others[i] for i in idx]
                y_now = (value_model if quirks else action_model).predict(np.vstack(ss), verbose=0)
                y_future = value_model.predict(np.vstack(ss_), verbose=0)
                y = []
                for i, (a, r, d) in enumerate(ard):
                    g = DONE_TARGET if d else r + GAMMA * np.max(y_future[i, :])
                    y_ = y_now[i, :]
                    y_[a] = g
                    y.append(y_)
                action_model.train_on_batch(np.vstack(ss), np.stack(y))
            if done:
                break
        value_model.set_weights(action_model.get_weights())
        returns.append(total)
    return Result(
        np.array(returns), np.array(all_actions), action_model.get_weights(), time.perf_counter() - start
    )


@numba.njit(cache=True)
def _q(theta, x, sizes):
    """Q-values of states ``x`` (n, 4) and the activations the backward pass needs."""
    views = dense_views(theta, sizes)
    a1 = x @ views[0][0] + views[0][1]
    h1 = np.maximum(a1, 0.0)
    a2 = h1 @ views[1][0] + views[1][1]
    h2 = np.maximum(a2, 0.0)
    if len(sizes) == 3:
        q = h2 @ views[2][0] + views[2][1]
    else:
        v = h2 @ views[2][0] + views[2][1]
        adv = h2 @ views[3][0] + views[3][1]
        q = v + adv - (adv.sum(axis=1) / adv.shape[1]).reshape(-1, 1)
    return q, a1, h1, a2, h2


@numba.njit(cache=True)
def _train(theta, m, v, t, x, y, sizes, lr):
    """One ``train_on_batch`` with Keras's ``mse`` (mean over actions and batch) and Adam step ``t``."""
    q, a1, h1, a2, h2 = _q(theta, x, sizes)
    dq = 2.0 * (q - y) / (q.shape[0] * q.shape[1])
    grad = np.zeros_like(theta)
    views = dense_views(theta, sizes)
    grads = dense_views(grad, sizes)
    if len(sizes) == 3:
        grads[2][0][:] = h2.T @ dq
        grads[2][1][:] = dq.sum(axis=0)
        dh2 = dq @ views[2][0].T
    else:
        dv = dq.sum(axis=1).reshape(-1, 1)
        da = dq - (dq.sum(axis=1) / dq.shape[1]).reshape(-1, 1)
        grads[2][0][:] = h2.T @ dv
        grads[2][1][:] = dv.sum(axis=0)
        grads[3][0][:] = h2.T @ da
        grads[3][1][:] = da.sum(axis=0)
        dh2 = dv @ views[2][0].T + da @ views[3][0].T
    d2 = dh2 * (a2 > 0)
    grads[1][0][:] = h1.T @ d2
    grads[1][1][:] = d2.sum(axis=0)
    d1 = (d2 @ views[1][0].T) * (a1 > 0)
    grads[0][0][:] = x.T @ d1
    grads[0][1][:] = d1.sum(axis=0)
    adam_update(theta, grad, m, v, t, lr)


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
    buf_r,
    buf_d,
    count,
    sizes,
    quirks,
    max_steps,
    buffer_size,
    batch,
    actions_out,
):
    """One episode; the buffer is a ring (``count`` transitions ever appended). Returns
    (steps, t, eps, explores used, replay rows used, count)."""
    state = start.copy()
    obs = np.empty((1, 4))
    k_explore = 0
    k_replay = 0
    xs = np.empty((batch, 4))
    xs_ = np.empty((batch, 4))
    for step in range(max_steps):
        for k in range(4):
            obs[0, k] = np.float32(state[k])
        eps = max(EPS_MIN, eps - eps * EPS_DECAY)
        if uniforms[step] < eps:
            action = explore[k_explore]
            k_explore += 1
        else:
            action = np.argmax(_q(theta, obs, sizes)[0][0])
        actions_out[step] = action
        done = cartpole_step(state, action)
        pos = count % buffer_size
        buf_s[pos] = obs[0]
        buf_a[pos] = action
        buf_r[pos] = 1.0
        buf_d[pos] = done
        count += 1
        if count >= buffer_size:
            oldest = count - buffer_size
            idx = replay[k_replay]
            k_replay += 1
            for i in range(batch):
                xs[i] = buf_s[(oldest + idx[i]) % buffer_size]
                xs_[i] = buf_s[(oldest + idx[i] + 1) % buffer_size]
            y = _q(target if quirks else theta, xs, sizes)[0]
            future = _q(target, xs_, sizes)[0]
            for i in range(batch):
                p = (oldest + idx[i]) % buffer_size
                y[i, buf_a[p]] = DONE_TARGET if buf_d[p] else buf_r[p] + GAMMA * future[i].max()
            t += 1
            _train(theta, m, v, t, xs, y, sizes, LEARNING_RATE)
        if done:
            return step + 1, t, eps, k_explore, k_replay, count
    return max_steps, t, eps, k_explore, k_replay, count


class FastDQN:
    """:func:`train_reference`'s algorithm and draws in numba, one episode per call."""

    def __init__(
        self,
        seed: int,
        dueling: bool = False,
        quirks: bool = True,
        buffer_size: int = BUFFER_SIZE,
        batch: int = BATCH,
        max_steps: int = MAX_EPISODE_STEPS,
    ):
        self.seed, self.dueling, self.quirks = seed, dueling, quirks
        self.buffer_size, self.batch, self.max_steps = buffer_size, batch, max_steps
        self.sizes = layers(dueling)
        self.theta = flatten(initial_weights(seed, dueling, 0))
        self.target = flatten(initial_weights(seed, dueling, 1))
        self.m, self.v = np.zeros_like(self.theta), np.zeros_like(self.theta)
        self.t, self.eps, self.count = 0, EPS_INITIAL, 0
        self.resets = reset_stream(seed)
        replay_rng, eps_rng = np.random.RandomState(seed), np.random.RandomState(seed + 1)
        action_rng = np.random.default_rng(seed + 2)
        self.replay = Stream(replay_rng, lambda n: replay_rng.randint(0, buffer_size - 1, (n, batch)), 4096)
        self.uniforms = Stream(eps_rng, eps_rng.random_sample, 8192)
        self.explore = Stream(action_rng, lambda n: action_rng.integers(2, size=n), 1024)
        self.buf_s = np.zeros((buffer_size, 4))
        self.buf_a = np.zeros(buffer_size, dtype=np.int64)
        self.buf_r = np.zeros(buffer_size)
        self.buf_d = np.zeros(buffer_size, dtype=np.bool_)
        self._actions = np.empty(max_steps, dtype=np.int64)

    @property
    def weights(self) -> list[np.ndarray]:
        return unflatten(self.theta, initial_weights(0, self.dueling))

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
            self.buf_r,
            self.buf_d,
            self.count,
            self.sizes,
            self.quirks,
            self.max_steps,
            self.buffer_size,
            self.batch,
            self._actions,
        )
        self.uniforms.take(n)
        self.explore.take(used_explore)
        self.replay.take(used_replay)
        self.target[:] = self.theta
        return float(n), self._actions[:n].copy()

    def train(self, episodes: int, on_episode=None) -> Result:
        start = time.perf_counter()
        returns, actions = [], []
        for episode in range(episodes):
            total, acts = self.episode_run()
            returns.append(total)
            actions.append(acts)
            if on_episode is not None:
                on_episode(episode + 1, total)
        return Result(
            np.array(returns),
            np.concatenate(actions) if actions else np.zeros(0, int),
            self.weights,
            time.perf_counter() - start,
        )

    def greedy(self, states) -> list[int]:
        x = np.array([np.asarray(s[-1], dtype=np.float64) for s in states])
        return list(np.argmax(_q(self.theta, x, self.sizes)[0], axis=1))
