"""Qlearning4k's README example: Catch(10) learned by a Keras Q-network, faithful and fast.

Published (farizrahman4u/qlearning4k, README): ``Flatten(input_shape=(1, 10, 10))`` ->
``Dense(100, relu)`` -> ``Dense(100, relu)`` -> ``Dense(3)``, ``compile(sgd(lr=.2), "mse")``,
``Agent(model).train(Catch(10))`` with the library's defaults, then ``agent.play(game)``.
Defaults: replay memory of 1000 transitions (oldest dropped first), 1000 epochs (one game each,
9 steps), batch 50, gamma 0.9, epsilon from 1.0 down by ``0.9 / (1000 * 0.5)`` after every
epoch while it is above 0.1. Per step: epsilon-greedy action (``np.random.random() < eps``, then
``np.random.randint(3)``), remember ``(S, a, r, S', game_over)``, and once the memory holds a
batch: ``random.sample`` 50 transitions, targets from ONE forward pass over ``[S; S']`` (the
taken action's slot gets ``r + 0.9 * (1 - game_over) * max Q(S')``, the others keep ``Q(S)``),
one ``train_on_batch``. :func:`train_reference` runs that loop as written (Keras ``predict`` and
``train_on_batch`` on ``Catch-v0``).

:class:`FastCatch` runs the same algorithm as one XLA-compiled ``tf.while_loop`` over every step
(the tf-keras model, its Keras ``mse`` and its own legacy SGD ``apply_gradients``), executed in
the Keras session. Where it differs from the published code, and why none of it changes the
algorithm:

1. Random numbers are drawn up front by :func:`published_draws`, which replays exactly what
   :func:`train_reference` draws: game starts from ``Catch-v0`` seeded by ``reset(seed=seed)``,
   epsilon and random actions from ``np.random.RandomState(seed)`` (``random()`` every step,
   ``randint(3)`` only when exploring), replay batches from ``random.Random(seed).sample``.
   None depends on the network: exploring depends on the draw and the epsilon schedule, and
   ``sample``'s draws depend only on the memory's length, which grows by one per step
   (9 per epoch) up to ``memory_size``. So they can be drawn first: same seed, same draws.
2. The memory keeps every transition (``(row, col, basket, a, basket', r)``, canvases rendered
   in-graph); a sampled memory position maps to its global step, which is the FIFO list exactly.
3. Before the memory holds a batch the graph still computes an update, multiplied by zero
   (``w - 0.2 * 0 == w`` exactly); upstream skips it.
4. XLA fuses float32 ops differently from the per-op kernels: rounding-level differences, which
   SGD at 0.2 amplifies over hundreds of epochs (seed 0: identical actions for the first 196
   epochs, then the runs part; both end at 100 % greedy wins, ``bench/results/catch_qlearning4k.txt``).
   ``jit=False`` runs the same graph on TF's own kernels, the ones ``predict`` and
   ``train_on_batch`` use: bit-identical to :func:`train_reference` over all 1000 epochs, about
   twice as slow.

Kept as upstream: epsilon is decreased by repeated float subtraction while ``epsilon > 0.1``; for
1000 epochs it lands at ``0.1 - 1e-14`` after 500 epochs and stays, but other ``nb_epoch`` values
can overshoot by one step (20 epochs: ``0.1 + 1e-16`` -> ``0.01``).

Differences from upstream in both paths: the legacy SGD gets ``learning_rate=0.2`` spelled out
(plain tf-keras's current ``SGD(lr=.2)`` pops ``lr`` with a log line and trains at 0.01); the RNGs are seeded
instances (upstream used the global, unseeded ``np.random`` for the game and epsilon alike and
Python's global ``random`` for replay); the game is ``Catch-v0`` (same rules, its own
``np_random``); ``nb_frames`` is 1 as in the README; ``observe``, ``checkpoint`` and
``reset_memory`` (which raises AttributeError upstream: ``self.exp_replay``) are not offered.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import numpy as np

from reproduce.errors import ConfigError

N_ACTIONS = 3
LOG_FORMAT = "Epoch {:03d}/{:03d} | Loss {:.4f} | Epsilon {:.2f} | Win count {}"


def _positive_int(name, value, allow=()):
    if value in allow and not isinstance(value, bool):
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"qlearning4k {name} must be a positive integer, got {value!r}; "
                          f"pass e.g. {name}={Config.__dataclass_fields__[name].default}")


@dataclass(frozen=True)
class Config:
    """``Agent(model, memory_size)`` and ``agent.train(...)`` arguments; defaults are the README's."""

    grid_size: int = 10
    hidden_size: int = 100
    learning_rate: float = 0.2
    memory_size: int = 1000  # -1: unbounded, as upstream
    nb_epoch: int = 1000
    batch_size: int = 50
    gamma: float = 0.9
    epsilon: float | tuple = (1.0, 0.1)  # a float keeps epsilon fixed (examples/test_catch.py: .1)
    epsilon_rate: float = 0.5

    def __post_init__(self):
        from reproduce.envs.catch import check_grid_size

        check_grid_size(self.grid_size)
        for name in ("hidden_size", "nb_epoch", "batch_size"):
            _positive_int(name, getattr(self, name))
        _positive_int("memory_size", self.memory_size, allow=(-1,))
        if self.memory_size != -1 and self.memory_size < self.batch_size:
            raise ConfigError(f"qlearning4k memory_size ({self.memory_size}) is below batch_size "
                              f"({self.batch_size}): it would never train; raise memory_size or pass -1")
        pair = isinstance(self.epsilon, (tuple, list))
        eps = self.epsilon if pair else (self.epsilon,)
        for name, values, lo, hi in (("learning_rate", (self.learning_rate,), 0, np.inf),
                                     ("gamma", (self.gamma,), 0, 1), ("epsilon", eps, 0, 1),
                                     ("epsilon_rate", (self.epsilon_rate,), 0, 1)):
            ok = len(values) == (2 if pair and name == "epsilon" else 1) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi for v in values)
            if not ok or (name in ("learning_rate", "epsilon_rate") and values[0] == 0):
                raise ConfigError(f"qlearning4k {name} must be a number in [{lo}, {hi}] (epsilon may be a "
                                  f"(start, end) pair), got {getattr(self, name)!r}; "
                                  f"pass e.g. {name}={Config.__dataclass_fields__[name].default!r}")
        object.__setattr__(self, "epsilon", tuple(map(float, eps)) if pair else float(eps[0]))

    @property
    def steps_per_epoch(self) -> int:
        return self.grid_size - 1


def epsilon_schedule(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """(epsilon used in each epoch, epsilon printed after it): upstream's subtraction, float by float."""
    if isinstance(config.epsilon, tuple):
        delta = (config.epsilon[0] - config.epsilon[1]) / (config.nb_epoch * config.epsilon_rate)
        eps, final = config.epsilon
    else:
        delta, eps, final = 0.0, config.epsilon, config.epsilon
    used, printed = np.empty(config.nb_epoch), np.empty(config.nb_epoch)
    for e in range(config.nb_epoch):
        used[e] = eps
        if eps > final:
            eps -= delta
        printed[e] = eps
    return used, printed


def build_model(config: Config | None = None):
    """The README's network and compile call (``sgd`` at an effective 0.2, Keras ``mse``)."""
    import tensorflow as tf

    config = config or Config()
    keras, g, h = tf.keras, config.grid_size, config.hidden_size
    model = keras.models.Sequential([
        keras.layers.Flatten(input_shape=(1, g, g)),
        keras.layers.Dense(h, activation="relu"),
        keras.layers.Dense(h, activation="relu"),
        keras.layers.Dense(N_ACTIONS),
    ])
    # Keras 1's sgd(lr=.2) is plain SGD; in graph mode that is the legacy optimizer, and the
    # rate must be passed as learning_rate (tf-keras's current SGD drops lr=).
    model.compile(keras.optimizers.legacy.SGD(learning_rate=config.learning_rate), "mse")
    return model


def new_session(seed: int) -> None:
    """A fresh Keras graph and session with every random seed set (python, numpy, TF graph)."""
    from reproduce.originals.keras_qnet import new_session as fresh

    fresh(seed)


@dataclass
class Draws:
    """Everything random in a run, per epoch (E) and step (S), drawn before training."""

    starts: np.ndarray  # (E, 2): fruit column, basket centre
    explore: np.ndarray  # (E, S) bool
    random_action: np.ndarray  # (E, S), meaningful where explore
    train: np.ndarray  # (E, S) bool: the memory holds a batch
    sample: np.ndarray  # (E, S, B) global step of each sampled transition
    eps: np.ndarray  # (E,) epsilon used
    eps_printed: np.ndarray  # (E,) epsilon after the epoch's decrement


def memory_length(step: int, config: Config) -> int:
    """Transitions in memory right after global step ``step`` (0-based) was remembered."""
    return step + 1 if config.memory_size == -1 else min(step + 1, config.memory_size)


def published_draws(seed: int, config: Config | None = None) -> Draws:
    """The draws :func:`train_reference` makes for ``seed``, replayed exactly, for all epochs."""
    from reproduce.envs.catch import CatchEnv

    config = config or Config()
    e_n, s_n, b_n = config.nb_epoch, config.steps_per_epoch, config.batch_size
    eps, eps_printed = epsilon_schedule(config)
    env = CatchEnv(config.grid_size)
    starts = np.empty((e_n, 2), np.int32)
    for e in range(e_n):
        env.reset(seed=seed if e == 0 else None)
        starts[e] = env.state[1:]
    rs, sampler = np.random.RandomState(seed), random.Random(seed)
    explore = np.zeros((e_n, s_n), bool)
    action = np.zeros((e_n, s_n), np.int32)
    train = np.zeros((e_n, s_n), bool)
    sample = np.zeros((e_n, s_n, b_n), np.int32)
    for e in range(e_n):
        for k in range(s_n):
            if rs.random() < eps[e]:
                explore[e, k], action[e, k] = True, rs.randint(N_ACTIONS)
            t = e * s_n + k
            n = memory_length(t, config)
            if n >= b_n:
                train[e, k] = True
                sample[e, k] = np.asarray(sampler.sample(range(n), b_n)) + (t + 1 - n)
    return Draws(starts, explore, action, train, sample, eps, eps_printed)


@dataclass
class Result:
    """A training run: per-epoch outputs as upstream prints them, per-step actions and rewards."""

    loss: np.ndarray  # (E,) sum of train_on_batch losses in the epoch
    epsilon: np.ndarray  # (E,) printed epsilon (after the epoch's decrement)
    won: np.ndarray  # (E,) bool
    actions: np.ndarray = field(repr=False)  # (E, S)
    rewards: np.ndarray = field(repr=False)  # (E, S)
    weights: list = field(repr=False)
    seconds: float = 0.0

    @property
    def win_count(self) -> np.ndarray:
        """Cumulative wins after each epoch (upstream's ``Win count``)."""
        return np.cumsum(self.won)

    def log_lines(self) -> list[str]:
        """Upstream's per-epoch lines, ``Epoch 001/1000 | Loss ... | Epsilon ... | Win count ...``."""
        n, wins = len(self.loss), self.win_count
        return [LOG_FORMAT.format(e + 1, n, self.loss[e], self.epsilon[e], wins[e]) for e in range(n)]


class ExperienceReplay:
    """Upstream's ``ExperienceReplay``: flat float rows ``[S, a, r, S', game_over]``, FIFO,
    ``random.sample`` batches, targets from one forward pass over ``[S; S']``."""

    def __init__(self, memory_size: int, sampler: random.Random):
        self.memory, self.memory_size, self.sampler = [], memory_size, sampler

    def remember(self, s, a, r, s_prime, game_over):
        self.input_shape = s.shape[1:]
        self.memory.append(np.concatenate(
            [s.ravel(), [a], [r], s_prime.ravel(), [1.0 * game_over]]))
        if self.memory_size > 0 and len(self.memory) > self.memory_size:
            self.memory.pop(0)

    def get_batch(self, model, batch_size: int, gamma: float):
        if len(self.memory) < batch_size:
            return None
        # float32 like upstream's K.placeholder, so the target arithmetic is float32 too.
        samples = np.array(self.sampler.sample(self.memory, batch_size), np.float32)
        return batch_targets(model, samples, self.input_shape, gamma)


def batch_targets(model, samples: np.ndarray, input_shape, gamma: float):
    """(S, targets) for flat rows ``[S, a, r, S', game_over]``, as upstream's batch function."""
    b, dim = len(samples), int(np.prod(input_shape))
    s = samples[:, :dim].reshape((b, *input_shape))
    a = samples[:, dim].astype(int)
    r = samples[:, dim + 1][:, None]
    s_prime = samples[:, dim + 2:2 * dim + 2].reshape((b, *input_shape))
    game_over = samples[:, 2 * dim + 2][:, None]
    y = model.predict(np.concatenate([s, s_prime]), batch_size=2 * b, verbose=0)
    q_sa = y[b:].max(axis=1, keepdims=True)
    delta = np.eye(y.shape[1], dtype=np.float32)[a]
    targets = (1 - delta) * y[:b] + delta * (r + gamma * (1 - game_over) * q_sa)
    return s, targets


def train_reference(seed: int, config: Config | None = None, epochs: int | None = None,
                    initial_weights=None, verbose: bool = False) -> Result:
    """Upstream's ``Agent.train`` loop as written, on ``Catch-v0``, for ``epochs`` of the
    schedule's ``config.nb_epoch`` epochs (all by default; a slice for benchmarks)."""
    import gymnasium as gym

    from reproduce.envs import CATCH_ID

    config = config or Config()
    new_session(seed)
    model = build_model(config)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    env = gym.make(CATCH_ID, grid_size=config.grid_size)
    rs = np.random.RandomState(seed)
    memory = ExperienceReplay(config.memory_size, random.Random(seed))
    if isinstance(config.epsilon, tuple):
        delta = (config.epsilon[0] - config.epsilon[1]) / (config.nb_epoch * config.epsilon_rate)
        epsilon, final_epsilon = config.epsilon
    else:
        epsilon = final_epsilon = config.epsilon
    epochs = config.nb_epoch if epochs is None else epochs
    losses, eps_printed, won, actions, rewards = [], [], [], [], []
    start = time.perf_counter()
    for epoch in range(epochs):
        loss = 0.0
        obs, _ = env.reset(seed=seed if epoch == 0 else None)
        s = obs[None, None]  # get_game_data: nb_frames=1 stacked, batch axis in front
        game_over = False
        while not game_over:
            if rs.random() < epsilon:
                a = int(rs.randint(N_ACTIONS))
            else:
                a = int(np.argmax(model.predict(s, verbose=0)[0]))
            obs, r, game_over, _, _ = env.step(a)
            s_prime = obs[None, None]
            memory.remember(s, a, r, s_prime, game_over)
            s = s_prime
            batch = memory.get_batch(model, config.batch_size, config.gamma)
            if batch:
                loss += float(model.train_on_batch(*batch))
            actions.append(a)
            rewards.append(r)
        won.append(r > 0)  # game.is_won(): the last step's catch
        if epsilon > final_epsilon:
            epsilon -= delta
        losses.append(loss)
        eps_printed.append(epsilon)
        if verbose:
            print(LOG_FORMAT.format(epoch + 1, config.nb_epoch, loss, epsilon, int(np.sum(won))))
    seconds = time.perf_counter() - start
    shape = (epochs, config.steps_per_epoch)
    return Result(np.array(losses), np.array(eps_printed), np.array(won),
                  np.array(actions, np.int32).reshape(shape), np.array(rewards).reshape(shape),
                  model.get_weights(), seconds)


def _canvas(tf, g, row, col, basket):
    """Catch's canvases for batched int32 (row, col, basket): ``(n, 1, g, g)`` float32."""
    basket_rows = np.zeros((g, g, g), np.float32)  # basket centre -> its cells in the last row
    for b in range(g):
        basket_rows[b, -1] = np.abs(np.arange(g) - b) <= 1
    fruit = tf.one_hot(row * g + col, g * g)
    return tf.reshape(tf.maximum(fruit, tf.gather(basket_rows.reshape(g, g * g), basket)), [-1, 1, g, g])


def replay_update(model, loss_fn, s, a, r, s_prime, over, gamma: float, scale=None, reuse_forward=False):
    """In-graph ``get_batch`` + ``train_on_batch`` on a sampled batch: targets from ONE forward pass
    over ``[S; S']`` (float32, as upstream's batch function), then the compiled loss on a fresh forward
    pass over ``S`` and the model's optimizer step (gradients times ``scale``, when given: 0 skips it
    exactly). ``r`` and ``over`` are ``(B, 1)`` float32. Returns ``(update op, loss)``.

    ``reuse_forward``: the targets' ``Q(S)`` is the training pass's own (the same weights, so the same
    values up to rounding) and ``Q(S')`` a pass of its own: one forward pass over ``S`` fewer."""
    import tensorflow as tf

    b_n = a.shape[0]  # static: the batch size
    variables = model.trainable_weights
    delta = tf.one_hot(a, model.output_shape[-1])
    with tf.GradientTape() as tape:
        if reuse_forward:
            q_s = model(s, training=True)
            y = tf.concat([q_s, model(s_prime)], 0)
        else:
            y = model(tf.concat([s, s_prime], 0))  # the batch function's one forward pass
        q_sa = tf.reduce_max(y[b_n:], axis=1, keepdims=True)
        targets = tf.stop_gradient((1 - delta) * y[:b_n] + delta * (r + gamma * (1 - over) * q_sa))
        if not reuse_forward:
            q_s = model(s, training=True)
        loss = tf.reduce_mean(loss_fn(targets, q_s))  # train_on_batch
    grads = tape.gradient(loss, variables)
    if scale is not None:
        grads = [scale * grad for grad in grads]
    return model.optimizer.apply_gradients(zip(grads, variables)), loss


class FastCatch:
    """The README's model trained by one ``tf.while_loop`` over every step (XLA-compiled unless
    ``jit=False``, which is bit-identical to the reference loop)."""

    def __init__(self, seed: int, config: Config | None = None, jit: bool = True):
        import tensorflow as tf

        self.config = config = config or Config()
        new_session(seed)
        self.model = model = build_model(config)
        optimizer, variables = model.optimizer, model.trainable_weights
        optimizer._create_all_weights(variables)  # hypers outside the loop
        loss_fn = tf.keras.losses.get(model.loss)
        g, s_n, b_n = config.grid_size, config.steps_per_epoch, config.batch_size
        gamma = float(config.gamma)
        total = config.nb_epoch * s_n
        self._memory = tf.Variable(tf.zeros((total, 6), tf.int32), trainable=False, name="memory")
        ph = tf.compat.v1.placeholder
        self._starts = ph(tf.int32, (None, 2), "starts")
        self._explore = ph(tf.bool, (None, s_n), "explore")
        self._random_action = ph(tf.int32, (None, s_n), "random_action")
        self._train = ph(tf.bool, (None, s_n), "train")
        self._sample = ph(tf.int32, (None, s_n, b_n), "sample")
        self._first_step = ph(tf.int32, (), "first_step")

        def body(t, row, col, basket, memory, actions, rewards, losses):
            e, k = t // s_n, t % s_n
            new_game = tf.equal(k, 0)
            row = tf.where(new_game, 0, row)
            col = tf.where(new_game, self._starts[e, 0], col)
            basket = tf.where(new_game, self._starts[e, 1], basket)
            greedy = tf.argmax(model(_canvas(tf, g, row[None], col[None], basket[None]))[0],
                               output_type=tf.int32)  # ties -> first, like np.argmax
            a = tf.where(self._explore[e, k], self._random_action[e, k], greedy)
            basket2 = tf.clip_by_value(basket + a - 1, 1, g - 1)
            row2 = row + 1
            caught = tf.less_equal(tf.abs(col - basket2), 1)
            r = tf.where(tf.equal(row2, g - 1), tf.where(caught, 1, -1), 0)
            memory = tf.tensor_scatter_nd_update(
                memory, [[self._first_step + t]], tf.stack([row, col, basket, a, basket2, r])[None])
            batch = tf.gather(memory, self._sample[e, k])
            s = _canvas(tf, g, batch[:, 0], batch[:, 1], batch[:, 2])
            s_prime = _canvas(tf, g, batch[:, 0] + 1, batch[:, 1], batch[:, 4])
            over = tf.cast(tf.equal(batch[:, 0] + 1, g - 1), tf.float32)[:, None]
            r_b = tf.cast(batch[:, 5], tf.float32)[:, None]
            on = tf.cast(self._train[e, k], tf.float32)
            update, loss = replay_update(model, loss_fn, s, batch[:, 3], r_b, s_prime, over, gamma, on)
            with tf.control_dependencies([update]):
                return (t + 1, tf.identity(row2), col, tf.identity(basket2), memory,
                        actions.write(t, a), rewards.write(t, r), losses.write(t, on * loss))

        @tf.function(jit_compile=jit, autograph=False)
        def run():
            steps = tf.shape(self._explore)[0] * s_n
            zero = tf.constant(0)
            loop = tf.while_loop(
                lambda t, *_: t < steps, body,
                (zero, zero, zero, zero, self._memory.read_value(), tf.TensorArray(tf.int32, steps),
                 tf.TensorArray(tf.int32, steps), tf.TensorArray(tf.float32, steps)))
            with tf.control_dependencies([self._memory.assign(loop[4])]):
                return loop[5].stack(), loop[6].stack(), loop[7].stack()

        self._run = run()
        self.session = tf.compat.v1.keras.backend.get_session()  # initializes Keras's variables
        self.session.run(self._memory.initializer)

    def run_epochs(self, draws: Draws, first: int, last: int):
        """Epochs ``first .. last-1``; returns per-step (actions, rewards, losses), (E, S) each."""
        s_n = self.config.steps_per_epoch
        epochs = slice(first, last)
        actions, rewards, losses = self.session.run(self._run, {
            self._starts: draws.starts[epochs], self._explore: draws.explore[epochs],
            self._random_action: draws.random_action[epochs], self._train: draws.train[epochs],
            self._sample: draws.sample[epochs], self._first_step: first * s_n})
        shape = (last - first, s_n)
        return actions.reshape(shape), rewards.reshape(shape), losses.reshape(shape)

    def train(self, draws: Draws, epochs_per_call: int | None = None, on_epoch=None) -> Result:
        """Every epoch of ``draws``; ``on_epoch(line)`` gets upstream's log line after each."""
        start = time.perf_counter()
        n = self.config.nb_epoch
        step = epochs_per_call or n
        parts = [self.run_epochs(draws, i, min(i + step, n)) for i in range(0, n, step)]
        actions, rewards, losses = (np.concatenate(p) for p in zip(*parts))
        result = Result(losses.astype(np.float64).sum(axis=1), draws.eps_printed, rewards[:, -1] > 0,
                        actions, rewards.astype(float), self.model.get_weights(), 0.0)
        result.seconds = time.perf_counter() - start
        if on_epoch is not None:
            for line in result.log_lines():
                on_epoch(line)
        return result


def train_fast(seed: int, config: Config | None = None, draws: Draws | None = None,
               initial_weights=None, epochs_per_call: int | None = None, jit: bool = True,
               on_epoch=None) -> Result:
    """Upstream's training run, fast (see the module docstring for how it differs)."""
    config = config or Config()
    net = FastCatch(seed, config, jit=jit)
    if initial_weights is not None:
        net.model.set_weights(initial_weights)
    draws = published_draws(seed, config) if draws is None else draws
    return net.train(draws, epochs_per_call, on_epoch)


def q_values(net, observations) -> np.ndarray:
    """Q for each ``(grid, grid)`` observation: ``net`` is a Keras model (``predict``) or its weights
    (``Result.weights``, evaluated in float32 numpy)."""
    x = np.asarray(observations, np.float32)
    if hasattr(net, "predict"):
        return net.predict(x[:, None], batch_size=max(len(x), 1), verbose=0)
    w1, b1, w2, b2, w3, b3 = (np.asarray(w, np.float32) for w in net)
    h = np.maximum(x.reshape(len(x), -1) @ w1 + b1, 0)
    h = np.maximum(h @ w2 + b2, 0)
    return h @ w3 + b3


def play(net, games: int = 100, seed: int = 0, grid_size: int = 10) -> float:
    """Upstream's ``agent.play`` (epsilon 0): the fraction of ``games`` greedy games won on ``Catch-v0``,
    through the package's one evaluator (reset seeds ``seed, seed + 1, ...``)."""
    from reproduce.envs import CATCH_ID
    from reproduce.evaluation import greedy_episodes

    if isinstance(games, bool) or not isinstance(games, (int, np.integer)) or games < 1:
        raise ConfigError(f"play needs a positive integer number of games, got {games!r}; pass e.g. 100")
    def choose(states):
        return list(np.argmax(q_values(net, np.stack([s[-1] for s in states])), axis=1))

    results = greedy_episodes(choose, CATCH_ID, int(games), seed, grid_size=grid_size)
    return sum(r > 0 for r, _ in results) / games


def evaluate(net, grid_size: int = 10) -> dict:
    """Exact figures of a trained net against Q*: greedy win rate over every start, max |Q - Q*|."""
    from reproduce.envs import catch_observations, catch_states, greedy_win_rate, solve_catch

    solution = solve_catch(grid_size)
    q = q_values(net, catch_observations(catch_states(grid_size), grid_size))
    return {"exact_win_rate": greedy_win_rate(q, grid_size), "max_abs_q_error": solution.max_abs_error(q),
            "optimal_win_rate": solution.win_rate}
