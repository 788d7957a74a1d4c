"""Valohai's "Reinforcement Learning Tutorial" parts 1-3: the dungeon agents, as published and fast.

Source: ``valohai/qlearning-simple`` at commit 2f6aac0 (``drunkard.py``, ``accountant.py``,
``gambler.py``, ``deep_gambler.py``, ``train.py``; 2019). ``train.py`` plays one stream of
``--iterations`` steps (default 2,000; ``valohai.yaml`` runs 10,000): ask the agent for an action,
step the dungeon, let the agent update, and every 250th step print the reward gained since the last
print divided by 250.

The agents, as published:

- **Drunkard**: FORWARD or BACKWARD with probability 1/2 each; learns nothing.
- **Accountant**: adds each reward to a table ``q_table[action][state]`` and picks the action with the
  larger sum; ties at random (one draw).
- **Gambler**: a Q-table, ``Q += lr * (r + discount * Q[greedy(s')] - Q)`` (lr 0.1, discount 0.95),
  exploring with a probability that starts at 1 and falls by ``1/iterations`` after every update; the
  greedy choice breaks ties at random, also inside the update (a draw that changes nothing).
- **DeepGambler**: one-hot(5) -> Dense(16, sigmoid) -> Dense(16, sigmoid) -> Dense(2), mean squared
  error, plain gradient descent at lr 0.1, one update per step towards ``r + discount * max Q(s')``
  written into the taken action's slot of ``Q(s)``; greedy = ``np.argmax`` (ties to FORWARD).

Quirks kept, and named:

1. ``zero-kernels``: both hidden kernels start at zero (``tf.constant_initializer(np.zeros(...))``, the
   second with a shape, (16, 2), that does not even match its (16, 16) kernel: TF 1.x fills the rest
   with the last value, 0). Every unit of a layer then computes the same function: the first layer's
   16 units stay identical for ever (their incoming and outgoing weights get identical gradients), the
   second layer's units are told apart only by the random output kernel. ``zero_kernels=False``
   starts them glorot-uniform, as ``tf.layers.dense`` would by default.
2. The printed windows: the first print covers step 0 alone, still divided by 250, and the steps
   after the last print (1,751-1,999 of 2,000) are never printed
   (:func:`~reproduce.envs.dungeon.printed_windows`).
3. Exploration falls linearly to 0 over the run, so the last steps are greedy; the Gambler's
   ``exploration_rate`` starts at 1.0 whatever is passed.
4. The agents update with the action they chose; a slip reverses what the dungeon does, not what the
   agent learns about (the table stores the chosen action's outcome, as a Q-learner of this MDP should).

The 2020 rewrite (commits 95defc8 and 94591cd) feeds the state as one scalar input, uses 8 units per
layer and changes ``train.py``'s defaults to lr 0.5 and discount 0.98 (for the Gambler too):
``variant="2020"``. (``valohai.yaml`` still passes 0.1 and 0.95 explicitly; ``train.py``'s defaults
are what the variant takes.)

Two implementations of each agent, run against the same ``Dungeon-v0`` stream:

- :func:`run_reference`: the published classes, ported line for line (the agents draw from a
  ``random.Random(seed)``, as the original drew from the ``random`` module; the DeepGambler is a
  tf-keras model trained with ``train_on_batch``, its Q read with ``predict_on_batch``: the
  original's two ``session.run`` calls).
- :func:`run_fast`: the same algorithms compiled with numba, replaying exactly the reference's draws:
  the agent's stream is drawn up front from the same ``random.Random(seed)`` and consumed in the same
  order, the slips from the env's own generator (seeded as ``reset(seed=seed)`` seeds it). Tables are
  identical to the reference's; the DeepGambler's float32 forward and backward pass match tf-keras's to
  rounding (1e-5 on a short run, tested).

Both use the dungeon through ``gymnasium`` (``Dungeon-v0``), whose slips come from the env's
``np_random``; the original drew agent and dungeon from one global ``random`` stream (the same
distributions).
"""

from __future__ import annotations

import functools
import random
import time
from dataclasses import dataclass, field

import numpy as np

FORWARD = 0
BACKWARD = 1
TABLE_AGENTS = ("drunkard", "accountant", "gambler")
AGENTS = TABLE_AGENTS + ("deepgambler",)
VARIANTS = ("2019", "2020")
N_STATES = 5
WINDOW = 250  # train.py prints every 250th step
DRAWS_PER_STEP = 3  # the most agent draws one step can take (explore, action or tie, tie in the update)


@dataclass(frozen=True)
class Settings:
    """One agent's hyperparameters, as ``train.py`` passes them."""

    learning_rate: float
    discount: float
    units: int  # DeepGambler's hidden units per layer
    one_hot: bool  # DeepGambler's input: one-hot(5) (2019) or the state as one number (2020)


def settings(variant: str = "2019") -> Settings:
    """``train.py``'s defaults at commit 2f6aac0 (2019) or after 94591cd (2020)."""
    if variant == "2019":
        return Settings(0.1, 0.95, 16, True)
    if variant == "2020":
        return Settings(0.5, 0.98, 8, False)
    raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")


# ---------------------------------------------------------------------------------------------------
# The published agents (reference)
# ---------------------------------------------------------------------------------------------------


class Drunkard:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.q_table = None

    def get_next_action(self, state):
        # Random walk
        return FORWARD if self.rng.random() < 0.5 else BACKWARD

    def update(self, old_state, new_state, action, reward):
        pass  # I don't care! I'm drunk!!


class Accountant:
    def __init__(self, rng: random.Random):
        self.rng = rng
        # Spreadsheet (Q-table) for rewards accounting: q_table[action][state]
        self.q_table = [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]

    def get_next_action(self, state):
        if self.q_table[FORWARD][state] > self.q_table[BACKWARD][state]:
            return FORWARD
        elif self.q_table[BACKWARD][state] > self.q_table[FORWARD][state]:
            return BACKWARD
        return FORWARD if self.rng.random() < 0.5 else BACKWARD  # rewards are equal: random action

    def update(self, old_state, new_state, action, reward):
        self.q_table[action][old_state] += reward


class Gambler:
    def __init__(
        self, rng: random.Random, learning_rate=0.1, discount=0.95, exploration_rate=1.0, iterations=10000
    ):
        self.rng = rng
        self.q_table = [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
        self.learning_rate = learning_rate
        self.discount = discount
        self.exploration_rate = 1.0  # as published: the argument is ignored
        self.exploration_delta = 1.0 / iterations

    def get_next_action(self, state):
        if self.rng.random() > self.exploration_rate:  # explore (gamble) or exploit (greedy)
            return self.greedy_action(state)
        return self.random_action()

    def greedy_action(self, state):
        if self.q_table[FORWARD][state] > self.q_table[BACKWARD][state]:
            return FORWARD
        elif self.q_table[BACKWARD][state] > self.q_table[FORWARD][state]:
            return BACKWARD
        return FORWARD if self.rng.random() < 0.5 else BACKWARD

    def random_action(self):
        return FORWARD if self.rng.random() < 0.5 else BACKWARD

    def update(self, old_state, new_state, action, reward):
        old_value = self.q_table[action][old_state]
        future_action = self.greedy_action(new_state)  # on a tie: a draw, and the same value either way
        future_reward = self.q_table[future_action][new_state]
        new_value = old_value + self.learning_rate * (reward + self.discount * future_reward - old_value)
        self.q_table[action][old_state] = new_value
        if self.exploration_rate > 0:
            self.exploration_rate -= self.exploration_delta


def initial_weights(seed: int, variant: str = "2019", zero_kernels: bool = True) -> list[np.ndarray]:
    """DeepGambler's starting weights, float32, in Keras's order (kernel, bias per layer).

    Hidden kernels are zero (the published quirk) or glorot-uniform; the output kernel is
    glorot-uniform, ``tf.layers.dense``'s default; every bias is zero. Drawn with numpy
    (``default_rng(seed)``) so that the reference and the fast path start from the same numbers.
    """
    s = settings(variant)
    rng = np.random.default_rng(seed)
    sizes = [N_STATES if s.one_hot else 1, s.units, s.units, 2]

    def glorot(fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)

    weights = []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = layer < 2
        kernel = (
            np.zeros((fan_in, fan_out), np.float32) if hidden and zero_kernels else glorot(fan_in, fan_out)
        )
        weights += [kernel, np.zeros(fan_out, np.float32)]
    return weights


def build_model(variant: str = "2019"):
    """The DeepGambler's network in tf-keras: Dense(units, sigmoid) x 2 -> Dense(2), mse, SGD."""
    import tensorflow as tf

    import reproduce  # noqa: F401  (arms tf-keras before TensorFlow loads)

    s = settings(variant)
    keras = tf.keras
    model = keras.Sequential(
        [
            keras.layers.InputLayer(input_shape=(N_STATES if s.one_hot else 1,)),
            keras.layers.Dense(s.units, activation="sigmoid"),
            keras.layers.Dense(s.units, activation="sigmoid"),
            keras.layers.Dense(2),
        ]
    )
    # tf.train.GradientDescentOptimizer: var -= lr * grad, in float32.
    model.compile(optimizer=keras.optimizers.legacy.SGD(learning_rate=s.learning_rate), loss="mse")
    return model


class DeepGambler:
    """The published DeepGambler on tf-keras: ``predict_on_batch`` and ``train_on_batch`` are the
    original's ``session.run(model_output)`` and ``session.run(optimizer)``."""

    def __init__(
        self,
        rng: random.Random,
        learning_rate=0.1,
        discount=0.95,
        exploration_rate=1.0,
        iterations=10000,
        variant="2019",
        weights=None,
    ):
        self.rng = rng
        self.learning_rate = learning_rate  # built into the model's optimizer (build_model)
        self.discount = discount
        self.exploration_rate = 1.0 if variant == "2019" else exploration_rate
        self.exploration_delta = 1.0 / iterations
        self.one_hot = settings(variant).one_hot
        self.model = build_model(variant)
        if weights is not None:
            self.model.set_weights(weights)

    def get_Q(self, state):  # noqa: N802 (the published name)
        return np.array(self.model.predict_on_batch(self.encode(state))[0])

    def encode(self, state):
        if self.one_hot:  # Example: 3 -> [[0,0,0,1,0]]
            one_hot = np.zeros((1, N_STATES))
            one_hot[0, [state]] = 1
            return one_hot
        return np.array([[state]], dtype=float)

    def get_next_action(self, state):
        if self.rng.random() > self.exploration_rate:
            return self.greedy_action(state)
        return self.random_action()

    def greedy_action(self, state):
        return int(np.argmax(self.get_Q(state)))

    def random_action(self):
        return FORWARD if self.rng.random() < 0.5 else BACKWARD

    def train(self, old_state, action, reward, new_state):
        old_state_q_values = self.get_Q(old_state)
        new_state_q_values = self.get_Q(new_state)
        # numpy 1.x (2018) computed this in float64 and stored it into the float32 vector
        old_state_q_values[action] = float(reward) + self.discount * float(np.amax(new_state_q_values))
        self.model.train_on_batch(self.encode(old_state), old_state_q_values[None])

    def update(self, old_state, new_state, action, reward):
        self.train(old_state, action, reward, new_state)
        if self.exploration_rate > 0:
            self.exploration_rate -= self.exploration_delta


def make_agent(name: str, rng: random.Random, iterations: int, variant: str = "2019", weights=None):
    """``train.py``'s agent selection, with the variant's learning rate and discount."""
    s = settings(variant)
    if name == "gambler":
        return Gambler(rng, learning_rate=s.learning_rate, discount=s.discount, iterations=iterations)
    if name == "accountant":
        return Accountant(rng)
    if name == "deepgambler":
        return DeepGambler(
            rng,
            learning_rate=s.learning_rate,
            discount=s.discount,
            iterations=iterations,
            variant=variant,
            weights=weights,
        )
    if name == "drunkard":
        return Drunkard(rng)
    raise ValueError(f"agent must be one of {AGENTS}, got {name!r}")


@dataclass
class Result:
    """One agent's run: per step the chosen action, the reward and the state after; the final table."""

    agent: str
    actions: np.ndarray
    rewards: np.ndarray
    states: np.ndarray
    q: np.ndarray | None  # states x actions (Gambler, DeepGambler; the Accountant's reward sums)
    weights: list = field(default_factory=list)  # DeepGambler's final weights
    seconds: float = 0.0

    def printed(self) -> tuple[np.ndarray, np.ndarray]:
        """``train.py``'s printed performance: (steps, performance)."""
        from reproduce.envs.dungeon import printed_windows

        return printed_windows(self.rewards, WINDOW)


def make_env(seed: int):
    """``Dungeon-v0`` reset with ``seed`` (its slips come from the env's ``np_random``)."""
    import gymnasium as gym

    import reproduce.envs  # noqa: F401  (registers Dungeon-v0)
    from reproduce.envs import DUNGEON_ID

    env = gym.make(DUNGEON_ID)
    state, _ = env.reset(seed=seed)
    return env, state


def run_reference(
    agent: str, iterations: int, seed: int, variant: str = "2019", zero_kernels: bool = True
) -> Result:
    """``train.py``'s main loop with the published agent (readable, slow for the DeepGambler)."""
    rng = random.Random(seed)
    weights = initial_weights(seed, variant, zero_kernels) if agent == "deepgambler" else None
    learner = make_agent(agent, rng, iterations, variant, weights)
    env, state = make_env(seed)
    actions = np.zeros(iterations, np.int64)
    rewards = np.zeros(iterations)
    states = np.zeros(iterations, np.int64)
    start = time.perf_counter()
    for step in range(iterations):
        old_state = state
        action = learner.get_next_action(old_state)
        state, reward, *_ = env.step(int(action))
        learner.update(old_state, state, action, reward)
        actions[step], rewards[step], states[step] = action, reward, state
    seconds = time.perf_counter() - start
    if agent == "deepgambler":
        eye = np.eye(N_STATES) if learner.one_hot else np.arange(N_STATES, dtype=float)[:, None]
        q = np.asarray(learner.model.predict_on_batch(eye), dtype=np.float64)
        return Result(agent, actions, rewards, states, q, learner.model.get_weights(), seconds)
    q = None if learner.q_table is None else np.asarray(learner.q_table, dtype=float).T
    return Result(agent, actions, rewards, states, q, seconds=seconds)


# ---------------------------------------------------------------------------------------------------
# The same agents, compiled (numba), replaying the reference's draws
# ---------------------------------------------------------------------------------------------------


def agent_draws(seed: int, iterations: int, per_step: int = DRAWS_PER_STEP) -> np.ndarray:
    """Enough of ``random.Random(seed)``'s stream for ``iterations`` steps (consumed in order).

    Python's ``random()`` and numpy's legacy ``random_sample()`` are the same MT19937 double (two 32-bit
    words), so the Python generator's state, handed to a ``RandomState``, gives its draws in bulk."""
    words = random.Random(seed).getstate()[1]
    bulk = np.random.RandomState()
    bulk.set_state(("MT19937", np.array(words[:-1], dtype=np.uint32), words[-1]))
    return bulk.random_sample(per_step * iterations)


def slip_draws(seed: int, iterations: int) -> np.ndarray:
    """The env's slip draws: ``Dungeon-v0``'s ``np_random.random()`` once per step after ``reset(seed)``."""
    from gymnasium.utils import seeding

    return seeding.np_random(seed)[0].random(iterations)


def _tables_python(agent, u, slip_u, iterations, lr, discount, slip, q, actions, rewards, states):
    """Drunkard (0), Accountant (1) or Gambler (2) on the dungeon; ``q`` is [action, state]."""
    k = 0  # next agent draw
    state = 0
    exploration = 1.0
    delta = 1.0 / iterations
    last = N_STATES - 1
    for step in range(iterations):
        # --- the agent's action
        if agent == 0:
            action = FORWARD if u[k] < 0.5 else BACKWARD
            k += 1
        else:
            greedy = True
            if agent == 2:
                greedy = u[k] > exploration
                k += 1
            if greedy and q[FORWARD, state] > q[BACKWARD, state]:
                action = FORWARD
            elif greedy and q[BACKWARD, state] > q[FORWARD, state]:
                action = BACKWARD
            else:  # a tie, or exploring: one draw either way
                action = FORWARD if u[k] < 0.5 else BACKWARD
                k += 1
        # --- the dungeon
        old_state = state
        state, reward = _dungeon_step(state, action, slip_u[step] < slip, last)
        # --- the update
        if agent == 1:
            q[action, old_state] += reward
        elif agent == 2:
            if q[FORWARD, state] > q[BACKWARD, state]:
                future = q[FORWARD, state]
            elif q[BACKWARD, state] > q[FORWARD, state]:
                future = q[BACKWARD, state]
            else:
                future = q[FORWARD if u[k] < 0.5 else BACKWARD, state]
                k += 1
            old = q[action, old_state]
            q[action, old_state] = old + lr * (reward + discount * future - old)
            if exploration > 0:
                exploration -= delta
        actions[step] = action
        rewards[step] = reward
        states[step] = state


def _dungeon_step(state, action, slipped, last):
    """The dungeon's rule for the compiled loops: ``(next tile, reward)``; a slip reverses the action."""
    taken = 1 - action if slipped else action
    if taken == BACKWARD:
        return 0, 2.0
    if state < last:
        return state + 1, 0.0
    return state, 10.0


def _sigmoid(z):
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-z))


def _forward(x, w1, b1, w2, b2, w3, b3, h1, h2, q):
    """One float32 forward pass of the DeepGambler's network into h1, h2, q."""
    units = b1.shape[0]
    for j in range(units):
        z = np.float32(0.0)
        for i in range(x.shape[0]):
            z += x[i] * w1[i, j]
        h1[j] = _sigmoid(z + b1[j])
    for j in range(units):
        z = np.float32(0.0)
        for i in range(units):
            z += h1[i] * w2[i, j]
        h2[j] = _sigmoid(z + b2[j])
    for j in range(2):
        z = np.float32(0.0)
        for i in range(units):
            z += h2[i] * w3[i, j]
        q[j] = z + b3[j]


def _argmax2(q):
    """``np.argmax`` of two values: the first NaN wins, then the larger, ties to the first."""
    if np.isnan(q[0]):
        return 0
    if np.isnan(q[1]):
        return 1
    return 1 if q[1] > q[0] else 0


def _encode(state, one_hot, x):
    if one_hot:
        x[:] = 0.0
        x[state] = 1.0
    else:
        x[0] = state


def _deep_python(
    u, slip_u, iterations, one_hot, lr, discount, slip, w1, b1, w2, b2, w3, b3, actions, rewards, states
):
    """The DeepGambler's loop: per step the forward passes of ``get_Q`` and one SGD step of mse."""
    units = b1.shape[0]
    x = np.zeros(w1.shape[0], np.float32)
    h1 = np.zeros(units, np.float32)
    h2 = np.zeros(units, np.float32)
    q = np.zeros(2, np.float32)
    q_new = np.zeros(2, np.float32)
    d1 = np.zeros(units, np.float32)
    d2 = np.zeros(units, np.float32)
    dq = np.zeros(2, np.float32)
    lr32 = np.float32(lr)
    k = 0
    state = 0
    exploration = 1.0
    delta = 1.0 / iterations
    last = N_STATES - 1
    for step in range(iterations):
        explore = not (u[k] > exploration)
        k += 1
        if explore:
            action = FORWARD if u[k] < 0.5 else BACKWARD
            k += 1
        else:
            _encode(state, one_hot, x)
            _forward(x, w1, b1, w2, b2, w3, b3, h1, h2, q)
            action = _argmax2(q)
        old_state = state
        state, reward = _dungeon_step(state, action, slip_u[step] < slip, last)
        # train: Q(s'), then Q(s) (the same forward pass train_on_batch makes), target, one SGD step
        _encode(state, one_hot, x)
        _forward(x, w1, b1, w2, b2, w3, b3, h1, h2, q_new)
        best = q_new[0] if q_new[0] >= q_new[1] else q_new[1]
        if np.isnan(q_new[0]) or np.isnan(q_new[1]):
            best = np.float32(np.nan)  # np.amax propagates NaN
        target = np.float32(reward + discount * np.float64(best))
        _encode(old_state, one_hot, x)
        _forward(x, w1, b1, w2, b2, w3, b3, h1, h2, q)
        # mse over the 2 outputs: d/dq = 2 (q - t) / 2; the other action's target is q itself
        dq[:] = 0.0
        dq[action] = q[action] - target
        for i in range(units):
            s = np.float32(0.0)
            for j in range(2):
                s += w3[i, j] * dq[j]
            d2[i] = s * h2[i] * (np.float32(1.0) - h2[i])
        for i in range(units):
            s = np.float32(0.0)
            for j in range(units):
                s += w2[i, j] * d2[j]
            d1[i] = s * h1[i] * (np.float32(1.0) - h1[i])
        for i in range(units):
            for j in range(2):
                w3[i, j] -= lr32 * (h2[i] * dq[j])
        for j in range(2):
            b3[j] -= lr32 * dq[j]
        for i in range(units):
            for j in range(units):
                w2[i, j] -= lr32 * (h1[i] * d2[j])
            b2[i] -= lr32 * d2[i]
        for i in range(x.shape[0]):
            for j in range(units):
                w1[i, j] -= lr32 * (x[i] * d1[j])
        for j in range(units):
            b1[j] -= lr32 * d1[j]
        if exploration > 0:
            exploration -= delta
        actions[step] = action
        rewards[step] = reward
        states[step] = state


@functools.cache
def _compiled():
    import numba

    jit = functools.partial(numba.njit, cache=True)
    global _dungeon_step, _sigmoid, _forward, _encode, _argmax2  # the compiled loops call compiled helpers
    _dungeon_step, _sigmoid, _forward = jit(_dungeon_step), jit(_sigmoid), jit(_forward)
    _encode, _argmax2 = jit(_encode), jit(_argmax2)
    return jit(_tables_python), jit(_deep_python)


def q_values(weights, variant: str = "2019") -> np.ndarray:
    """The network's Q for every tile (states x actions), float64, from float32 weights."""
    s = settings(variant)
    w1, b1, w2, b2, w3, b3 = weights
    x = np.eye(N_STATES, dtype=np.float32) if s.one_hot else np.arange(N_STATES, dtype=np.float32)[:, None]
    h1 = 1 / (1 + np.exp(-(x @ w1 + b1)))
    h2 = 1 / (1 + np.exp(-(h1 @ w2 + b2)))
    return np.asarray(h2 @ w3 + b3, dtype=np.float64)


def run_fast(
    agent: str, iterations: int, seed: int, variant: str = "2019", zero_kernels: bool = True, jit: bool = True
) -> Result:
    """:func:`run_reference`, compiled: the same draws, the same actions, rewards and tables."""
    from reproduce.envs.dungeon import DUNGEON

    s = settings(variant)
    tables, deep = _compiled() if jit else (_tables_python, _deep_python)
    u = agent_draws(seed, iterations, 2 if agent == "deepgambler" else DRAWS_PER_STEP)
    slips = slip_draws(seed, iterations)
    actions = np.zeros(iterations, np.int64)
    rewards = np.zeros(iterations)
    states = np.zeros(iterations, np.int64)
    start = time.perf_counter()
    if agent == "deepgambler":
        weights = [w.copy() for w in initial_weights(seed, variant, zero_kernels)]
        deep(
            u,
            slips,
            iterations,
            s.one_hot,
            s.learning_rate,
            s.discount,
            DUNGEON["slip"],
            *weights,
            actions,
            rewards,
            states,
        )
        seconds = time.perf_counter() - start
        return Result(agent, actions, rewards, states, q_values(weights, variant), weights, seconds)
    q = np.zeros((2, N_STATES))
    tables(
        TABLE_AGENTS.index(agent),
        u,
        slips,
        iterations,
        s.learning_rate,
        s.discount,
        DUNGEON["slip"],
        q,
        actions,
        rewards,
        states,
    )
    seconds = time.perf_counter() - start
    return Result(
        agent, actions, rewards, states, None if agent == "drunkard" else q.T.copy(), seconds=seconds
    )
