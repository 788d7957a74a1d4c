"""Thin adapters between gymnasium envs and keras-rl2's agents.

keras-rl2 speaks the old gym API: ``reset() -> obs`` and ``step() -> (obs, r, done, info)``.
:class:`KerasRLEnv` presents a gymnasium env that way and keeps gymnasium's
``terminated``/``truncated`` flags in ``info`` so nothing is lost.
:class:`OneHotProcessor` turns a ``Discrete`` observation (NChain's state index) into the
one-hot vector a Keras network needs.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from rl.core import Processor


class KerasRLEnv:
    """A gymnasium env behind keras-rl2's old-gym interface.

    ``seed`` (or :meth:`seed`) is used for the next ``reset`` and for the action space;
    later resets continue the env's own random stream, as gymnasium intends.
    """

    def __init__(self, env: gym.Env, seed: int | None = None):
        self.env = env
        self._next_seed = None
        if seed is not None:
            self.seed(seed)

    def seed(self, seed: int | None = None):
        self._next_seed = seed
        self.env.action_space.seed(seed)
        return [seed]

    def reset(self):
        obs, _info = self.env.reset(seed=self._next_seed)
        self._next_seed = None
        return obs

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info, terminated=bool(terminated), truncated=bool(truncated))
        return obs, reward, bool(terminated or truncated), info

    def render(self, mode=None):  # keras-rl passes mode="human"; gymnasium fixes it at make()
        if self.env.render_mode == "human":
            return None  # gymnasium already draws every reset and step in human mode
        return self.env.render()

    def close(self):
        return self.env.close()

    @property
    def action_space(self):
        return self.env.action_space

    @property
    def observation_space(self):
        return self.env.observation_space

    @property
    def unwrapped(self):
        return self.env.unwrapped


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
