"""The Dot-masked CartPole-v0 DQN notebook: the notebook's loop, and the same algorithm fast.

Published notebook (Deep Q-learning with Keras on CartPole, October 2017): ``Input(4) -> Dense(4,
relu) -> Dense(4, relu) -> Dense(2)``, the output dotted (``Dot(axes=-1)``) with the one-hot action,
compiled with ``loss='mse', optimizer='rmsprop'``; a second ``Model`` on the same layers, without the
mask, acts and builds the targets. Replay ``deque(maxlen=5000)``, OBSERVE 5000, BATCH 128, GAMMA
0.9, 100,000 steps; eps starts at 0.1 and is multiplied by 0.9 after the eps test of every step
``t > OBSERVE`` while ``eps > 1e-4``: 66 times (steps 5001 to 5066), after which it stays at
``0.1 * 0.9**66`` = 9.6e-5 and still explores about once per 10,000 steps. Every 5,000 steps it
prints the mean "up time" of the last 100 episodes (:data:`PUBLISHED_CURVE`); then a greedy demo
episode (``print(t)``: 114) and a random one (15).

:func:`train_reference` runs that loop as written (Keras ``predict`` / ``train_on_batch`` per step,
the global ``np.random`` for eps and sampling, gymnasium's ``CartPole-v0``). :class:`FastDotMask`
(:func:`train_fast`) runs the same algorithm as one XLA-compiled ``tf.while_loop`` per chunk of at
most ``log_every`` steps, CartPole's physics and the replay deque inside, in the Keras session: same
model, same optimizer object and its ``apply_gradients``, Keras's ``mse``, one update per step from
``t = OBSERVE + 1``, targets from the current weights. Both return a :class:`Result`.

The notebook's quirks, kept by ``quirks=True`` (both implementations):

- A random first action is taken before the loop (``np.random.choice(2)``); that transition is not
  stored and its reward is not counted.
- After a terminal step the notebook calls ``env.reset()`` and throws its return value away: the env
  restarts, the agent does not. On gymnasium we do exactly that (``env.reset()``, result discarded):
  the next step acts on the stale terminal observation, and stores ``(terminal obs, a, 1.0, first
  obs of the new episode, done)``. ``env.step`` is never called after ``done`` (the reset happened),
  so old gym's ``steps_beyond_done`` branch (reward 0 and a warning; gymnasium's
  ``steps_beyond_terminated`` is the same) is never reached: every reward is 1.0 on both.
- "Up time" adds the reward of non-terminal steps only: a finished episode of L env steps logs L - 1
  (the first one L - 2: its pre-loop step is not counted either), so a full 200-step episode logs
  199 and the published 198.13 is near the ceiling. The printed mean includes the running episode.
- ``done`` (``terminated or truncated``: old gym's ``done`` included the 200-step limit) makes the
  target ``r`` alone: time-limit truncations are treated as terminal.
- Sampling is ``np.random.choice(REPLAY_MEMORY, BATCH, replace=False)``, which assumes a full
  deque. With the notebook's settings it is full: the first training step, ``t = 5001``, comes after
  5002 appends. With ``observe < memory - 2`` the notebook can index past the deque (``IndexError``),
  so ``quirks=True`` refuses those settings with a :class:`~reproduce.runs.ConfigError`.

``quirks=False`` fixes exactly these: no pre-loop step (the loop starts from the reset observation),
the reset observation is used, up time counts every step (it is the episode length), and sampling
draws ``np.random.choice(len(D), BATCH, replace=False)``. Truncations stay terminal in the target.

Differences from the original notebook (both implementations unless stated):

1. Seeding. The notebook never seeds; here ``np.random.seed(seed)`` right before its first draw, TF
   and Python ``random`` by :func:`~reproduce.originals.keras_qnet.new_session`, and the env by
   ``reset(seed=seed)``.
2. gymnasium 1.x instead of gym 0.9: ``reset() -> (obs, info)``, a 5-tuple ``step``, ``done`` is
   ``terminated or truncated``; same physics, thresholds, reset distribution and 200-step limit.
   Observations are float32 (old gym returned float64); Keras casts them to float32 either way, so
   the network sees the same numbers.
3. Optimizer. The notebook's ``'rmsprop'`` was Keras 2.0's ``RMSprop(lr=0.001, rho=0.9,
   epsilon=1e-8)`` (Keras 2.1.3 changed the default epsilon to ``K.epsilon()`` = 1e-7). Today the
   string resolves, in graph mode, to ``tf.keras.optimizers.legacy.RMSprop`` with epsilon 1e-7, so
   we pass ``epsilon=1e-8`` explicitly (:data:`RMSPROP_EPSILON`). The update is Keras 2.0's formula:
   ``a = rho a + (1 - rho) g^2; p -= lr g / (sqrt(a) + eps)``, accumulators from zero.
4. ``verbose=0`` on ``predict``; nothing is rendered; the demo and evaluation episodes act from a
   float32 numpy forward pass of the weights (:func:`q_values`) instead of ``predict``.
5. Fast version: random numbers are drawn first by :func:`published_draws`. None of the loop's
   draws depends on the network: ``np.random.random()`` comes every step; ``np.random.choice(2)``
   only when it passes against an eps that depends on ``t`` alone; a training step's
   ``choice(N, 128, replace=False)`` depends on ``t`` only (``N = len(D) = min(t + 1, memory)``
   without quirks); the env's reset states come from the env's own generator in order, whenever the
   resets happen (the network decides when, not what). :func:`published_draws` replays the MT19937
   stream of ``np.random.RandomState(seed)`` as numpy's legacy ``random()``, ``randint`` and
   permutation shuffle consume it (numba; about 700 million words for 100,000 steps) and the reset
   states from the env's generator; the tests check both against the real calls.
6. Fast version: CartPole's euler step is written in float64 TF ops in gymnasium's order of
   operations, with the constants and thresholds read from ``CartPoleEnv``; it equals
   ``CartPoleEnv.step`` bit for bit (tested). That takes two things: the constants are runtime
   values (TF rewrites a division by a constant as a multiplication by its reciprocal), and every
   product that feeds a sum passes through :func:`_rounded` (XLA's CPU backend always allows FMA
   contraction, which rounds ``a + b * c`` once where numpy rounds twice).
7. Fast version: the deque is a ring buffer; ``D[i]`` is slot ``(max(0, n - memory) + i) % memory``
   after ``n`` appends, which is what ``deque[i]`` returns.
8. Fast version: XLA fuses the network's float32 ops differently from the per-op kernels (and the
   optimizer's ``rho a + (1 - rho) g^2`` may become an FMA), so weights agree with the notebook's
   loop to rounding (tests: 1e-5 after 499 updates, with identical actions, episodes and replay
   contents); over a long run, a step where two Q-values are within rounding of each other can
   eventually take the other action, and the runs part ways from there.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from reproduce.errors import ConfigError

ENV_ID = "CartPole-v0"
N_STATES = 4
N_ACTIONS = 2
RMSPROP_EPSILON = 1e-8  # Keras 2.0's RMSprop default (the notebook's 'rmsprop')
UP_TIME_WINDOW = 100

#: mean up time of the last 100 episodes printed at t = 0, 5000, ..., 95000
PUBLISHED_CURVE = (1.0, 97.0784313725, 36.98, 70.53, 104.74, 133.49, 146.25, 144.52, 167.73, 181.39,
                   170.48, 151.86, 146.43, 163.32, 184.96, 198.13, 171.12, 136.11, 116.67, 97.53)
#: seconds per 5,000 steps printed next to them (2017 machine)
PUBLISHED_SECONDS = (0.043, 1.877, 14.009, 13.077, 12.870, 12.837, 12.839, 13.133, 12.964, 13.548,
                     14.608, 15.985, 16.933, 17.319, 17.957, 21.949, 24.839, 24.761, 20.756, 21.712)
PUBLISHED_DEMO = 114  # print(t) after the greedy demo episode (115 env steps)
PUBLISHED_RANDOM_DEMO = 15  # print(t) after the random demo episode (16 env steps)


@dataclass(frozen=True)
class Settings:
    """The notebook's constants (``quirks`` selects the notebook's loop or the fixed one)."""

    steps: int = 100_000  # TIME_LIMIT
    memory: int = 5000  # REPLAY_MEMORY
    observe: int = 5000  # OBSERVE: train when t > observe
    batch: int = 128  # BATCH
    gamma: float = 0.9  # GAMMA
    eps_start: float = 0.1  # INITIAL_EPSILON
    eps_final: float = 1e-4  # FINAL_EPSILON
    eps_decay: float = 0.9  # DECAY
    log_every: int = 5000  # TIME_LIMIT / 20
    quirks: bool = True
    rmsprop_epsilon: float = RMSPROP_EPSILON

    def __post_init__(self):
        for name in ("steps", "memory", "batch", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}; pass e.g. {name}=1000")
        if not isinstance(self.observe, int | np.integer) or self.observe < 0:
            raise ConfigError(f"observe must be an integer >= 0, got {self.observe!r}")
        if self.batch > self.memory:
            raise ConfigError(f"batch ({self.batch}) must be <= memory ({self.memory}): "
                              f"sampling is without replacement; lower batch or raise memory")
        if self.quirks and self.observe < self.memory - 2:
            raise ConfigError(
                f"with quirks the notebook samples np.random.choice(memory={self.memory}) from a deque "
                f"that holds observe + 2 = {self.observe + 2} transitions at the first training step, "
                f"which can index past it (IndexError); use observe >= memory - 2 = {self.memory - 2} "
                f"or quirks=False")
        if not self.quirks and self.observe + 2 < self.batch:
            raise ConfigError(f"observe + 2 ({self.observe + 2}) transitions cannot fill a batch of "
                              f"{self.batch}; use observe >= batch - 2 = {self.batch - 2}")

    def population(self, t: int) -> int:
        """What step ``t`` samples from: ``REPLAY_MEMORY`` (quirks) or ``len(D)``."""
        return self.memory if self.quirks else min(t + 1, self.memory)


def _settings(steps, quirks, kwargs) -> Settings:
    """Settings from a public function's arguments; unknown names are a ConfigError."""
    if not isinstance(steps, int | np.integer) or steps <= 0:
        raise ConfigError(f"steps must be a positive integer, got {steps!r}; the notebook ran 100000")
    try:
        return Settings(steps=int(steps), quirks=bool(quirks), **kwargs)
    except TypeError as exc:
        raise ConfigError(f"{exc}; settings are {', '.join(Settings.__dataclass_fields__)}") from None


def eps_schedule(settings: Settings) -> np.ndarray:
    """eps used by the test at each step (the decay runs after the test, as in the notebook)."""
    out = np.empty(settings.steps)
    eps = settings.eps_start
    for t in range(settings.steps):
        out[t] = eps
        if eps > settings.eps_final and t > settings.observe:
            eps *= settings.eps_decay
    return out


# ---------------------------------------------------------------------------------------------
# The random draws
# ---------------------------------------------------------------------------------------------


@dataclass
class Draws:
    """Every random number the loop uses, in the loop's order."""

    first_action: int  # the pre-loop np.random.choice(2) (-1 without quirks)
    explore: np.ndarray  # (steps,) bool: np.random.random() <= eps
    random_action: np.ndarray  # (steps,) int32: np.random.choice(2) when exploring, else 0
    sample: np.ndarray  # (training steps, batch) int32: the choice(N, batch, replace=False) of each
    resets: np.ndarray  # (steps + 2, 4) float64: env reset states in order, the first one seeded
    eps: np.ndarray = field(repr=False)


def _temper(key, out, start):
    """MT19937's output function on ``key[start:]``."""
    for i in range(start, 624):
        y = key[i]
        y ^= y >> np.uint32(11)
        y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
        y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
        y ^= y >> np.uint32(18)
        out[i] = y


def _mt_block(key, out):
    """The next 624 MT19937 outputs into ``out``: numpy's ``mt19937_gen``, then tempering."""
    upper, lower, matrix = np.uint32(0x80000000), np.uint32(0x7FFFFFFF), np.uint32(0x9908B0DF)
    one, zero = np.uint32(1), np.uint32(0)
    for i in range(227):
        y = (key[i] & upper) | (key[i + 1] & lower)
        key[i] = key[i + 397] ^ (y >> one) ^ ((zero - (y & one)) & matrix)
    for i in range(227, 623):
        y = (key[i] & upper) | (key[i + 1] & lower)
        key[i] = key[i - 227] ^ (y >> one) ^ ((zero - (y & one)) & matrix)
    y = (key[623] & upper) | (key[0] & lower)
    key[623] = key[396] ^ (y >> one) ^ ((zero - (y & one)) & matrix)
    _temper_(key, out, 0)


def _scan(key, pos, steps, eps, observe, memory, quirks, batch, explore, action, sample):
    """Replay the loop's ``np.random`` calls from an MT19937 state (``key``, ``pos``) as numpy's legacy
    code makes them.

    ``random()``: two words ``a, b`` -> ``((a >> 5) * 2**26 + (b >> 6)) / 2**53``. ``choice(2)``: one
    word ``& 1``. ``choice(n, k, replace=False)`` is ``permutation(n)[:k]``: a Fisher-Yates shuffle of
    ``arange(n)`` from the top, swapping ``i`` with ``j = random_interval(i)``, which draws words
    masked to the smallest ``2**m - 1 >= i`` until one is ``<= i``. The ``j`` are found first
    (branch-free: a rejected word's ``j`` is overwritten by the next one's), then swapped.
    """
    block = np.empty(624, np.uint32)
    _temper_(key, block, pos)
    k = pos
    perm = np.empty(memory, np.int64)
    js = np.empty(memory, np.int64)
    for t in range(steps):
        if k == 624:
            _block(key, block)
            k = 0
        a = np.int64(block[k] >> np.uint32(5))
        k += 1
        if k == 624:
            _block(key, block)
            k = 0
        b = np.int64(block[k] >> np.uint32(6))
        k += 1
        if (a * 67108864.0 + b) / 9007199254740992.0 <= eps[t]:
            explore[t] = True
            if k == 624:
                _block(key, block)
                k = 0
            action[t] = block[k] & np.uint32(1)
            k += 1
        if t > observe:
            n = memory if quirks else min(t + 1, memory)
            i = n - 1
            mask = i
            mask |= mask >> 1
            mask |= mask >> 2
            mask |= mask >> 4
            mask |= mask >> 8
            mask |= mask >> 16
            while i > 0:
                if k == 624:
                    _block(key, block)
                    k = 0
                j = np.int64(block[k]) & mask
                k += 1
                js[i] = j
                i -= np.int64(j <= i)
                if i <= (mask >> 1):
                    mask >>= 1
            for i in range(n):
                perm[i] = i
            for i in range(n - 1, 0, -1):
                j = js[i]
                tmp = perm[i]
                perm[i] = perm[j]
                perm[j] = tmp
            sample[t - observe - 1] = perm[:batch]


# What _scan calls: the python functions, or their numba versions once _scanner() compiled them.
_block, _temper_ = _mt_block, _temper


@functools.cache
def _scanner():
    """``_scan`` compiled with numba (a 100,000-step run draws about 700 million words)."""
    import numba

    global _block, _temper_
    _temper_ = numba.njit(cache=True)(_temper)  # globals are resolved when the caller compiles
    _block = numba.njit(cache=True)(_mt_block)
    return numba.njit(cache=True, nogil=True)(_scan)


def start_draws(seed: int, settings: Settings) -> tuple[int, np.ndarray]:
    """The cheap part of :func:`published_draws`: the pre-loop action (-1 without quirks) and the env's
    reset states in order (``CartPoleEnv.reset``'s ``uniform(-0.05, 0.05, 4)`` from the env's generator
    seeded by ``reset(seed=seed)``; at most one reset per step, plus the first)."""
    from gymnasium.utils import seeding

    first_action = int(np.random.RandomState(seed).choice(N_ACTIONS)) if settings.quirks else -1
    env_rng, _ = seeding.np_random(seed)
    return first_action, env_rng.uniform(low=-0.05, high=0.05, size=(settings.steps + 2, N_STATES))


def published_draws(seed: int, settings: Settings) -> Draws:
    """The draws the notebook's loop makes after ``np.random.seed(seed)`` and ``reset(seed=seed)``."""
    s = settings
    eps = eps_schedule(s)
    rs = np.random.RandomState(seed)
    if s.quirks:
        rs.choice(N_ACTIONS)  # the pre-loop action
    _, key, pos, *_ = rs.get_state()
    explore = np.zeros(s.steps, bool)
    action = np.zeros(s.steps, np.int32)
    sample = np.zeros((max(0, s.steps - s.observe - 1), s.batch), np.int32)
    _scanner()(key.copy(), int(pos), s.steps, eps, s.observe, s.memory, s.quirks,
               s.batch, explore, action, sample)
    first_action, resets = start_draws(seed, s)
    return Draws(first_action, explore, action, sample, resets, eps)


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


def build_models(rmsprop_epsilon: float = RMSPROP_EPSILON):
    """The notebook's ``create_model(4, 2)``: (masked training model, acting model) on shared layers."""
    import tensorflow as tf

    keras = tf.keras
    state = keras.layers.Input(shape=(N_STATES,))
    x1 = keras.layers.Dense(4, activation="relu")(state)
    x2 = keras.layers.Dense(4, activation="relu")(x1)
    out = keras.layers.Dense(N_ACTIONS)(x2)
    actions = keras.layers.Input(shape=(N_ACTIONS,))
    out2 = keras.layers.Dot(axes=-1)([out, actions])
    model = keras.models.Model(inputs=[state, actions], outputs=out2)
    optimizer = keras.optimizers.legacy.RMSprop(learning_rate=0.001, rho=0.9, epsilon=rmsprop_epsilon)
    model.compile(loss="mse", optimizer=optimizer)
    model2 = keras.models.Model(inputs=state, outputs=out)
    return model, model2


def q_values(weights, states) -> np.ndarray:
    """The acting network's output in float32 numpy (weights as ``model.get_weights()`` lists them)."""
    h = np.asarray(states, np.float32)
    w = [np.asarray(x, np.float32) for x in weights]
    h = np.maximum(h @ w[0] + w[1], 0)
    h = np.maximum(h @ w[2] + w[3], 0)
    return h @ w[4] + w[5]


# ---------------------------------------------------------------------------------------------
# Results and the notebook's log
# ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    """What a training run produced; per-step arrays are indexed by the loop's ``t``."""

    settings: Settings
    actions: np.ndarray  # (steps,) int32
    rewards: np.ndarray  # (steps,) float64
    terminals: np.ndarray  # (steps,) bool: done after step t
    losses: np.ndarray  # (training steps,) float32: train_on_batch's loss from t = observe + 1 on
    up_time: np.ndarray  # the notebook's up_time list at the end (last entry: the running episode)
    curve_steps: np.ndarray  # t where the notebook prints
    curve: np.ndarray  # mean of the last 100 up times printed there
    interval_seconds: np.ndarray  # seconds printed there (time since the previous print)
    episode_lengths: np.ndarray  # env steps of each finished episode (pre-loop step included)
    weights: list = field(repr=False)
    replay: dict = field(repr=False)  # the final deque, oldest first: s, a (index), r, s1, terminal
    seconds: float = 0.0  # wall time (train_fast: end to end, draws and XLA compile included)
    first_action: int = -1  # the pre-loop action (-1 without quirks)


def up_time_log(rewards, terminals, quirks: bool = True, log_every: int = 5000):
    """The notebook's ``up_time`` bookkeeping and its printed means: (up_time, curve_steps, curve)."""
    up_time = [0]
    steps, curve = [], []
    for t, (r, done) in enumerate(zip(np.asarray(rewards, float).tolist(), np.asarray(terminals).tolist())):
        if quirks:
            if done:
                up_time.append(0)
            else:
                up_time[-1] += r
        else:
            up_time[-1] += r
            if done:
                up_time.append(0)
        if t % log_every == 0:
            steps.append(t)
            curve.append(np.mean(up_time[-UP_TIME_WINDOW:]))
    return np.array(up_time, float), np.array(steps), np.array(curve)


def episode_lengths(terminals, pre_step: bool) -> np.ndarray:
    """Env steps of each finished episode; ``pre_step`` adds the notebook's pre-loop step to the first."""
    ends = np.flatnonzero(np.asarray(terminals))
    lengths = np.diff(np.concatenate([[-1], ends]))
    if pre_step and lengths.size:
        lengths[0] += 1
    return lengths


# ---------------------------------------------------------------------------------------------
# The notebook's loop
# ---------------------------------------------------------------------------------------------


def train_reference(seed: int, steps: int = 100_000, quirks: bool = True, initial_weights=None,
                    **settings) -> Result:
    """The notebook's training loop as written, on gymnasium's ``CartPole-v0``.

    ``settings`` override the notebook's constants (:class:`Settings`: memory, observe, batch, ...).
    """
    import gymnasium as gym

    from reproduce.originals.keras_qnet import new_session

    s = _settings(steps, quirks, settings)
    new_session(seed)
    model, out = build_models(s.rmsprop_epsilon)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    ACTIONS, BATCH, GAMMA = N_ACTIONS, s.batch, s.gamma  # noqa: N806  (the notebook's names)

    def train_data(minibatch, model):
        s_j_batch = np.array([d[0] for d in minibatch])
        a_batch = np.array([d[1] for d in minibatch])
        r_batch = np.array([d[2] for d in minibatch])
        s_j1_batch = np.array([d[3] for d in minibatch])
        terminal_batch = np.array([d[4] for d in minibatch])
        readout_j1_batch = model.predict(s_j1_batch, batch_size=BATCH, verbose=0)
        y_batch = r_batch + GAMMA * np.max(readout_j1_batch, axis=1)
        y_batch[terminal_batch] = r_batch[terminal_batch]
        return s_j_batch, a_batch, y_batch

    env = gym.make(ENV_ID)
    np.random.seed(seed)
    state, _ = env.reset(seed=seed)
    D = deque(maxlen=s.memory)  # noqa: N806
    loss = []
    first_action = -1
    if s.quirks:
        a_t = np.zeros(ACTIONS)
        a_t[np.random.choice(ACTIONS)] = 1
        first_action = int(np.argmax(a_t))
        s_t, r_0, terminated, truncated, _ = env.step(np.argmax(a_t))
    else:
        s_t = state
    epsilon = s.eps_start
    up_time = [0]
    actions = np.zeros(s.steps, np.int32)
    rewards = np.zeros(s.steps)
    terminals = np.zeros(s.steps, bool)
    curve_steps, curve, interval = [], [], []
    begin = start = time.perf_counter()
    for t in range(s.steps):
        readout_t = out.predict(s_t[None, :], verbose=0)
        a_t = np.zeros([ACTIONS])
        if np.random.random() <= epsilon:
            a_t[np.random.choice(ACTIONS)] = 1
        else:
            a_t[np.argmax(readout_t)] = 1
        if epsilon > s.eps_final and t > s.observe:
            epsilon *= s.eps_decay
        s_t1, r_t, terminated, truncated, _ = env.step(np.argmax(a_t))
        terminal = terminated or truncated
        D.append((s_t, a_t, r_t, s_t1, terminal))
        if s.quirks:
            if terminal:
                up_time.append(0)
                env.reset()  # the observation it returns is thrown away
            else:
                up_time[-1] += r_t
        else:
            up_time[-1] += r_t
            if terminal:
                up_time.append(0)
                s_t1, _ = env.reset()
        if t > s.observe:
            idx = np.random.choice(s.memory if s.quirks else len(D), BATCH, replace=False)
            minibatch = [D[i] for i in idx]
            s_t_batch, a_batch, y_batch = train_data(minibatch, out)
            loss.append(model.train_on_batch([s_t_batch, a_batch], y_batch))
        s_t = s_t1
        actions[t], rewards[t], terminals[t] = np.argmax(a_t), r_t, terminal
        if t % s.log_every == 0:
            now = time.perf_counter()
            curve_steps.append(t)
            curve.append(np.mean(up_time[-UP_TIME_WINDOW:]))
            interval.append(now - start)
            start = now
    seconds = time.perf_counter() - begin
    env.close()
    replay = {
        "s": np.array([d[0] for d in D], np.float32),
        "a": np.array([np.argmax(d[1]) for d in D], np.int32),
        "r": np.array([d[2] for d in D], np.float32),
        "s1": np.array([d[3] for d in D], np.float32),
        "terminal": np.array([d[4] for d in D], bool),
    }
    return Result(s, actions, rewards, terminals, np.array(loss, np.float32), np.array(up_time, float),
                  np.array(curve_steps), np.array(curve), np.array(interval),
                  episode_lengths(terminals, s.quirks), model.get_weights(), replay, seconds, first_action)


# ---------------------------------------------------------------------------------------------
# The fast version
# ---------------------------------------------------------------------------------------------


def _rounded(x, zero):
    """``x`` itself, but opaque to the compiler: a product passed through here is rounded before any
    sum uses it (no FMA contraction). ``zero`` is a runtime integer 0 of the width of ``x``."""
    import tensorflow as tf

    return tf.bitcast(tf.bitcast(x, zero.dtype) + zero, x.dtype)


def cartpole_constants():
    """gymnasium's CartPole constants, read from ``CartPoleEnv``: (physics vector, thresholds, limit)."""
    import gymnasium as gym
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv

    e = CartPoleEnv()
    physics = np.array([e.gravity, e.masspole, e.total_mass, e.length, e.polemass_length,
                        e.force_mag, e.tau], np.float64)
    if e.kinematics_integrator != "euler":  # pragma: no cover - gymnasium's default
        raise RuntimeError(f"expected the euler integrator, CartPoleEnv uses {e.kinematics_integrator}")
    return physics, (e.x_threshold, e.theta_threshold_radians), gym.spec(ENV_ID).max_episode_steps


def cartpole_step(state, action, physics, zero):
    """``CartPoleEnv.step``'s euler update in float64 TF ops, in gymnasium's order of operations."""
    import tensorflow as tf

    gravity, masspole, total_mass, length, polemass_length, force_mag, tau = tf.unstack(physics)
    x, x_dot, theta, theta_dot = tf.unstack(state)
    force = tf.where(tf.equal(action, 1), force_mag, -force_mag)
    costheta = tf.cos(theta)
    sintheta = tf.sin(theta)
    temp = (force + _rounded(polemass_length * tf.square(theta_dot) * sintheta, zero)) / total_mass
    thetaacc = (_rounded(gravity * sintheta, zero) - _rounded(costheta * temp, zero)) / (
        length * (4.0 / 3.0 - masspole * tf.square(costheta) / total_mass))
    xacc = temp - polemass_length * thetaacc * costheta / total_mass
    x = x + _rounded(tau * x_dot, zero)
    x_dot = x_dot + _rounded(tau * xacc, zero)
    theta = theta + _rounded(tau * theta_dot, zero)
    theta_dot = theta_dot + _rounded(tau * thetaacc, zero)
    return tf.stack([x, x_dot, theta, theta_dot])


class FastDotMask:
    """The notebook's model trained by one XLA-compiled ``tf.while_loop`` per chunk of steps.

    All state lives in graph variables (env state, step within the episode, the agent's observation,
    the replay ring buffer, the next reset state), so chunks continue where the last one stopped.
    """

    def __init__(self, seed: int, settings: Settings, initial_weights=None, jit: bool = True):
        import tensorflow as tf

        from reproduce.originals.keras_qnet import new_session

        s = self.settings = settings
        new_session(seed)
        self.model, self.out = build_models(s.rmsprop_epsilon)
        if initial_weights is not None:
            self.model.set_weights(initial_weights)
        model, out, optimizer = self.model, self.out, self.model.optimizer
        variables = model.trainable_weights
        optimizer._create_all_weights(variables)  # slots and hypers outside the loop
        loss_fn = tf.keras.losses.get(model.loss)
        physics_np, (x_lim, theta_lim), limit = cartpole_constants()
        self.first_action, self.resets = start_draws(seed, s)
        M, B, chunk = s.memory, s.batch, s.log_every  # noqa: N806
        f32, f64, i32 = tf.float32, tf.float64, tf.int32

        def var(value, dtype, name):
            return tf.Variable(value, dtype=dtype, trainable=False, name=name)

        resets_value = tf.compat.v1.placeholder(f64, self.resets.shape, "resets_value")
        resets = var(resets_value, f64, "resets")
        physics = var(physics_np, f64, "physics")
        limits = var([x_lim, theta_lim], f64, "limits")
        zeros = var(0, tf.int64, "zero64"), var(0, i32, "zero32")
        env0, elapsed0 = _start_state(seed, s.quirks, self.first_action)
        self._state = [
            var(env0, f64, "env_state"), var(elapsed0, i32, "elapsed"),
            var(env0.astype(np.float32), f32, "agent_obs"), var(0, i32, "stored"), var(1, i32, "next_reset"),
            var(tf.zeros((M, N_STATES)), f32, "D_s"), var(tf.zeros(M, i32), i32, "D_a"),
            var(tf.zeros(M), f32, "D_r"), var(tf.zeros((M, N_STATES)), f32, "D_s1"),
            var(tf.zeros(M, tf.bool), tf.bool, "D_terminal"),
        ]
        gamma = tf.constant(s.gamma, f32)  # numpy 2 (and 1.x) multiply a float32 array by a float32 0.9
        arange = tf.range(N_ACTIONS)

        def greedy(q):  # np.argmax: the first maximum
            return tf.reduce_min(tf.where(tf.equal(q, tf.reduce_max(q)), arange, N_ACTIONS))

        def step(train, explore, random_action, sample, i, env, elapsed, obs, n, nxt, ds, da, dr,
                 ds1, dt):
            zero64, zero32 = zeros[0].read_value(), zeros[1].read_value()
            a = tf.where(explore[i], random_action[i], greedy(out(obs[None])[0]))
            new = cartpole_step(env, a, physics, zero64)
            x, theta = new[0], new[2]
            terminated = tf.reduce_any(tf.stack([x < -limits[0], x > limits[0], theta < -limits[1],
                                                 theta > limits[1]]))
            elapsed = elapsed + 1
            terminal = tf.logical_or(terminated, elapsed >= limit)
            obs1 = tf.cast(new, f32)
            r = tf.constant(1.0, f32)  # never steps past termination (see the module docstring)
            slot = [[n % M]]
            ds = tf.tensor_scatter_nd_update(ds, slot, obs[None])
            da = tf.tensor_scatter_nd_update(da, slot, a[None])
            dr = tf.tensor_scatter_nd_update(dr, slot, r[None])
            ds1 = tf.tensor_scatter_nd_update(ds1, slot, obs1[None])
            dt = tf.tensor_scatter_nd_update(dt, slot, terminal[None])
            n = n + 1
            reset = resets[nxt]
            env = tf.where(terminal, reset, new)
            next_obs = obs1 if s.quirks else tf.where(terminal, tf.cast(reset, f32), obs1)
            nxt = nxt + tf.cast(terminal, i32)
            elapsed = tf.where(terminal, 0, elapsed)
            loss = tf.constant(np.nan, f32)
            if train:
                pos = (tf.maximum(n - M, 0) + sample[i]) % M
                s_j, s_j1 = tf.gather(ds, pos), tf.gather(ds1, pos)
                a_j = tf.one_hot(tf.gather(da, pos), N_ACTIONS)
                r_j, term_j = tf.gather(dr, pos), tf.gather(dt, pos)
                best = _rounded(gamma * tf.reduce_max(out(s_j1), axis=1), zero32)
                y = tf.cast(r_j, f64) + tf.cast(best, f64)  # float64, as numpy computes it
                y = tf.cast(tf.where(term_j, tf.cast(r_j, f64), y), f32)[:, None]
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(loss_fn(y, model([s_j, a_j], training=True)))
                grads = tape.gradient(loss, variables)
                with tf.control_dependencies([optimizer.apply_gradients(zip(grads, variables))]):
                    loss = tf.identity(loss)
            return a, terminal, loss, (env, elapsed, next_obs, n, nxt, ds, da, dr, ds1, dt)

        def make_chunk(train):
            def run(count, explore, random_action, sample):
                def body(i, carry, a_ta, term_ta, loss_ta):
                    a, terminal, loss, carry = step(train, explore, random_action, sample, i, *carry)
                    return i + 1, carry, a_ta.write(i, a), term_ta.write(i, terminal), loss_ta.write(i, loss)

                carry = tuple(v.read_value() for v in self._state)
                loop = tf.while_loop(
                    lambda i, *_: i < count, body,
                    (tf.constant(0), carry, tf.TensorArray(i32, chunk), tf.TensorArray(tf.bool, chunk),
                     tf.TensorArray(f32, chunk)))
                with tf.control_dependencies([v.assign(c) for v, c in zip(self._state, loop[1])]):
                    return [tf.identity(ta.stack()) for ta in loop[2:]]

            return tf.function(run, jit_compile=jit, autograph=False)

        ph = tf.compat.v1.placeholder
        self._count = ph(i32, (), "count")
        self._explore = ph(tf.bool, (chunk,), "explore")
        self._random_action = ph(i32, (chunk,), "random_action")
        self._sample = ph(i32, (chunk, B), "sample")
        feeds = (self._count, self._explore, self._random_action, self._sample)
        self._chunks = {train: make_chunk(train)(*feeds) for train in (False, True)}
        self.session = tf.compat.v1.keras.backend.get_session()  # initializes Keras's variables
        self.session.run([v.initializer for v in (physics, limits, *zeros, *self._state)])
        self.session.run(resets.initializer, {resets_value: self.resets})
        self.draws = None
        for train in (False, True):  # compile both graphs now: no step runs, the state stays
            self.run_chunk(0, 0, train)

    def run_chunk(self, t0: int, count: int, train: bool):
        """Steps ``t0 .. t0 + count - 1`` with :attr:`draws`; returns (actions, terminals, losses)."""
        s, d, chunk = self.settings, self.draws, self.settings.log_every
        explore = np.zeros(chunk, bool)
        action = np.zeros(chunk, np.int32)
        sample = np.zeros((chunk, s.batch), np.int32)
        if count:
            explore[:count] = d.explore[t0:t0 + count]
            action[:count] = d.random_action[t0:t0 + count]
            if train:
                k = t0 - s.observe - 1
                sample[:count] = d.sample[k:k + count]
        out = self.session.run(self._chunks[train], {
            self._count: count, self._explore: explore, self._random_action: action, self._sample: sample})
        return [x[:count] for x in out]

    def segments(self):
        """(t0, count, train) pieces of at most ``log_every`` steps: each print's step ``t = k * log_every``
        ends a piece (so its time is measured as printed), and training starts a new one."""
        s = self.settings
        cuts = {0, s.steps, *range(1, s.steps, s.log_every)}
        if s.observe + 1 < s.steps:
            cuts.add(s.observe + 1)
        cuts = sorted(cuts)
        return [(a, b - a, a > s.observe) for a, b in zip(cuts[:-1], cuts[1:])]

    def train(self, draws: Draws) -> Result:
        """Run every step with ``draws``; the result holds what :func:`train_reference` returns."""
        s = self.settings
        if draws.first_action != self.first_action or not np.array_equal(draws.resets, self.resets):
            raise ValueError("draws.first_action/resets differ from this seed's: draws of another seed?")
        self.draws = draws
        actions = np.zeros(s.steps, np.int32)
        terminals = np.zeros(s.steps, bool)
        losses = np.full(s.steps, np.nan, np.float32)
        clock = {}
        begin = time.perf_counter()
        for t0, count, train in self.segments():
            piece = slice(t0, t0 + count)
            actions[piece], terminals[piece], losses[piece] = self.run_chunk(t0, count, train)
            clock[t0 + count - 1] = time.perf_counter()
        seconds = time.perf_counter() - begin
        rewards = np.ones(s.steps)  # every step's reward (the env is never stepped past termination)
        up_time, curve_steps, curve = up_time_log(rewards, terminals, s.quirks, s.log_every)
        stamps = [begin] + [clock[t] for t in curve_steps]
        state = self.session.run([v.read_value() for v in self._state])
        n = int(state[3])
        order = (np.arange(min(n, s.memory)) + max(0, n - s.memory)) % s.memory
        replay = {k: v[order] for k, v in zip(("s", "a", "r", "s1", "terminal"), state[5:])}
        return Result(s, actions, rewards, terminals, losses[s.observe + 1:], up_time, curve_steps, curve,
                      np.diff(stamps), episode_lengths(terminals, s.quirks), self.model.get_weights(),
                      replay, seconds, self.draws.first_action)


def _start_state(seed: int, quirks: bool, first_action: int):
    """The env's state and elapsed steps when the loop starts: the seeded reset, then (quirks) the
    notebook's pre-loop step with its random first action, taken by gymnasium itself."""
    import gymnasium as gym

    env = gym.make(ENV_ID)
    env.reset(seed=seed)
    elapsed = 0
    if quirks:
        env.step(first_action)
        elapsed = 1
    state = np.array(env.unwrapped.state, np.float64)
    env.close()
    return state, elapsed


def train_fast(seed: int, steps: int = 100_000, quirks: bool = True, initial_weights=None,
               draws: Draws | None = None, jit: bool = True, **settings) -> Result:
    """The notebook's algorithm, fast: :func:`published_draws` (unless ``draws`` are given), then
    :class:`FastDotMask`. Same arguments and result as :func:`train_reference`."""
    s = _settings(steps, quirks, settings)
    start = time.perf_counter()
    if draws is None:
        draws = published_draws(seed, s)
    result = FastDotMask(seed, s, initial_weights, jit).train(draws)
    return replace(result, seconds=time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# Demo and evaluation
# ---------------------------------------------------------------------------------------------


@dataclass
class Demo:
    """The notebook's demo cell: ``printed`` is its ``print(t)``, ``steps = printed + 1`` env steps."""

    printed: int
    steps: int


def demo_episode(weights, seed: int) -> Demo:
    """The notebook's demo episode on ``CartPole-v0``: a random first action, then greedy.

    ``weights=None`` runs the notebook's random demo instead (``action_space.sample()`` every step).
    """
    import gymnasium as gym

    env = gym.make(ENV_ID)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    action = env.action_space.sample()
    t = 0
    for t in range(5000):  # noqa: B007  (the notebook prints t after the loop)
        s_t, reward, terminated, truncated, _ = env.step(action)
        if weights is None:
            action = env.action_space.sample()
        else:
            action = int(np.argmax(q_values(weights, s_t[None])[0]))
        if terminated or truncated:
            break
    env.close()
    return Demo(t, t + 1)


def evaluate(weights, episodes: int = 100, seed: int = 0) -> np.ndarray:
    """Greedy returns on ``CartPole-v0`` (200 at most) through the package's one evaluator
    (:func:`reproduce.evaluation.greedy_episodes`: reset seeds ``seed, seed + 1, ...``)."""
    from reproduce.evaluation import greedy_episodes

    if not isinstance(episodes, int | np.integer) or episodes <= 0:
        raise ConfigError(f"episodes must be a positive integer, got {episodes!r}")

    def choose(states):
        return [int(a) for a in np.argmax(q_values(weights, np.stack([s[-1] for s in states])), axis=1)]

    return np.array([r for r, _ in greedy_episodes(choose, ENV_ID, int(episodes), seed)])


def published_log_table(result: Result) -> str:
    """The run's printed curve next to the published one, a line per print."""
    lines = [f"{'t':>7} {'published':>10} {'this run':>10} {'s (pub.)':>9} {'s (run)':>8}"]
    for k, t in enumerate(result.curve_steps):
        pub = f"{PUBLISHED_CURVE[k]:10.2f}" if k < len(PUBLISHED_CURVE) else f"{'':>10}"
        pub_s = f"{PUBLISHED_SECONDS[k]:9.2f}" if k < len(PUBLISHED_SECONDS) else f"{'':>9}"
        lines.append(f"{t:>7} {pub} {result.curve[k]:10.2f} {pub_s} {result.interval_seconds[k]:8.2f}")
    return "\n".join(lines)
