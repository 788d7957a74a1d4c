"""The Adventures in ML NChain tutorial's Keras Q-network: the published loop, and the same algorithm fast.

Published (Adventures in Machine Learning, "Reinforcement learning tutorial using Python and
Keras"): one-hot state -> ``Dense(10, sigmoid)`` -> ``Dense(2, linear)``, ``compile(loss='mse',
optimizer='adam')``; 1000 episodes of 1000 steps; eps = 0.5, multiplied by 0.999 at the start of
each episode; per step: eps-greedy action, target ``r + 0.95 * max Q(s')`` written into the taken
action's slot of ``Q(s)``, one ``fit`` on that single sample. :func:`train_reference` runs that
loop as written (predict, predict, predict, fit: ~3.4 ms per step here, an hour per run).

:class:`FastQNet` runs the same algorithm as one XLA-compiled TensorFlow graph per episode (a
``tf.while_loop`` over the steps, NChain's dynamics inside), executed in the Keras session. It is
still Keras: the model is :func:`build_model`'s (same layers, glorot-uniform kernels, zero
biases), the loss is Keras's ``mse`` and the update is the compiled optimizer's own
``apply_gradients`` (``'adam'`` resolves, in graph mode, to ``tf.keras.optimizers.legacy.Adam``:
lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7). Every step still does one online update, in
order, with the target from the current weights. Where it differs from the published code, and
why none of it changes the algorithm:

1. Random numbers are drawn up front by :func:`published_streams`, which replays exactly what
   the published loop would draw from ``np.random.RandomState(seed)`` (``random()`` each step,
   ``randint(0, 2)`` only when exploring) and from the env seeded by ``reset(seed=seed)`` (one
   ``random()`` per step for the slip). Whether a step explores depends only on those draws and
   on eps, never on the network, so the streams can be drawn first: same seed, same draws.
2. NChain's step is written in TF ops (checked against ``NChain-v0`` by the tests).
3. The published code predicts ``Q(s)`` twice (to act and to build the target) and ``fit``
   evaluates it a third time: all three use the same weights, so we evaluate it once.
4. ``fit`` also computes the ``mae`` metric and keeps a History: reporting only, not computed.
5. XLA may fuse float32 ops differently from the per-op kernels: rounding-level differences only.
6. The old gym API (``reset() -> s``, 4-tuple ``step``) is gymnasium's here; ``done`` is the
   1000-step truncation, and the target bootstraps on every step, as published.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

N_STATES = 5
GAMMA = 0.95
EPS_START = 0.5
EPS_DECAY = 0.999


def new_session(seed: int) -> None:
    """A fresh Keras graph and session with every random seed set (python, numpy, TF graph)."""
    import tensorflow as tf

    tf.compat.v1.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(int(seed))


def build_model():
    """The published network and compile call, verbatim."""
    import tensorflow as tf

    keras = tf.keras
    model = keras.models.Sequential()
    model.add(keras.layers.InputLayer(batch_input_shape=(1, N_STATES)))
    model.add(keras.layers.Dense(10, activation="sigmoid"))
    model.add(keras.layers.Dense(2, activation="linear"))
    model.compile(loss="mse", optimizer="adam", metrics=["mae"])
    return model


def eps_schedule(episodes: int) -> np.ndarray:
    """eps used in each episode: ``eps *= 0.999`` at its start, by repeated multiplication as published."""
    out = np.empty(episodes)
    eps = EPS_START
    for i in range(episodes):
        eps *= EPS_DECAY
        out[i] = eps
    return out


@dataclass
class Streams:
    """Per step (episodes x steps): explore or not, the random action if so, slipped or not."""

    explore: np.ndarray
    random_action: np.ndarray
    slipped: np.ndarray
    eps: np.ndarray

    @classmethod
    def fixed_actions(cls, actions, steps: int, slipped=None) -> Streams:
        """Streams that force ``actions`` (episodes x steps, or flat) on every step."""
        actions = np.asarray(actions, dtype=np.int32).reshape(-1, steps)
        slipped = np.zeros(actions.shape, bool) if slipped is None else np.asarray(slipped, bool)
        return cls(np.ones(actions.shape, bool), actions, slipped.reshape(actions.shape),
                   eps_schedule(actions.shape[0]))


def _scan_python(words, eps, explore, action):
    p = 0
    for e in range(explore.shape[0]):
        for t in range(explore.shape[1]):
            # MT19937 next_double, as RandomState.random() computes it: two 32-bit words.
            u = ((words[p] >> 5) * 67108864.0 + (words[p + 1] >> 6)) / 9007199254740992.0
            p += 2
            if u < eps[e]:
                explore[e, t] = True
                action[e, t] = words[p] & 1  # RandomState.randint(0, 2): one masked 32-bit word
                p += 1


@functools.cache
def _scanner():
    import numba

    return numba.njit(cache=True)(_scan_python)


def published_streams(seed: int, episodes: int, steps: int, slip: float = 0.2) -> Streams:
    """The random draws the published loop makes with ``np.random.RandomState(seed)`` and the env
    seeded by ``reset(seed=seed)``, replayed exactly but drawn in bulk."""
    from gymnasium.utils import seeding

    eps = eps_schedule(episodes)
    n = episodes * steps
    words = np.random.RandomState(seed).randint(0, 2**32, size=3 * n, dtype=np.uint32)
    explore = np.zeros((episodes, steps), bool)
    action = np.zeros((episodes, steps), np.int32)
    _scanner()(words, eps, explore, action)
    env_rng, _ = seeding.np_random(seed)
    slipped = (env_rng.random(n) < slip).reshape(episodes, steps)
    return Streams(explore, action, slipped, eps)


@dataclass
class Result:
    """What a training run produced."""

    q_table: np.ndarray
    episode_rewards: np.ndarray
    eps: np.ndarray
    weights: list
    actions: np.ndarray = field(repr=False)
    seconds: float = 0.0


class FastQNet:
    """The published model trained by one XLA-compiled ``tf.while_loop`` per episode."""

    def __init__(self, seed: int, steps_per_episode: int = 1000, small: float = 2.0,
                 large: float = 10.0, jit: bool = True):
        import tensorflow as tf

        new_session(seed)
        self.steps = int(steps_per_episode)
        self.model = build_model()
        model, optimizer = self.model, self.model.optimizer
        variables = model.trainable_weights
        optimizer._create_all_weights(variables)  # slots and hypers outside the loop
        loss_fn = tf.keras.losses.get(model.loss)
        last = N_STATES - 1
        small, large = float(small), float(large)

        def body(t, s, rewards, actions):
            x = tf.one_hot(s, N_STATES)[None]
            with tf.GradientTape() as tape:
                q_s = model(x, training=True)  # the forward pass of predict and of fit
                greedy = tf.argmax(q_s[0], output_type=tf.int32)  # ties -> action 0, like np.argmax
                a = tf.where(self._explore[t], self._random_action[t], greedy)
                taken = tf.where(self._slipped[t], 1 - a, a)
                back = tf.equal(taken, 1)  # graph mode: Tensor.__eq__ is identity, so tf.equal
                s2 = tf.where(back, 0, tf.minimum(s + 1, last))
                r = tf.where(back, small, tf.where(tf.equal(s, last), large, 0.0))
                q_next = model(tf.one_hot(s2, N_STATES)[None])
                target = r + GAMMA * tf.reduce_max(q_next[0])
                # The published target vector is a numpy constant: no gradient flows through it.
                target_vec = tf.stop_gradient(tf.tensor_scatter_nd_update(q_s[0], [[a]], [target]))
                loss = tf.reduce_mean(loss_fn(target_vec[None], q_s))  # Keras mse, batch-of-1 mean
            grads = tape.gradient(loss, variables)
            with tf.control_dependencies([optimizer.apply_gradients(zip(grads, variables))]):
                return t + 1, tf.identity(s2), rewards.write(t, r), actions.write(t, a)

        @tf.function(jit_compile=jit, autograph=False)
        def episode():
            loop = tf.while_loop(
                lambda t, *_: t < self.steps, body,
                (tf.constant(0), tf.constant(0), tf.TensorArray(tf.float32, self.steps),
                 tf.TensorArray(tf.int32, self.steps)),
            )
            return loop[2].stack(), loop[3].stack()

        ph = tf.compat.v1.placeholder
        self._explore = ph(tf.bool, (self.steps,), "explore")
        self._random_action = ph(tf.int32, (self.steps,), "random_action")
        self._slipped = ph(tf.bool, (self.steps,), "slipped")
        self._episode = episode()
        eye = tf.eye(N_STATES)
        self._q_table = tf.concat([model(eye[i:i + 1]) for i in range(N_STATES)], 0)
        self.session = tf.compat.v1.keras.backend.get_session()  # initializes every variable

    def run_episode(self, explore, random_action, slipped):
        """One episode from state 0; returns (rewards, actions) per step."""
        return self.session.run(self._episode, {
            self._explore: explore, self._random_action: random_action, self._slipped: slipped})

    def q_table(self) -> np.ndarray:
        return self.session.run(self._q_table).astype(float)

    def train(self, streams: Streams, on_episode=None) -> Result:
        """Run every episode of ``streams``; ``on_episode(i, rewards, eps)`` after each."""
        start = time.perf_counter()
        episodes = streams.explore.shape[0]
        totals, actions = np.zeros(episodes), np.zeros(streams.explore.shape, np.int32)
        for i in range(episodes):
            rewards, actions[i] = self.run_episode(
                streams.explore[i], streams.random_action[i], streams.slipped[i])
            totals[i] = rewards.sum(dtype=np.float64)
            if on_episode is not None:
                on_episode(i, rewards, streams.eps[i])
        return Result(self.q_table(), totals, streams.eps, self.model.get_weights(), actions,
                      time.perf_counter() - start)


def train_fast(seed: int, episodes: int = 1000, steps_per_episode: int = 1000, slip: float = 0.2,
               streams: Streams | None = None, initial_weights=None, on_episode=None,
               jit: bool = True) -> Result:
    """The published algorithm, fast (see the module docstring for how it differs)."""
    net = FastQNet(seed, steps_per_episode, jit=jit)
    if initial_weights is not None:
        net.model.set_weights(initial_weights)
    if streams is None:
        streams = published_streams(seed, episodes, steps_per_episode, slip)
    return net.train(streams, on_episode)


def train_reference(seed: int, total_steps: int, steps_per_episode: int = 1000, slip: float = 0.2,
                    actions=None, initial_weights=None) -> Result:
    """The published loop, as written, on ``gym.make("NChain-v0")`` for ``total_steps`` steps.

    Random numbers come from ``np.random.RandomState(seed)`` (the published code uses the global
    one, unseeded) and the env seeded once by ``reset(seed=seed)``. ``actions`` (flat, one per
    step) replaces the eps-greedy choice, to compare with a fixed action sequence.
    """
    import gymnasium as gym

    new_session(seed)
    model = build_model()
    if initial_weights is not None:
        model.set_weights(initial_weights)
    env = gym.make("NChain-v0", slip=slip, max_episode_steps=steps_per_episode)
    rng = np.random.RandomState(seed)
    start = time.perf_counter()
    y, eps, decay_factor = GAMMA, EPS_START, EPS_DECAY
    eye = np.identity(N_STATES)
    taken, r_sums, eps_list, step = [], [], [], 0
    while step < total_steps:
        s, _ = env.reset(seed=seed if step == 0 else None)
        eps *= decay_factor
        done, r_sum = False, 0
        while not done and step < total_steps:
            if actions is not None:
                a = int(actions[step])
            elif rng.random() < eps:
                a = rng.randint(0, 2)
            else:
                a = np.argmax(model.predict(eye[s:s + 1], verbose=0))
            new_s, r, terminated, truncated, _ = env.step(a)
            done = terminated or truncated
            target = r + y * np.max(model.predict(eye[new_s:new_s + 1], verbose=0))
            target_vec = model.predict(eye[s:s + 1], verbose=0)[0]
            target_vec[a] = target
            model.fit(eye[s:s + 1], target_vec.reshape(-1, 2), epochs=1, verbose=0)
            s = new_s
            r_sum += r
            taken.append(int(a))
            step += 1
        r_sums.append(r_sum)
        eps_list.append(eps)
    seconds = time.perf_counter() - start
    q = np.concatenate([model.predict(eye[i:i + 1], verbose=0) for i in range(N_STATES)]).astype(float)
    return Result(q, np.array(r_sums, float), np.array(eps_list), model.get_weights(),
                  np.array(taken), seconds)
