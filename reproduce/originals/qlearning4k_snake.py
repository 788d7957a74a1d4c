"""Qlearning4k's ``examples/test_snake.py``: Snake learned by a Keras conv Q-network, faithful and fast.

Published (farizrahman4u/qlearning4k, ``examples/test_snake.py``): ``Conv2D(16, (3, 3), relu,
input_shape=(4, 10, 10))`` (``K.set_image_dim_ordering('th')``) -> ``Conv2D(32, (3, 3), relu)`` ->
``Flatten`` -> ``Dense(256, relu)`` -> ``Dense(5)``, ``compile(RMSprop(), 'MSE')``;
``Agent(model, memory_size=-1, nb_frames=4).train(Snake(10), batch_size=64, nb_epoch=10000,
gamma=0.8)`` (epsilon 1 -> 0.1 over the first half), then ``agent.play(snake)``.

The Agent is the one of the Catch example (:mod:`reproduce.originals.qlearning4k`: its
``ExperienceReplay``, its in-graph replay update and its epsilon schedule are reused here); Snake adds
``nb_frames=4`` (``get_game_data``: the first frame repeated four times at an epoch's start, then a
sliding window), episodes of any length (``game_over = game.is_over()``), and ``is_won`` (it ate).

:func:`train_reference` runs ``Agent.train`` as written (Keras ``predict`` and ``train_on_batch``).
:func:`train_fast` runs the same loop, the same env and the same draws in the same order, with
three changes that leave the algorithm alone: one session call per step (the replay update, then
``Q(S')`` for the next greedy action, on TF's own kernels: the same ops as ``predict`` and
``train_on_batch``); the targets' ``Q(S)`` taken from the training pass's own forward pass (the
same weights: one forward pass fewer; bit-identical on CPU, tested); and a compact memory (frames
stored once as bytes, transitions as frame indices: about 130 bytes a transition where upstream
keeps 803 float64s, 6.4 kB, so its unbounded memory of a 10,000-epoch run would take gigabytes).

Differences from upstream in both paths (the experiment lists them): channels-last input
``(10, 10, 4)`` (TF has no channels-first convolution on CPU; the same network up to a permutation
of the dense layer's inputs); RMSprop's epsilon (Keras 2.0's 1e-8) goes inside the square root on
TF's kernel, where Keras 2.0 added it outside; seeded streams (the game has its own ``np_random``; epsilon and
random actions share one ``RandomState`` as upstream's global ``np.random`` did, replay uses
``random.Random``).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import numpy as np

from reproduce.errors import ConfigError
from reproduce.originals.qlearning4k import LOG_FORMAT, ExperienceReplay, epsilon_schedule
from reproduce.originals.qlearning4k import new_session as new_session

N_ACTIONS = 5


@dataclass(frozen=True)
class Config:
    """``Agent(...)`` and ``agent.train(...)`` arguments; the defaults are ``examples/test_snake.py``'s."""

    grid_size: int = 10
    nb_frames: int = 4
    memory_size: int = -1  # unbounded, as upstream; a positive size keeps the newest transitions
    nb_epoch: int = 10_000
    batch_size: int = 64
    gamma: float = 0.8
    epsilon: tuple = (1.0, 0.1)
    epsilon_rate: float = 0.5

    def __post_init__(self):
        for name in ("grid_size", "nb_frames", "nb_epoch", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"qlearning4k snake {name} must be a positive integer, got {value!r}")
        if self.memory_size != -1 and not (isinstance(self.memory_size, (int, np.integer))
                                           and self.memory_size >= self.batch_size):
            raise ConfigError(f"qlearning4k snake memory_size must be -1 (unbounded, as upstream) or at "
                              f"least batch_size ({self.batch_size}), got {self.memory_size!r}")


def build_model(config: Config | None = None):
    """``examples/test_snake.py``'s network and compile call, channels-last."""
    import tensorflow as tf

    config = config or Config()
    keras, g = tf.keras, config.grid_size
    model = keras.models.Sequential([
        keras.layers.Conv2D(16, (3, 3), activation="relu", input_shape=(g, g, config.nb_frames)),
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(N_ACTIONS),
    ])
    # RMSprop() of Keras 2.0-2.1.2 (the example's Keras 2 patch, Nov. 2017): lr 0.001, rho 0.9, epsilon 1e-8
    model.compile(keras.optimizers.legacy.RMSprop(learning_rate=0.001, rho=0.9, epsilon=1e-8), "MSE")
    return model


def stack(frames) -> np.ndarray:
    """``get_game_data``'s ``(1, nb_frames, g, g)``, channels-last: ``(1, g, g, nb_frames)``."""
    return np.stack(frames, axis=-1)[None].astype(np.float32)


@dataclass
class Result:
    """A training run: upstream's per-epoch log, the game's statistics, per-step actions and rewards."""

    loss: np.ndarray  # (E,) sum of train_on_batch losses in the epoch
    epsilon: np.ndarray  # (E,) printed epsilon (after the epoch's decrement)
    won: np.ndarray  # (E,) bool: is_won, it ate at least once
    fruit: np.ndarray  # (E,) fruit eaten
    length: np.ndarray  # (E,) the snake's final length
    steps: np.ndarray  # (E,) steps played
    actions: np.ndarray = field(repr=False)  # (sum(steps),)
    rewards: np.ndarray = field(repr=False)  # (sum(steps),)
    weights: list = field(repr=False)
    seconds: float = 0.0  # wall time of the training loop
    cpu_seconds: float = 0.0  # process time of the training loop

    def log_lines(self) -> list[str]:
        """Upstream's ``Epoch 001/10000 | Loss ... | Epsilon ... | Win count ...`` lines."""
        n, wins = len(self.loss), np.cumsum(self.won)
        return [LOG_FORMAT.format(e + 1, n, self.loss[e], self.epsilon[e], wins[e]) for e in range(n)]


def _result(config, epochs, losses, won, fruit, length, steps, actions, rewards, weights, start):
    _, printed = epsilon_schedule(config)
    return Result(np.array(losses), printed[:epochs], np.array(won), np.array(fruit), np.array(length),
                  np.array(steps), np.array(actions, np.int32), np.array(rewards, np.float64), weights,
                  time.perf_counter() - start[0], time.process_time() - start[1])


def train_reference(seed: int, config: Config | None = None, epochs: int | None = None,
                    verbose: bool = False) -> Result:
    """Upstream's ``Agent.train`` loop as written, on ``Snake-v0``, for the first ``epochs`` of the
    schedule's ``config.nb_epoch`` epochs (all by default)."""
    from reproduce.envs.snake import SnakeEnv

    config = config or Config()
    new_session(seed)
    model = build_model(config)
    env = SnakeEnv(config.grid_size)
    rs = np.random.RandomState(seed)
    memory = ExperienceReplay(config.memory_size, random.Random(seed))
    eps, printed = epsilon_schedule(config)
    epochs = config.nb_epoch if epochs is None else epochs
    losses, won, fruit, length, steps, actions, rewards = [], [], [], [], [], [], []
    start = time.perf_counter(), time.process_time()
    for epoch in range(epochs):
        loss, n = 0.0, 0
        obs, info = env.reset(seed=seed if epoch == 0 else None)
        frames = [obs] * config.nb_frames  # get_game_data after clear_frames
        s = stack(frames)
        game_over = False
        while not game_over:
            if rs.random() < eps[epoch]:
                a = int(rs.randint(N_ACTIONS))
            else:
                a = int(np.argmax(model.predict(s, verbose=0)[0]))
            obs, r, game_over, _, info = env.step(a)
            frames = frames[1:] + [obs]
            s_prime = stack(frames)
            memory.remember(s, a, r, s_prime, game_over)
            s = s_prime
            batch = memory.get_batch(model, config.batch_size, config.gamma)
            if batch:
                loss += float(model.train_on_batch(*batch))
            actions.append(a)
            rewards.append(r)
            n += 1
        losses.append(loss)
        won.append(info["won"])
        fruit.append(info["fruit_eaten"])
        length.append(info["length"])
        steps.append(n)
        if verbose:
            print(LOG_FORMAT.format(epoch + 1, config.nb_epoch, loss, printed[epoch], int(np.sum(won))))
    return _result(config, epochs, losses, won, fruit, length, steps, actions, rewards, model.get_weights(),
                   start)


class FrameMemory:
    """Upstream's ``ExperienceReplay`` (FIFO of ``memory_size``, or unbounded with -1; ``random.sample``
    batches), stored compactly: each frame once as bytes (0, 0.5, 1 -> 0, 1, 2), each transition as
    the indices of its ``S`` and ``S'`` frames with ``a``, ``r`` and ``game_over``."""

    def __init__(self, memory_size: int, nb_frames: int, grid_size: int, sampler: random.Random):
        self.memory_size, self.sampler = memory_size, sampler
        self.frames = np.zeros((1024, grid_size, grid_size), np.uint8)
        self.index = np.zeros((1024, 2 * nb_frames), np.int64)
        self.a = np.zeros(1024, np.int32)
        self.r = np.zeros(1024, np.float32)
        self.over = np.zeros(1024, np.float32)
        self.n_frames = self.n = 0

    @staticmethod
    def _grow(array, need):
        if need <= len(array):
            return array
        out = np.zeros((2 * need, *array.shape[1:]), array.dtype)
        out[:len(array)] = array
        return out

    def add_frame(self, obs) -> int:
        self.frames = self._grow(self.frames, self.n_frames + 1)
        self.frames[self.n_frames] = np.rint(obs * 2)
        self.n_frames += 1
        return self.n_frames - 1

    def remember(self, s_index, a, r, s_prime_index, game_over):
        for name in ("index", "a", "r", "over"):
            setattr(self, name, self._grow(getattr(self, name), self.n + 1))
        self.index[self.n] = list(s_index) + list(s_prime_index)
        self.a[self.n], self.r[self.n], self.over[self.n] = a, r, game_over
        self.n += 1

    def __len__(self):
        return self.n if self.memory_size == -1 else min(self.n, self.memory_size)

    def sample(self, batch_size: int):
        """``(S, a, r, S', over)`` of ``random.sample(memory, batch_size)``, or None below a batch
        (``sample``'s draws depend on the memory's length only, so positions are upstream's)."""
        n = len(self)
        if n < batch_size:
            return None
        picked = np.asarray(self.sampler.sample(range(n), batch_size)) + (self.n - n)
        f = self.index.shape[1] // 2
        states = np.moveaxis(self.frames[self.index[picked]], 1, -1).astype(np.float32) * np.float32(0.5)
        return (states[..., :f], self.a[picked], self.r[picked, None], states[..., f:],
                self.over[picked, None])


class FastSnake:
    """The example's model with one session call per step: the replay update, then ``Q(S')``."""

    def __init__(self, seed: int, config: Config | None = None, jit: bool = False,
                 reuse_forward: bool = True):
        import tensorflow as tf

        from reproduce.originals.qlearning4k import replay_update

        self.config = config = config or Config()
        new_session(seed)
        self.model = model = build_model(config)
        model.optimizer._create_all_weights(model.trainable_weights)
        shape, b_n = (config.grid_size, config.grid_size, config.nb_frames), config.batch_size
        ph = tf.compat.v1.placeholder
        self._next = ph(tf.float32, (1, *shape), "next_state")
        self._s, self._s2 = ph(tf.float32, (b_n, *shape), "s"), ph(tf.float32, (b_n, *shape), "s_prime")
        self._a = ph(tf.int32, (b_n,), "a")
        self._r, self._over = ph(tf.float32, (b_n, 1), "r"), ph(tf.float32, (b_n, 1), "over")
        loss_fn = tf.keras.losses.get(model.loss)

        @tf.function(jit_compile=jit, autograph=False)
        def update_then_q():
            update, loss = replay_update(model, loss_fn, self._s, self._a, self._r, self._s2, self._over,
                                         float(config.gamma), reuse_forward=reuse_forward)
            with tf.control_dependencies([update]):
                return tf.identity(loss), model(self._next)[0]

        self._update_then_q = update_then_q()
        self._q = model(self._next)[0]
        self.session = tf.compat.v1.keras.backend.get_session()

    def q(self, s) -> np.ndarray:
        return self.session.run(self._q, {self._next: s})

    def update_then_q(self, batch, s_next):
        s, a, r, s2, over = batch
        return self.session.run(self._update_then_q, {self._s: s, self._a: a, self._r: r, self._s2: s2,
                                                      self._over: over, self._next: s_next})

    def train(self, seed: int, epochs: int | None = None, on_epoch=None) -> Result:
        """:func:`train_reference`'s loop, draw for draw; ``on_epoch(line)`` gets upstream's log line."""
        from reproduce.envs.snake import SnakeEnv

        config = self.config
        env = SnakeEnv(config.grid_size)
        rs = np.random.RandomState(seed)
        memory = FrameMemory(config.memory_size, config.nb_frames, config.grid_size, random.Random(seed))
        eps, printed = epsilon_schedule(config)
        epochs = config.nb_epoch if epochs is None else epochs
        losses, won, fruit, length, steps, actions, rewards = [], [], [], [], [], [], []
        start = time.perf_counter(), time.process_time()
        obs, info = env.reset(seed=seed)
        index = [memory.add_frame(obs)] * config.nb_frames
        q_next = None  # Q(S) with the current weights, when already computed
        wins = 0
        for epoch in range(epochs):
            loss, n, game_over = 0.0, 0, False
            while not game_over:
                if rs.random() < eps[epoch]:
                    a = int(rs.randint(N_ACTIONS))
                else:
                    q = self.q(self._state(memory, index)) if q_next is None else q_next
                    a = int(np.argmax(q))
                obs, r, game_over, _, info = env.step(a)
                index_prime = index[1:] + [memory.add_frame(obs)]
                memory.remember(index, a, r, index_prime, game_over)
                actions.append(a)
                rewards.append(r)
                n += 1
                if game_over:
                    losses_info = (info["won"], info["fruit_eaten"], info["length"])
                    if epoch + 1 < epochs:  # the next epoch's first state, for the fused Q
                        obs, _ = env.reset()
                        index_prime = [memory.add_frame(obs)] * config.nb_frames
                batch = memory.sample(config.batch_size)
                if batch is None:
                    q_next = None
                else:
                    step_loss, q_next = self.update_then_q(batch, self._state(memory, index_prime))
                    loss += float(step_loss)
                index = index_prime
            losses.append(loss)
            won.append(losses_info[0])
            fruit.append(losses_info[1])
            length.append(losses_info[2])
            steps.append(n)
            wins += bool(losses_info[0])
            if on_epoch is not None:
                on_epoch(LOG_FORMAT.format(epoch + 1, config.nb_epoch, loss, printed[epoch], wins))
        return _result(config, epochs, losses, won, fruit, length, steps, actions, rewards,
                       self.model.get_weights(), start)

    @staticmethod
    def _state(memory, index):
        return np.moveaxis(memory.frames[index], 0, -1)[None].astype(np.float32) * np.float32(0.5)


def train_fast(seed: int, config: Config | None = None, epochs: int | None = None, jit: bool = False,
               reuse_forward: bool = True, on_epoch=None) -> Result:
    """Upstream's training run, fast (see the module docstring for how it differs)."""
    return FastSnake(seed, config, jit=jit, reuse_forward=reuse_forward).train(seed, epochs, on_epoch)


def play(q_batch, games: int, seed: int, max_steps: int, grid_size: int = 10, nb_frames: int = 4) -> dict:
    """Upstream's ``agent.play`` (epsilon 0, every action possible), ``games`` games at once on
    ``Snake-v0`` reset with seeds ``seed, seed + 1, ...``, each capped at ``max_steps`` (upstream's
    ``play`` loops forever when a greedy snake circles). ``q_batch(states (n, g, g, f)) -> (n, 5)``.

    Returns per-game arrays: ``return``, ``steps``, ``fruit``, ``length``, ``died`` (ended by the
    game, not the cap) and ``won`` (``is_won``)."""
    import gymnasium as gym

    from reproduce.envs import SNAKE_ID

    if isinstance(games, bool) or not isinstance(games, (int, np.integer)) or games < 1:
        raise ConfigError(f"play needs a positive integer number of games, got {games!r}; pass e.g. 100")
    envs = [gym.make(SNAKE_ID, grid_size=grid_size, max_episode_steps=max_steps) for _ in range(games)]
    frames = [[env.reset(seed=seed + i)[0]] * nb_frames for i, env in enumerate(envs)]
    out = {k: np.zeros(games) for k in ("return", "steps", "fruit", "length", "died", "won")}
    active = list(range(games))
    while active:
        q = q_batch(np.stack([np.stack(frames[i], axis=-1) for i in active]).astype(np.float32))
        still = []
        for i, a in zip(active, np.argmax(q, axis=1)):
            obs, r, terminated, truncated, info = envs[i].step(int(a))
            frames[i] = frames[i][1:] + [obs]
            out["return"][i] += r
            out["steps"][i] += 1
            if terminated or truncated:
                out["fruit"][i], out["length"][i] = info["fruit_eaten"], info["length"]
                out["died"][i], out["won"][i] = terminated, info["won"]
            else:
                still.append(i)
        active = still
    return out
