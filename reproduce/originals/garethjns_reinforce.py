"""garethjns's ``ReinforceAgent`` (agents/cart_pole/policy_gradient/reinforce_agent.py, commit 19c5fc2).

Published: state -> ``Dense(24, relu)`` -> ``Dense(12, relu)`` -> ``Dense(2, softmax)``, Adam 1e-3, loss
``-sum(y_true * log(y_pred), axis=1)``. Each step samples ``np.random.choice(range(2), p=predict(s))``;
after each episode (up to 500 steps), one ``train_on_batch`` on the whole episode with the target
``y = p + lr * (onehot(a) - p) * G_norm``, where ``G_norm`` is the discounted return (gamma 0.99)
normalised over the episode and ``lr`` is a second rate field (0.001) beside Adam's ``learning_rate``.
:func:`train_reference` runs that loop with tf-keras (``predict`` per step, ``train_on_batch``).

Quirk (``quirks=True``, switchable): the target trick. Since ``train_on_batch`` evaluates ``p`` with
the weights that sampled the episode, the loss's gradient on the logits is
``(p * sum(y) - y) / L = -0.001 * (onehot - p) * G_norm / L``: REINFORCE's gradient scaled by 1e-3
(Adam makes the scale nearly irrelevant; only its epsilon sees it). ``quirks=False`` uses the plain
REINFORCE target ``y = onehot(a) * G_norm`` with the same loss (gradient ``(p - onehot) * G_norm / L``).

:class:`FastReinforce` is the same algorithm in numba (forward, backward and tf-keras's Adam in
float64), replaying the reference's draws: reset states from the env's generator, one uniform per
step from ``np.random.RandomState(seed)`` (what ``choice`` draws: action 1 iff ``u >= p0 / (p0 + p1)``).
It can checkpoint and resume (:meth:`FastReinforce.arrays_state`).
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

LAYERS = ((4, 24), (24, 12), (12, 2))
LEARNING_RATE = 0.001  # Adam's
TARGET_LR = 0.001  # the agent's ``lr`` field, the step of the target trick


def initial_weights(seed: int) -> list[np.ndarray]:
    return glorot_init(np.random.RandomState(10_000 + seed), LAYERS)


def discounted_normalised(rewards, gamma: float = GAMMA) -> np.ndarray:
    """``calc_discounted_rewards`` as published: returns-to-go, minus their mean, over (std + 1e-9)."""
    rr = np.asarray(rewards, dtype=np.float64)
    disc = np.zeros_like(rr)
    cumulative = 0.0
    for t in reversed(range(rr.size)):
        cumulative = cumulative * gamma + rr[t]
        disc[t] = cumulative
    return (disc - np.mean(disc)) / (np.std(disc) + 1e-9)


def targets(actions, probs, returns_norm, quirks: bool) -> np.ndarray:
    """The ``y`` passed to ``train_on_batch`` (float32, as upstream's tensor arithmetic)."""
    onehot = np.eye(2, dtype=np.float32)[np.asarray(actions)]
    g = returns_norm.astype(np.float32)[:, None]
    if not quirks:
        return onehot * g
    probs = np.vstack(probs).astype(np.float32)
    return probs + np.float32(TARGET_LR) * ((onehot - probs) * g)


def build_model():
    """The published network and compile call (``_build_model``)."""
    import tensorflow as tf

    keras = tf.keras

    def loss(y_true, y_pred):
        return -tf.reduce_sum(y_true * tf.math.log(y_pred), axis=1)

    state_input = keras.layers.Input(shape=(4,))
    fc1 = keras.layers.Dense(24, activation="relu")(state_input)
    fc2 = keras.layers.Dense(12, activation="relu")(fc1)
    action_output = keras.layers.Dense(2, activation="softmax")(fc2)
    model = keras.Model(state_input, action_output)
    # Adam as published; in the graph mode the package runs Keras in, that is the legacy class (same update)
    model.compile(optimizer=keras.optimizers.legacy.Adam(learning_rate=LEARNING_RATE), loss=loss)
    return model


@dataclass
class Result:
    returns: np.ndarray  # per training episode
    actions: np.ndarray  # every action taken, in order
    weights: list  # final, get_weights order
    seconds: float


def train_reference(
    seed: int, episodes: int, quirks: bool = True, max_steps: int = MAX_EPISODE_STEPS
) -> Result:
    """The published loop: ``play_episode`` (predict, choice, step) then ``update_model``, per episode."""
    from reproduce.originals.keras_qnet import new_session

    new_session(seed)
    start = time.perf_counter()
    model = build_model()
    model.set_weights(initial_weights(seed))
    rng = np.random.RandomState(seed)  # upstream's global np.random
    env = make_env()
    returns, all_actions = [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed if episode == 0 else None)
        states, probs, actions, rewards = [], [], [], []
        for _ in range(max_steps):
            p = model.predict(np.atleast_2d(obs), verbose=0).squeeze()
            action = rng.choice(range(2), p=p)
            prev_obs = obs
            obs, reward, terminated, _, _ = env.step(action)
            states.append(prev_obs)
            probs.append(p)
            actions.append(action)
            rewards.append(reward)
            if terminated:
                break
        y = targets(actions, probs, discounted_normalised(rewards), quirks)
        model.train_on_batch(np.vstack(states), y)
        returns.append(sum(rewards))
        all_actions += actions
    return Result(
        np.array(returns), np.array(all_actions), model.get_weights(), time.perf_counter() - start
    )


@numba.njit(cache=True)
def _probs(theta, x):
    """Softmax probabilities of the network ``theta`` (flat) for states ``x`` (n, 4), with the
    pre-activations the backward pass needs."""
    (w0, b0), (w1, b1), (w2, b2) = dense_views(theta, LAYERS)
    a1 = x @ w0 + b0
    h1 = np.maximum(a1, 0.0)
    a2 = h1 @ w1 + b1
    h2 = np.maximum(a2, 0.0)
    z = h2 @ w2 + b2
    p = np.empty_like(z)
    for i in range(z.shape[0]):
        e = np.exp(z[i] - z[i].max())
        p[i] = e / e.sum()
    return p, a1, h1, a2, h2


@numba.njit(cache=True)
def _play(theta, start, uniforms, max_steps, states, probs, actions):
    """One episode from ``start``; fills ``states``/``probs``/``actions``; returns its length."""
    state = start.copy()
    obs = np.empty((1, 4))
    for t in range(max_steps):
        for k in range(4):
            obs[0, k] = np.float32(state[k])
        p = _probs(theta, obs)[0][0]
        action = 1 if uniforms[t] >= p[0] / (p[0] + p[1]) else 0
        states[t] = obs[0]
        probs[t] = p
        actions[t] = action
        if cartpole_step(state, action):
            return t + 1
    return max_steps


@numba.njit(cache=True)
def _update(theta, m, v, t, x, y, lr):
    """One ``train_on_batch`` of ``loss = mean(-sum(y log p))`` and tf-keras's Adam step ``t``."""
    n = x.shape[0]
    p, a1, h1, a2, h2 = _probs(theta, x)
    grad = np.zeros_like(theta)
    (w0, b0), (w1, b1), (w2, b2) = dense_views(theta, LAYERS)
    (g0, gb0), (g1, gb1), (g2, gb2) = dense_views(grad, LAYERS)
    dz = (p * y.sum(axis=1).reshape(-1, 1) - y) / n
    g2[:] = h2.T @ dz
    gb2[:] = dz.sum(axis=0)
    d2 = (dz @ w2.T) * (a2 > 0)
    g1[:] = h1.T @ d2
    gb1[:] = d2.sum(axis=0)
    d1 = (d2 @ w1.T) * (a1 > 0)
    g0[:] = x.T @ d1
    gb0[:] = d1.sum(axis=0)
    adam_update(theta, grad, m, v, t, lr)


class FastReinforce:
    """:func:`train_reference`'s algorithm and draws in numba, one episode at a time, resumable."""

    def __init__(self, seed: int, quirks: bool = True, max_steps: int = MAX_EPISODE_STEPS):
        self.seed, self.quirks, self.max_steps = seed, quirks, max_steps
        self.theta = flatten(initial_weights(seed))
        self.m, self.v = np.zeros_like(self.theta), np.zeros_like(self.theta)
        self.t = 0
        self.episode = 0
        self.resets = reset_stream(seed)
        rng = np.random.RandomState(seed)  # upstream's global np.random: one uniform per step (choice)
        self.uniforms = Stream(rng, rng.random_sample, 8192)
        self._states = np.empty((max_steps, 4))
        self._probs = np.empty((max_steps, 2))
        self._actions = np.empty(max_steps, dtype=np.int64)

    @property
    def weights(self) -> list[np.ndarray]:
        return unflatten(self.theta, initial_weights(0))

    def episode_run(self) -> tuple[float, np.ndarray]:
        """Play and learn one episode; returns its return and actions."""
        start = self.resets.ahead(1)[0]
        self.resets.take(1)
        n = _play(
            self.theta,
            start,
            self.uniforms.ahead(self.max_steps),
            self.max_steps,
            self._states,
            self._probs,
            self._actions,
        )
        self.uniforms.take(n)
        actions = self._actions[:n].copy()
        y = targets(actions, self._probs[:n], discounted_normalised(np.ones(n)), self.quirks)
        self.t += 1
        _update(
            self.theta, self.m, self.v, self.t, self._states[:n].copy(), y.astype(np.float64), LEARNING_RATE
        )
        self.episode += 1
        return float(n), actions

    def train(self, episodes: int, on_episode=None) -> Result:
        """``episodes`` more episodes; ``on_episode(episode, return)`` after each."""
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
        """The most probable action of each state's last observation (the report's greedy evaluation)."""
        x = np.array([np.asarray(s[-1], dtype=np.float64) for s in states])
        return list(np.argmax(_probs(self.theta, x)[0], axis=1))

    def arrays_state(self) -> tuple[dict, dict]:
        """Everything to resume: ``(arrays, json state)`` for ``callbacks.store.save_arrays_state``."""
        resets_rng, resets = self.resets.state()
        choice_rng, uniforms = self.uniforms.state()
        arrays = {
            "theta": self.theta,
            "adam_m": self.m,
            "adam_v": self.v,
            "resets": resets,
            "uniforms": uniforms,
        }
        state = {
            "seed": self.seed,
            "quirks": self.quirks,
            "max_steps": self.max_steps,
            "t": self.t,
            "episode": self.episode,
            "resets_rng": resets_rng,
            "choice_rng": choice_rng,
        }
        return arrays, state

    @classmethod
    def from_state(cls, state: dict, arrays: dict) -> FastReinforce:
        agent = cls(state["seed"], state["quirks"], state["max_steps"])
        agent.theta, agent.m, agent.v = (
            np.array(arrays[k], dtype=np.float64) for k in ("theta", "adam_m", "adam_v")
        )
        agent.t, agent.episode = state["t"], state["episode"]
        agent.resets.restore(state["resets_rng"], arrays["resets"])
        agent.uniforms.restore(state["choice_rng"], arrays["uniforms"])
        return agent
