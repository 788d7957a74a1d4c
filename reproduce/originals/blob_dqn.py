"""sentdex's "Reinforcement Learning w/ Python" parts 5-6: the image DQN on ``BlobEnv``, published and fast.

The published agent (checked against public copies; the report lists where they disagree):

- **Network** ``Conv2D(256, 3x3) -> relu -> MaxPooling2D(2) -> Dropout(0.2)``, twice, ``Flatten ->
  Dense(64) -> Dense(9, linear)`` on the 10 x 10 x 3 image divided by 255; ``mse``, ``Adam(lr=0.001)``.
  A target network starts as a copy.
- **Replay** a deque of 50,000 transitions ``(state, action, reward, new_state, done)``; from 1,000
  stored on, every step trains once on ``random.sample(memory, 64)``: ``Q(s)`` from the model and
  ``Q(s')`` from the target model (two ``predict`` calls), the taken action's value replaced by
  ``reward`` (done) or ``reward + 0.99 max Q_target(s')``, one ``fit`` on the 64 (``shuffle=False``).
- **Target** each terminal step counts one; when the count exceeds 5, the target copies the model and
  the count restarts: a copy every 6 episodes (once training has started).
- **Exploration** ``np.random.random() > epsilon`` -> ``argmax(model.predict(state / 255))``, else
  ``np.random.randint(0, 9)``; epsilon starts at 1 and is multiplied by 0.99975 after every episode,
  floored at 0.001; 20,000 episodes. The 200-step time limit is a ``done`` like food and enemy, so its
  target does not bootstrap (a quirk kept).
- **Logging** every 50 episodes (and after the first) the mean, min and max episode reward of the last
  50 episodes and epsilon, to a TensorBoard callback: :data:`STATS_EVERY`, written to ``stats.csv``.

:func:`train_reference` is that loop, readable, with tf-keras ``predict``/``fit``. :class:`FastBlobDQN`
runs the same algorithm in numpy and numba, in 1.5x less process time per training step (25 against 37 ms,
one thread each: ``python bench/blob_dqn.py``). A training step is arithmetic (about 1.7 GFLOP: five
passes of the second convolution at 151 M multiply-adds each, and the first), not Keras overhead: the
reference's whole step as one TensorFlow call still takes 30 ms, and the three dense conv2 products below
alone take 9 ms. How:

1. The image holds three coloured pixels, so the first convolution is a sum over the blobs in each
   3 x 3 window (numba), computed only for the pooled cells a blob reaches; every other pooled cell
   is ``relu(b1)``. Its gradient follows the same few pixels.
2. The second convolution (2 x 2 outputs of a 3 x 3 x 256 window) is one float32 matrix product per
   pass (im2col), with one BLAS thread (two processes of ``reproduce all`` share 2 cores).
3. Max pooling routes the gradient to the first maximum (TensorFlow's choice), ``mse`` is the mean
   over 64 x 9, Adam is TensorFlow's ``ApplyAdam`` (lr 0.001, betas 0.9/0.999, epsilon 1e-7).

What the two share, so that they make exactly the same draws: the env (``Blob-v0`` with part 6's
rules, starts and random moves from its ``np_random``), the agent's generator (epsilon tests and
random actions), a ``random.Random`` for ``random.sample`` (Python's own algorithm picks the same
indices), and the dropout masks, drawn by numpy from their own generator and fed to a ``FedDropout``
layer in the reference (Keras's Dropout draws inside TensorFlow, which no second implementation can
replay): a documented difference from the original. Initial weights are numpy's glorot-uniform (zero
biases), the distribution Keras uses. Tested: the same actions and rewards, and weights within 1e-5
over 70 training steps. The weights agree to ~1e-7 (summation order) until a near-tie (a max-pool
position or a ReLU sign) that rounding decides differently: seed 0's first, at training step 41, moves
675 kernel elements of one conv2 output channel by ~1e-4, and the runs drift apart from there (3e-2
after 151 steps; ``python bench/blob_dqn.py --trace 41``).
"""

from __future__ import annotations

import functools
import random
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from reproduce.envs.blob import PART6, SIZE
from reproduce.originals.blob_settings import STATS_EVERY, Settings  # noqa: F401  (Settings: re-exported)

ACTIONS = 9
AGENT_STREAM, MASK_STREAM = 6, 66  # generators seeded (seed, 6) and (seed, 66), apart from the env's (seed)
SHAPES = {"conv1": (3, 3, 3, 256), "conv2": (3, 3, 256, 256), "dense1": (256, 64), "dense2": (64, ACTIONS)}
WEIGHT_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4")


def initial_weights(seed: int) -> list[np.ndarray]:
    """glorot-uniform kernels (fan in/out x receptive field, as Keras), zero biases; float32, in
    Keras's order."""
    rng = np.random.default_rng([seed, 60])
    weights = []
    for name in ("conv1", "conv2", "dense1", "dense2"):
        shape = SHAPES[name]
        field_size = int(np.prod(shape[:-2])) if len(shape) == 4 else 1
        fan_in, fan_out = shape[-2] * field_size, shape[-1] * field_size
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights += [
            rng.uniform(-limit, limit, size=shape).astype(np.float32),
            np.zeros(shape[-1], np.float32),
        ]
    return weights


def agent_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, AGENT_STREAM])


def mask_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, MASK_STREAM])


def draw_masks(rng: np.random.Generator, batch: int, rate: float):
    """Keep-masks of the two Dropout layers for one ``fit`` (float32 0/1)."""
    m1 = (rng.random((batch, 4, 4, 256)) >= rate).astype(np.float32)
    m2 = (rng.random((batch, 1, 1, 256)) >= rate).astype(np.float32)
    return m1, m2


def make_env(seed: int):
    import gymnasium as gym

    from reproduce.envs import BLOB_ID

    return gym.make(BLOB_ID, **PART6)


@dataclass
class Log:
    """What a run produced, per episode and per ``STATS_EVERY`` episodes."""

    episode_rewards: list = field(default_factory=list)
    episode_lengths: list = field(default_factory=list)
    epsilon: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    rewards: list = field(default_factory=list)
    stats: list = field(default_factory=list)  # (episode, avg, min, max, epsilon)
    train_steps: int = 0
    seconds: float = 0.0

    def aggregate(self, episode: int, epsilon: float):
        """The tutorial's ``if not episode % AGGREGATE_STATS_EVERY or episode == 1`` block."""
        if not episode % STATS_EVERY or episode == 1:
            last = self.stats_window()
            self.stats.append((episode, sum(last) / len(last), min(last), max(last), epsilon))

    def stats_window(self):
        return [-200.0, *self.episode_rewards][-STATS_EVERY:]  # the tutorial starts ep_rewards at [-200]


# ---------------------------------------------------------------------------------------------------
# The published agent (reference, tf-keras)
# ---------------------------------------------------------------------------------------------------


def _fed_dropout_class():
    import tensorflow as tf

    class FedDropout(tf.keras.layers.Layer):
        """``Dropout(rate)`` whose keep-mask is fed (``set_mask``) instead of drawn inside TensorFlow."""

        def __init__(self, rate, batch, **kwargs):
            super().__init__(**kwargs)
            self.rate, self.batch = rate, batch

        def build(self, input_shape):
            self.mask = self.add_weight(
                "mask", (self.batch, *input_shape[1:]), initializer="ones", trainable=False
            )

        def call(self, inputs, training=None):
            if training is None:  # as Keras's Dropout: graph-mode fit sets the learning phase
                training = tf.keras.backend.learning_phase()

            def dropped():
                return inputs * (1.0 / (1.0 - self.rate)) * self.mask  # tf.nn.dropout: x * scale * keep_mask

            return tf.__internal__.smart_cond.smart_cond(training, dropped, lambda: tf.identity(inputs))

        def set_mask(self, mask):
            tf.keras.backend.set_value(self.mask, mask)

    return FedDropout


def build_model(settings: Settings = Settings()):
    """The tutorial's ``create_model``, in tf-keras (Dropout with fed masks)."""
    import tensorflow as tf

    import reproduce  # noqa: F401

    layers = tf.keras.layers
    fed = _fed_dropout_class()
    model = tf.keras.Sequential(
        [
            layers.Conv2D(256, (3, 3), input_shape=(SIZE, SIZE, 3)),
            layers.Activation("relu"),
            layers.MaxPooling2D(2, 2),
            fed(settings.dropout, settings.minibatch),
            layers.Conv2D(256, (3, 3)),
            layers.Activation("relu"),
            layers.MaxPooling2D(2, 2),
            fed(settings.dropout, settings.minibatch),
            layers.Flatten(),
            layers.Dense(64),
            layers.Dense(ACTIONS, activation="linear"),
        ]
    )
    model.compile(
        loss="mse",
        optimizer=tf.keras.optimizers.legacy.Adam(learning_rate=settings.learning_rate),
        metrics=["accuracy"],
    )
    return model


class DQNAgent:
    """The tutorial's ``DQNAgent``, with its own generators for replay sampling and dropout masks."""

    def __init__(self, seed: int, settings: Settings = Settings()):
        self.s = settings
        self.model = build_model(settings)
        weights = initial_weights(seed)
        self.model.set_weights(self._with_masks(weights))
        self.target_model = build_model(settings)
        self.target_model.set_weights(self.model.get_weights())
        self.replay_memory = deque(maxlen=settings.replay_size)
        self.target_update_counter = 0
        self.sampler = random.Random(seed)  # the tutorial's random.sample
        self.masks = mask_rng(seed)
        self.train_steps = 0

    def _with_masks(self, weights):
        """Keras's weights list: ours plus the two (non-trainable) dropout masks."""
        out = list(weights[:4])
        out.insert(2, np.ones((self.s.minibatch, 4, 4, 256), np.float32))
        out += [np.ones((self.s.minibatch, 1, 1, 256), np.float32), *weights[4:]]
        return out

    def weights(self) -> list[np.ndarray]:
        w = self.model.get_weights()
        return [w[0], w[1], w[3], w[4], w[6], w[7], w[8], w[9]]

    def update_replay_memory(self, transition):
        self.replay_memory.append(transition)

    def get_qs(self, state):
        return self.model.predict(np.array(state).reshape(-1, *state.shape) / 255, verbose=0)[0]

    def train(self, terminal_state, step):
        if len(self.replay_memory) < self.s.min_replay:
            return
        minibatch = self.sampler.sample(self.replay_memory, self.s.minibatch)
        current_states = np.array([transition[0] for transition in minibatch]) / 255
        current_qs_list = self.model.predict(current_states, verbose=0)
        new_current_states = np.array([transition[3] for transition in minibatch]) / 255
        future_qs_list = self.target_model.predict(new_current_states, verbose=0)
        x, y = [], []
        for index, (current_state, action, reward, _new_current_state, done) in enumerate(minibatch):
            if not done:
                max_future_q = np.max(future_qs_list[index])
                new_q = float(reward) + self.s.discount * float(max_future_q)  # float64, as numpy 1.x
            else:
                new_q = reward
            current_qs = current_qs_list[index]
            current_qs[action] = new_q
            x.append(current_state)
            y.append(current_qs)
        m1, m2 = draw_masks(self.masks, self.s.minibatch, self.s.dropout)
        self.model.layers[3].set_mask(m1)
        self.model.layers[7].set_mask(m2)
        self.model.fit(np.array(x) / 255, np.array(y), batch_size=self.s.minibatch, verbose=0, shuffle=False)
        self.train_steps += 1
        if terminal_state:
            self.target_update_counter += 1
        if self.target_update_counter > self.s.update_target_every:
            self.target_model.set_weights(self.model.get_weights())
            self.target_update_counter = 0


def train_reference(seed: int, episodes: int, settings: Settings = Settings(), max_steps: int | None = None):
    """The tutorial's main loop (``for episode in tqdm(range(1, EPISODES + 1))``), readable and slow.
    ``max_steps`` stops after that many env steps (for tests and benchmarks)."""
    env = make_env(seed)
    agent = DQNAgent(seed, settings)
    rng = agent_rng(seed)
    epsilon = settings.epsilon
    log = Log()
    start = time.perf_counter()
    steps = 0
    for episode in range(1, episodes + 1):
        episode_reward = 0
        step = 1
        current_state, _ = env.reset(seed=seed) if episode == 1 else env.reset()
        done = False
        while not done:
            if rng.random() > epsilon:
                action = int(np.argmax(agent.get_qs(current_state)))
            else:
                action = int(rng.integers(0, ACTIONS))
            new_state, reward, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            episode_reward += reward
            agent.update_replay_memory((current_state, action, reward, new_state, done))
            agent.train(done, step)
            log.actions.append(action)
            log.rewards.append(reward)
            current_state = new_state
            step += 1
            steps += 1
            if max_steps is not None and steps >= max_steps:
                break
        log.episode_rewards.append(episode_reward)
        log.episode_lengths.append(step - 1)
        log.epsilon.append(epsilon)
        log.aggregate(episode, epsilon)
        if epsilon > settings.min_epsilon:
            epsilon *= settings.epsilon_decay
            epsilon = max(settings.min_epsilon, epsilon)
        if max_steps is not None and steps >= max_steps:
            break
    log.train_steps = agent.train_steps
    log.seconds = time.perf_counter() - start
    return agent, log


# ---------------------------------------------------------------------------------------------------
# The same agent in numpy + numba
# ---------------------------------------------------------------------------------------------------


def _pixels_python(images, pix, val, cnt):
    """The coloured pixels of each uint8 image (at most 3), and their values / 255 as float32."""
    for n in range(images.shape[0]):
        k = 0
        for x in range(images.shape[1]):
            for y in range(images.shape[2]):
                if images[n, x, y, 0] or images[n, x, y, 1] or images[n, x, y, 2]:
                    pix[n, k, 0] = x
                    pix[n, k, 1] = y
                    for c in range(3):
                        val[n, k, c] = np.float32(images[n, x, y, c] / 255.0)
                    k += 1
        cnt[n] = k


def _conv1_pool_python(pix, val, cnt, w1, b1, pooled, arg, active, hits):
    """relu(maxpool(conv1(image))) for sparse images: pooled (B, 4, 4, C); arg: the first max of the 2 x 2
    window (row-major), active: the max is > 0 (relu passes the gradient); hits: a blob reaches the cell
    (elsewhere the cell is relu(b1))."""
    channels = b1.shape[0]
    z = np.empty((4, channels), np.float32)
    for n in range(pix.shape[0]):
        for cx in range(4):
            for cy in range(4):
                hit = False
                for k in range(cnt[n]):
                    px, py = pix[n, k, 0], pix[n, k, 1]
                    if 2 * cx <= px <= 2 * cx + 3 and 2 * cy <= py <= 2 * cy + 3:
                        hit = True
                hits[n, cx, cy] = hit
                if not hit:  # no blob under any of the 4 windows: every position is b1
                    for c in range(channels):
                        best = b1[c]
                        pooled[n, cx, cy, c] = best if best > 0 else np.float32(0.0)
                        arg[n, cx, cy, c] = 0
                        active[n, cx, cy, c] = best > 0
                    continue
                for a in range(4):
                    i, j = 2 * cx + a // 2, 2 * cy + a % 2
                    for c in range(channels):
                        z[a, c] = np.float32(0.0)
                    for k in range(cnt[n]):
                        di, dj = pix[n, k, 0] - i, pix[n, k, 1] - j
                        if 0 <= di <= 2 and 0 <= dj <= 2:
                            for ci in range(3):
                                v = val[n, k, ci]
                                if v != 0:
                                    for c in range(channels):
                                        z[a, c] += v * w1[di, dj, ci, c]
                    for c in range(channels):
                        z[a, c] += b1[c]
                for c in range(channels):
                    best = z[0, c]
                    which = 0
                    for a in range(1, 4):
                        if z[a, c] > best:
                            best = z[a, c]
                            which = a
                    pooled[n, cx, cy, c] = best if best > 0 else np.float32(0.0)
                    arg[n, cx, cy, c] = which
                    active[n, cx, cy, c] = best > 0


def _conv1_grad_python(pix, val, cnt, grad, arg, active, dw1, db1):
    """conv1's kernel and bias gradients from the pooled gradient, routed through max pool and relu."""
    channels = db1.shape[0]
    for n in range(pix.shape[0]):
        for cx in range(4):
            for cy in range(4):
                for c in range(channels):
                    if active[n, cx, cy, c]:
                        g = grad[n, cx, cy, c]
                        db1[c] += g
                        a = arg[n, cx, cy, c]
                        i, j = 2 * cx + a // 2, 2 * cy + a % 2
                        for k in range(cnt[n]):
                            di, dj = pix[n, k, 0] - i, pix[n, k, 1] - j
                            if 0 <= di <= 2 and 0 <= dj <= 2:
                                for ci in range(3):
                                    dw1[di, dj, ci, c] += val[n, k, ci] * g


def _adam_python(w, m, v, g, alpha, one_minus_b1, one_minus_b2, eps):
    """One pass of TensorFlow's ApplyAdam over flat float32 arrays (the same operations, in order)."""
    for i in range(w.shape[0]):
        m[i] += (g[i] - m[i]) * one_minus_b1
        v[i] += (g[i] * g[i] - v[i]) * one_minus_b2
        w[i] -= (m[i] * alpha) / (np.sqrt(v[i]) + eps)


@functools.cache
def _kernels():
    import numba

    jit = numba.njit(cache=True)
    return jit(_pixels_python), jit(_conv1_pool_python), jit(_conv1_grad_python), jit(_adam_python)


def _im2col(pooled: np.ndarray) -> np.ndarray:
    """(B, 4, 4, C) -> (B * 4, 9 * C): the 3 x 3 windows of the 2 x 2 valid outputs, (kh, kw, c) order."""
    b, _, _, c = pooled.shape
    cols = np.empty((b, 2, 2, 3, 3, c), np.float32)
    for i in range(2):
        for j in range(2):
            cols[:, i, j] = pooled[:, i : i + 3, j : j + 3, :]
    return cols.reshape(b * 4, 9 * c)


def _col2im(dcols: np.ndarray, b: int, c: int) -> np.ndarray:
    d = dcols.reshape(b, 2, 2, 3, 3, c)
    out = np.zeros((b, 4, 4, c), np.float32)
    for i in range(2):
        for j in range(2):
            out[:, i : i + 3, j : j + 3, :] += d[:, i, j]
    return out


class Network:
    """The Q-network's float32 forward and backward pass (numpy BLAS + numba), and TensorFlow's Adam."""

    def __init__(self, weights, settings: Settings = Settings(), jit: bool = True):
        self.w = [np.array(w, np.float32) for w in weights]
        self.s = settings
        self.m = [np.zeros_like(w) for w in self.w]
        self.v = [np.zeros_like(w) for w in self.w]
        self.iterations = 0
        self.pixels, self.conv1, self.conv1_grad, self.adam_kernel = (
            _kernels() if jit else (_pixels_python, _conv1_pool_python, _conv1_grad_python, _adam_python)
        )

    def sparse(self, images: np.ndarray):
        b = images.shape[0]
        pix = np.zeros((b, 3, 2), np.int64)
        val = np.zeros((b, 3, 3), np.float32)
        cnt = np.zeros(b, np.int64)
        self.pixels(np.ascontiguousarray(images), pix, val, cnt)
        return pix, val, cnt

    def first(self, sparse, weights=None):
        w1, b1 = (weights or self.w)[:2]
        pix, val, cnt = sparse
        b = pix.shape[0]
        pooled = np.empty((b, 4, 4, 256), np.float32)
        arg = np.empty((b, 4, 4, 256), np.int8)
        active = np.empty((b, 4, 4, 256), np.bool_)
        hits = np.empty((b, 4, 4), np.bool_)
        self.conv1(pix, val, cnt, w1, b1, pooled, arg, active, hits)
        return pooled, arg, active, hits

    def head(self, pooled, weights=None, masks=None):
        """conv2 -> relu -> pool -> (dropout) -> dense -> dense from the pooled first layer."""
        _, _, w2, b2, w3, b3, w4, b4 = weights or self.w
        b = pooled.shape[0]
        scale = np.float32(1.0 / (1.0 - self.s.dropout))
        x = pooled if masks is None else pooled * scale * masks[0]
        cols = _im2col(x)
        z2 = (cols @ w2.reshape(-1, 256) + b2).reshape(b, 4, 256)
        r2 = np.maximum(z2, 0)
        which = r2.argmax(axis=1)  # the first maximum of the 2 x 2 window
        pool2 = np.take_along_axis(r2, which[:, None, :], axis=1)[:, 0, :]
        d2 = pool2 if masks is None else pool2 * scale * masks[1].reshape(b, 256)
        h = d2 @ w3 + b3
        q = h @ w4 + b4
        return q, (cols, z2, which, d2, h)

    def predict(self, images, weights=None):
        """Q without dropout. The pooled cells no blob reaches all hold relu(b1): their share of the second
        convolution, relu(b1) @ W2[offset], is computed once per offset, and only the other cells (41% of
        the 3 x 3 x 4 blocks, on average) go through the matrix product."""
        weights = weights or self.w
        pooled, _, _, hits = self.first(self.sparse(images), weights)
        _, b1, w2, b2, w3, b3, w4, b4 = weights
        b = pooled.shape[0]
        kernels = w2.reshape(9, 256, 256)
        empty = np.maximum(b1, 0) @ kernels  # (9, 256): relu(b1) through each offset's kernel
        z2 = np.broadcast_to(b2, (b, 4, 256)).copy()
        for o in range(9):
            oi, oj = divmod(o, 3)
            hit = hits[:, oi : oi + 2, oj : oj + 2].reshape(
                b, 4
            )  # output p = (pi, pj) reads cell p + (oi, oj)
            n_idx, p_idx = np.nonzero(hit)
            z2[n_idx, p_idx] += pooled[n_idx, p_idx // 2 + oi, p_idx % 2 + oj] @ kernels[o]
            z2[~hit] += empty[o]
        pool2 = np.maximum(z2, 0).max(axis=1)
        return (pool2 @ w3 + b3) @ w4 + b4

    def train_step(self, images, targets, masks):
        """One ``fit`` on a batch: mse over the batch and the 9 outputs, TensorFlow's Adam."""
        w1, b1, w2, b2, w3, b3, w4, b4 = self.w
        sparse = self.sparse(images)
        pooled, arg, active, _ = self.first(sparse)
        q, (cols, z2, which, d2, h) = self.head(pooled, masks=masks)
        b = images.shape[0]
        scale = np.float32(1.0 / (1.0 - self.s.dropout))
        dq = (np.float32(2.0) * (q - targets)) / np.float32(b * ACTIONS)
        dw4, db4 = h.T @ dq, dq.sum(axis=0)
        dh = dq @ w4.T
        dw3, db3 = d2.T @ dh, dh.sum(axis=0)
        dd2 = (dh @ w3.T) * scale * masks[1].reshape(b, 256)
        picked = np.take_along_axis(z2, which[:, None, :], axis=1)[:, 0, :]
        dz2 = np.zeros((b, 4, 256), np.float32)
        np.put_along_axis(dz2, which[:, None, :], (dd2 * (picked > 0))[:, None, :], axis=1)
        dz2 = dz2.reshape(b * 4, 256)
        dw2 = (cols.T @ dz2).reshape(w2.shape)
        db2 = dz2.sum(axis=0)
        dpooled = _col2im(dz2 @ w2.reshape(-1, 256).T, b, 256) * scale * masks[0]
        dw1 = np.zeros_like(w1)
        db1 = np.zeros_like(b1)
        self.conv1_grad(*sparse, dpooled, arg, active, dw1, db1)
        self.adam([dw1, db1, dw2, db2, dw3, db3, dw4, db4])
        return q

    def adam(self, grads):
        """``ResourceApplyAdam``: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
        var -= m alpha / (sqrt v + eps)."""
        self.iterations += 1
        t = np.float32(self.iterations)
        b1, b2, eps = np.float32(0.9), np.float32(0.999), np.float32(1e-7)
        b1p, b2p = np.power(b1, t), np.power(b2, t)
        alpha = np.float32(self.s.learning_rate) * np.sqrt(np.float32(1) - b2p) / (np.float32(1) - b1p)
        for w, m, v, g in zip(self.w, self.m, self.v, grads):
            self.adam_kernel(
                w.reshape(-1),
                m.reshape(-1),
                v.reshape(-1),
                np.ascontiguousarray(g).reshape(-1),
                alpha,
                np.float32(1) - b1,
                np.float32(1) - b2,
                eps,
            )


class FastBlobDQN:
    """The tutorial's agent and loop on :class:`Network`: the same draws as :func:`train_reference`."""

    def __init__(self, seed: int, settings: Settings = Settings(), jit: bool = True):
        s = settings
        self.s, self.seed = s, seed
        self.net = Network(initial_weights(seed), s, jit)
        self.target = [w.copy() for w in self.net.w]
        n = s.replay_size
        self.states = np.zeros((n, SIZE, SIZE, 3), np.uint8)
        self.new_states = np.zeros((n, SIZE, SIZE, 3), np.uint8)
        self.actions = np.zeros(n, np.int64)
        self.rewards = np.zeros(n)
        self.dones = np.zeros(n, bool)
        self.stored = 0  # transitions ever stored (the deque holds the last min(stored, n))
        self.target_update_counter = 0
        self.sampler = random.Random(seed)
        self.masks = mask_rng(seed)
        self.rng = agent_rng(seed)
        self.env = make_env(seed)
        self.epsilon = s.epsilon
        self.episode = 0  # episodes finished
        self.log = Log()

    def remember(self, state, action, reward, new_state, done):
        i = self.stored % self.s.replay_size
        self.states[i], self.new_states[i] = state, new_state
        self.actions[i], self.rewards[i], self.dones[i] = action, reward, done
        self.stored += 1

    def train(self, terminal_state):
        s = self.s
        size = min(self.stored, s.replay_size)
        if size < s.min_replay:
            return
        oldest = self.stored - size
        picks = self.sampler.sample(range(size), s.minibatch)  # the indices random.sample(deque, k) takes
        slots = (np.array(picks) + oldest) % s.replay_size
        states, new_states = self.states[slots], self.new_states[slots]
        current_qs = self.net.predict(states)
        future_qs = self.net.predict(new_states, self.target)
        targets = current_qs.copy()
        best = future_qs.max(axis=1).astype(np.float64)
        rewards, dones, actions = self.rewards[slots], self.dones[slots], self.actions[slots]
        new_q = np.where(dones, rewards, rewards + s.discount * best)
        targets[np.arange(s.minibatch), actions] = new_q  # float64 -> float32, as numpy 1.x
        masks = draw_masks(self.masks, s.minibatch, s.dropout)
        self.net.train_step(states, targets, masks)
        self.log.train_steps += 1
        if terminal_state:
            self.target_update_counter += 1
        if self.target_update_counter > s.update_target_every:
            self.target = [w.copy() for w in self.net.w]
            self.target_update_counter = 0

    def run_episode(self, max_steps: int | None = None) -> int:
        """One episode of the tutorial's loop; returns the env steps taken."""
        episode = self.episode + 1
        state, _ = self.env.reset(seed=self.seed) if episode == 1 else self.env.reset()
        episode_reward, steps, done = 0, 0, False
        while not done:
            if self.rng.random() > self.epsilon:
                action = int(np.argmax(self.net.predict(state[None])[0]))
            else:
                action = int(self.rng.integers(0, ACTIONS))
            new_state, reward, terminated, truncated, _ = self.env.step(action)
            done = terminated or truncated
            episode_reward += reward
            self.remember(state, action, reward, new_state, done)
            self.train(done)
            self.log.actions.append(action)
            self.log.rewards.append(reward)
            state = new_state
            steps += 1
            if max_steps is not None and steps >= max_steps:
                break
        self.episode = episode
        self.log.episode_rewards.append(episode_reward)
        self.log.episode_lengths.append(steps)
        self.log.epsilon.append(self.epsilon)
        self.log.aggregate(episode, self.epsilon)
        if self.epsilon > self.s.min_epsilon:
            self.epsilon = max(self.s.min_epsilon, self.epsilon * self.s.epsilon_decay)
        return steps

    def run(self, episodes: int, max_steps: int | None = None, on_episode=None) -> Log:
        """Episodes until ``episodes`` are done (or ``max_steps`` env steps in all)."""
        from threadpoolctl import threadpool_limits

        start = time.perf_counter()
        taken = 0
        with threadpool_limits(1, user_api="blas"):
            while self.episode < episodes:
                taken += self.run_episode(None if max_steps is None else max_steps - taken)
                if on_episode is not None:
                    on_episode(self)
                if max_steps is not None and taken >= max_steps:
                    break
        self.log.seconds += time.perf_counter() - start
        return self.log

    # --- checkpoints: everything needed to continue exactly, replay memory included
    def state(self) -> tuple[dict, dict]:
        arrays = {f"w_{i}": w for i, w in enumerate(self.net.w)}
        arrays |= {f"m_{i}": w for i, w in enumerate(self.net.m)} | {
            f"v_{i}": w for i, w in enumerate(self.net.v)
        }
        arrays |= {f"target_{i}": w for i, w in enumerate(self.target)}
        n = min(self.stored, self.s.replay_size)
        arrays |= {
            "states": self.states[:n],
            "new_states": self.new_states[:n],
            "actions": self.actions[:n],
            "rewards": self.rewards[:n],
            "dones": self.dones[:n],
            "sampler": np.array(self.sampler.getstate()[1], dtype=np.int64),
        }
        log = self.log
        arrays |= {
            "log_episode_rewards": np.array(log.episode_rewards, float),
            "log_episode_lengths": np.array(log.episode_lengths, np.int64),
            "log_epsilon": np.array(log.epsilon),
            "log_stats": np.array(log.stats, float).reshape(-1, 5),
        }
        state = {
            "seed": self.seed,
            "episode": self.episode,
            "stored": self.stored,
            "epsilon": self.epsilon,
            "iterations": self.net.iterations,
            "target_update_counter": self.target_update_counter,
            "train_steps": log.train_steps,
            "seconds": log.seconds,
            "rng": self.rng.bit_generator.state,
            "masks": self.masks.bit_generator.state,
            "env_rng": self.env.unwrapped.np_random.bit_generator.state,
        }
        return state, arrays

    @classmethod
    def restore(cls, state: dict, arrays: dict, settings: Settings = Settings()) -> FastBlobDQN:
        agent = cls(int(state["seed"]), settings)
        agent.net.w = [arrays[f"w_{i}"].astype(np.float32) for i in range(8)]
        agent.net.m = [arrays[f"m_{i}"].astype(np.float32) for i in range(8)]
        agent.net.v = [arrays[f"v_{i}"].astype(np.float32) for i in range(8)]
        agent.target = [arrays[f"target_{i}"].astype(np.float32) for i in range(8)]
        n = len(arrays["actions"])
        agent.stored = int(state["stored"])
        # slots as they were: the ring keeps transition t at t % replay_size
        oldest = agent.stored - n
        slots = (np.arange(n) + oldest) % settings.replay_size
        agent.states[slots], agent.new_states[slots] = arrays["states"], arrays["new_states"]
        agent.actions[slots], agent.rewards[slots], agent.dones[slots] = (
            arrays["actions"],
            arrays["rewards"],
            arrays["dones"],
        )
        words = [int(x) for x in arrays["sampler"]]
        agent.sampler.setstate((3, tuple(words), None))
        agent.episode, agent.epsilon = int(state["episode"]), float(state["epsilon"])
        agent.net.iterations = int(state["iterations"])
        agent.target_update_counter = int(state["target_update_counter"])
        agent.rng.bit_generator.state = state["rng"]
        agent.masks.bit_generator.state = state["masks"]
        agent.env.reset(seed=agent.seed)  # create the env's generator, then put back its state
        agent.env.unwrapped.np_random.bit_generator.state = state["env_rng"]
        log = agent.log
        log.episode_rewards = arrays["log_episode_rewards"].tolist()
        log.episode_lengths = arrays["log_episode_lengths"].tolist()
        log.epsilon = arrays["log_epsilon"].tolist()
        log.stats = [tuple(row) for row in arrays["log_stats"].tolist()]
        log.train_steps, log.seconds = int(state["train_steps"]), float(state["seconds"])
        return agent


def greedy_returns(weights, episodes: int, seed: int) -> np.ndarray:
    """Greedy test episodes of a trained network on part 6's ``BlobEnv``: episode ``i`` is reset with
    ``seed + i``; all episodes step together, their states predicted in one batch per step."""
    from threadpoolctl import threadpool_limits

    net = Network(weights)
    envs = [make_env(seed + i) for i in range(episodes)]
    states = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    totals = np.zeros(episodes)
    active = np.ones(episodes, bool)
    with threadpool_limits(1, user_api="blas"):
        while active.any():
            idx = np.flatnonzero(active)
            actions = net.predict(states[idx]).argmax(axis=1)
            for i, action in zip(idx, actions):
                state, reward, terminated, truncated, _ = envs[i].step(int(action))
                states[i] = state
                totals[i] += reward
                active[i] = not (terminated or truncated)
    return totals
