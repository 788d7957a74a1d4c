"""Thin adapters between gymnasium envs (or envs written for the old gym) and keras-rl2's agents.

keras-rl2 speaks the old gym API: ``reset() -> obs`` and ``step() -> (obs, r, done, info)``.
:class:`KerasRLEnv` presents a gymnasium env that way and keeps gymnasium's
``terminated``/``truncated`` flags in ``info`` so nothing is lost; given an env written for the
old gym API (``reset() -> obs``, 4-tuple ``step``, ``seed()``, or gym 0.9's ``_step``/``_reset``/
``_seed``/``_render``), it passes it through unchanged, so the same line serves both.
:func:`seed_everything` seeds Python, numpy, TensorFlow and the env in one call.
:class:`OneHotProcessor` turns a ``Discrete`` observation (NChain's state index) into the
one-hot vector a Keras network needs.
"""

from __future__ import annotations

import inspect

import gymnasium as gym
import numpy as np
from rl.core import Processor


def _method(env, name):
    """``env.name``, or gym 0.9's ``env._name`` when ``name`` is missing or only gymnasium's base stub."""
    own = getattr(type(env), name, None)
    legacy = getattr(env, "_" + name, None)
    if callable(legacy) and (own is None or own is getattr(gym.Env, name, None)):
        return legacy
    return getattr(env, name, None)


def is_old_gym(env) -> bool:
    """Whether ``env`` speaks the old gym API: its ``reset`` takes no ``seed`` and returns the observation."""
    reset = _method(env, "reset")
    if reset is None:
        raise TypeError(f"{type(env).__name__} has no reset() or _reset(); keras-rl needs a gym-style env")
    try:
        parameters = inspect.signature(reset).parameters
    except (TypeError, ValueError):
        return False
    return "seed" not in parameters and not any(p.kind is p.VAR_KEYWORD for p in parameters.values())


class KerasRLEnv:
    """A gymnasium env (or one written for the old gym API) behind keras-rl2's old-gym interface.

    Gymnasium env: ``seed`` (or :meth:`seed`) is used for the next ``reset`` and for the action
    space; later resets continue the env's own random stream, as gymnasium intends. Old-gym env
    (``is_old_gym``): ``reset``, ``step``, ``seed`` and ``render`` are its own (or its ``_step``-style
    methods), called as keras-rl would; a 5-tuple ``step`` is still read as gymnasium's.
    """

    def __init__(self, env, seed: int | None = None):
        self.env = env
        self.old_gym = is_old_gym(env)
        self._next_seed = None
        if seed is not None:
            self.seed(seed)

    def seed(self, seed: int | None = None):
        self._next_seed = seed
        if hasattr(self.env.action_space, "seed"):
            self.env.action_space.seed(seed)
        if self.old_gym:
            self._next_seed = None
            own = _method(self.env, "seed")
            return own(seed) if callable(own) else [seed]
        return [seed]

    def reset(self):
        if self.old_gym:
            return _method(self.env, "reset")()
        obs, _info = self.env.reset(seed=self._next_seed)
        self._next_seed = None
        return obs

    def step(self, action):
        result = _method(self.env, "step")(action)
        if len(result) == 4:  # the old gym API
            obs, reward, done, info = result
            return obs, reward, done, info
        obs, reward, terminated, truncated, info = result
        info = dict(info, terminated=bool(terminated), truncated=bool(truncated))
        return obs, reward, bool(terminated or truncated), info

    def render(self, mode=None):  # keras-rl passes mode="human"; gymnasium fixes it at make()
        if self.old_gym:
            return _method(self.env, "render")(mode=mode or "human")
        if self.env.render_mode == "human":
            return None  # gymnasium already draws every reset and step in human mode
        return self.env.render()

    def close(self):
        close = _method(self.env, "close")
        return close() if callable(close) else None

    @property
    def action_space(self):
        return self.env.action_space

    @property
    def observation_space(self):
        return self.env.observation_space

    @property
    def unwrapped(self):
        return getattr(self.env, "unwrapped", self.env)

    @property
    def spec(self):
        return getattr(self.env, "spec", None)


def seed_everything(seed: int, env=None) -> None:
    """Seed Python's ``random``, numpy's global RNG, TensorFlow's graph seed and, given, the env.

    Call it before building the model: TensorFlow's graph seed reaches the ops built after it
    (weight initialisers). ``env`` is a :class:`KerasRLEnv` or an old-gym env (its ``seed``), or a
    gymnasium env (reset with the seed). Same seed, same script, same CPU: the same run.
    """
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)  # random, numpy, the graph seed and Keras's initializer seeds
    if env is None:
        return
    if callable(getattr(env, "seed", None)) or callable(getattr(env, "_seed", None)):
        (env.seed if callable(getattr(env, "seed", None)) else env._seed)(seed)
    else:  # a gymnasium env
        env.reset(seed=seed)
        env.action_space.seed(seed)


class OneHotProcessor(Processor):
    """Encode integer (``Discrete``) observations as float32 one-hot vectors."""

    def __init__(self, n: int):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"OneHotProcessor needs a positive number of states, got {n!r}")
        self.n = int(n)
        self._eye = np.eye(self.n, dtype=np.float32)

    def process_observation(self, observation):
        state = int(observation)
        if not 0 <= state < self.n:
            raise ValueError(f"observation {observation!r} is outside Discrete({self.n})")
        return self._eye[state]

    def process_state_batch(self, batch):
        return np.asarray(batch, dtype=np.float32)
