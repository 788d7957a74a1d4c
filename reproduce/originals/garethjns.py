"""garethjns/reinforcement-learning-keras (commit 19c5fc2, May 2020): what its CartPole agents share.

The repository's agents all train on ``gym.make("CartPole-v0")`` with the 200-step ``TimeLimit``
removed (``AgentBase._set_env`` sets ``_max_episode_steps = inf``) and a 500-step cap in their own
loop (``play_episode(max_episode_steps=500)``), with the old gym API (``reset() -> s``, 4-tuple
``step``). Here that env is gymnasium's ``CartPole-v0`` unwrapped (same physics, float32
observations), and :func:`cartpole_step` is the same physics in numba for the fast paths (the
tests check it against the env step by step).

Random draws: upstream seeded nothing. Here each source is a seeded stream, and the fast paths
replay exactly the draws of the reference loops through :class:`Stream`, which draws ahead in
chunks and hands them out in order (a sequence of draws of one generator is the same whether drawn
one at a time or in bulk; the tests check it for every stream used).

Initial weights: Keras's ``glorot_uniform`` kernels and zero biases, drawn here with numpy
(:func:`glorot_init`) so the reference loop (which ``set_weights`` them) and the TensorFlow-free
fast path start from the same network.
"""

from __future__ import annotations

import math

import numba
import numpy as np

ENV_ID = "CartPole-v0"  # trained with its 200-step limit removed and a 500-step loop cap
EVAL_ENV_ID = "CartPole-v1"  # the same physics capped at 500 steps: the task trained on, threshold 475
MAX_EPISODE_STEPS = 500
GAMMA = 0.99
ADAM_EPSILON = 1e-7  # tf-keras's Adam default


def make_env():
    """``CartPole-v0`` without its time limit, as ``AgentBase._set_env`` leaves it."""
    import gymnasium as gym

    return gym.make(ENV_ID).unwrapped


# CartPole's physics (gymnasium's CartPoleEnv, euler integration), float64 state.
GRAVITY, MASS_CART, MASS_POLE, LENGTH, FORCE, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
TOTAL_MASS = MASS_POLE + MASS_CART
POLEMASS_LENGTH = MASS_POLE * LENGTH
THETA_LIMIT = 12 * 2 * math.pi / 360
X_LIMIT = 2.4


@numba.njit(cache=True)
def cartpole_step(state, action):
    """Advance ``state`` (float64[4], in place) by one step; returns ``terminated``."""
    x, x_dot, theta, theta_dot = state[0], state[1], state[2], state[3]
    force = FORCE if action == 1 else -FORCE
    costheta = np.cos(theta)
    sintheta = np.sin(theta)
    temp = (force + POLEMASS_LENGTH * np.square(theta_dot) * sintheta) / TOTAL_MASS
    thetaacc = (GRAVITY * sintheta - costheta * temp) / (
        LENGTH * (4.0 / 3.0 - MASS_POLE * np.square(costheta) / TOTAL_MASS)
    )
    xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS
    state[0] = x + TAU * x_dot
    state[1] = x_dot + TAU * xacc
    state[2] = theta + TAU * theta_dot
    state[3] = theta_dot + TAU * thetaacc
    return state[0] < -X_LIMIT or state[0] > X_LIMIT or state[2] < -THETA_LIMIT or state[2] > THETA_LIMIT


class Stream:
    """One seeded random source, drawn ahead in chunks and consumed in order.

    ``draw(n)`` draws ``n`` values from the generator (the same values, in the same order, as ``n``
    single draws); ``ahead(n)`` returns at least the next ``n`` unconsumed values without consuming
    them; ``take(k)`` consumes ``k``.
    """

    def __init__(self, rng, draw, chunk: int):
        self.rng, self.draw, self.chunk = rng, draw, chunk
        self.buffer = draw(0)
        self.pos = 0

    def ahead(self, n: int) -> np.ndarray:
        if len(self.buffer) - self.pos < n:
            self.buffer = np.concatenate([self.buffer[self.pos :], self.draw(max(n, self.chunk))])
            self.pos = 0
        return self.buffer[self.pos :]

    def take(self, k: int) -> None:
        self.pos += int(k)

    def remaining(self) -> np.ndarray:
        return self.buffer[self.pos :].copy()

    def state(self) -> tuple[dict, np.ndarray]:
        """The generator's state (JSON-able) and the drawn-ahead values, to resume exactly."""
        if isinstance(self.rng, np.random.RandomState):
            state = self.rng.get_state(legacy=False)
            state = {
                **state,
                "state": {"key": state["state"]["key"].tolist(), "pos": state["state"]["pos"]},
            }
        else:
            state = self.rng.bit_generator.state
        return state, self.remaining()

    def restore(self, state: dict, remaining: np.ndarray) -> None:
        if isinstance(self.rng, np.random.RandomState):
            self.rng.set_state(
                {
                    **state,
                    "state": {
                        "key": np.array(state["state"]["key"], dtype=np.uint32),
                        "pos": state["state"]["pos"],
                    },
                }
            )
        else:
            self.rng.bit_generator.state = state
        self.buffer, self.pos = np.array(remaining).reshape((-1,) + self.buffer.shape[1:]), 0


def reset_stream(seed: int) -> Stream:
    """CartPole's reset states: ``reset(seed=seed)`` then ``reset()``, each ``uniform(-0.05, 0.05, 4)``
    from the env's generator (``np.random.default_rng(seed)``, what gymnasium seeds)."""
    rng = np.random.default_rng(seed)
    return Stream(rng, lambda n: rng.uniform(-0.05, 0.05, size=(n, 4)), 256)


def glorot_init(rng: np.random.RandomState, sizes) -> list[np.ndarray]:
    """Keras ``Dense`` defaults for layers ``sizes = [(fan_in, fan_out), ...]``: glorot-uniform kernels
    (limit sqrt(6 / (fan_in + fan_out))) and zero biases, float32, in ``get_weights`` order."""
    out = []
    for fan_in, fan_out in sizes:
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        out += [
            rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32),
            np.zeros(fan_out, dtype=np.float32),
        ]
    return out


@numba.njit(cache=True)
def adam_update(param, grad, m, v, t, lr):
    """tf-keras's Adam step ``t`` (1-based) on flat vectors, in place: ``m += (g - m)(1 - b1)``,
    ``v += (g^2 - v)(1 - b2)``, ``param -= m * lr sqrt(1 - b2^t) / (1 - b1^t) / (sqrt(v) + eps)``."""
    alpha = lr * math.sqrt(1.0 - 0.999**t) / (1.0 - 0.9**t)
    for i in range(param.size):
        m[i] += (grad[i] - m[i]) * (1.0 - 0.9)
        v[i] += (grad[i] * grad[i] - v[i]) * (1.0 - 0.999)
        param[i] -= m[i] * alpha / (math.sqrt(v[i]) + ADAM_EPSILON)


def flatten(weights) -> np.ndarray:
    """Keras ``get_weights`` arrays as one float64 vector (the fast paths' parameters and Adam moments)."""
    return np.concatenate([np.ravel(w) for w in weights]).astype(np.float64)


def unflatten(theta, like) -> list[np.ndarray]:
    """The inverse of :func:`flatten`, shaped like the arrays ``like``, float32 as Keras holds them."""
    out, pos = [], 0
    for w in like:
        size = int(np.size(w))
        out.append(np.asarray(theta[pos : pos + size], dtype=np.float32).reshape(np.shape(w)))
        pos += size
    return out


@numba.njit(cache=True)
def dense_views(theta, sizes):
    """Kernel and bias views of a flat vector for dense layers ``sizes`` ((fan_in, fan_out), ...): a list
    of (kernel, bias) pairs sharing ``theta``'s memory."""
    out = []
    pos = 0
    for k in range(len(sizes)):
        fan_in, fan_out = sizes[k]
        kernel = theta[pos : pos + fan_in * fan_out].reshape((fan_in, fan_out))
        pos += fan_in * fan_out
        out.append((kernel, theta[pos : pos + fan_out]))
        pos += fan_out
    return out


def moving_average(values, window: int) -> np.ndarray:
    """Upstream's ``np.convolve(x, np.ones(w), 'valid') / w``: point ``i`` averages episodes ``i..i+w-1``."""
    return np.convolve(np.asarray(values, dtype=float), np.ones(window), "valid") / window


def current_performance(history) -> float:
    """Upstream's ``TrainingHistory.current_performance`` (rolling_average=12): the mean of
    ``history[len - 12:-1]``, i.e. the last 12 episodes but the very last (how it ranks best and worst)."""
    return float(np.mean(history[len(history) - 12 : -1]))
