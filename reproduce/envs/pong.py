"""Pong as garethjns/reinforcement-learning-keras wraps it, as gymnasium wrappers over ale-py.

Upstream (``enviroments/atari/``, commit b1e4334; ``pong_config.py``'s ``PONG_WRAPPERS_DIFF``, the
config's default ``mode='diff'``) wraps gym's ``PongNoFrameskip-v4`` as
``FrameBuffer(FireStart(ImageProcess(MaxAndSkip(env))), buffer_length=2, buffer_function='diff')``:

- :class:`MaxAndSkip`: each step repeats the action for 4 frames, sums their rewards, stops early at
  the episode's end and returns the pixel-wise max of the last 2 frames seen (its deque of 2 runs on
  across steps); ``reset`` returns the raw reset frame.
- :class:`ImageProcess`: grey ``0.299 R + 0.587 G + 0.114 B`` in float32, OpenCV's area resize to 84 x 110,
  rows 18:102 kept, divided by 255: an (84, 84) float32 frame in [0, 1].
- :class:`FireStart`: ``reset`` resets, then takes one FIRE step (action 1) and returns its frame (its
  reward and done flag are dropped).
- :class:`FrameDiff`: the newest frame minus the one before, shape (84, 84, 1); after ``reset`` the frame
  before is zeros, so the first observation is the frame itself.

ale-py ships the ROMs and registers ``PongNoFrameskip-v4`` (frameskip 1, no sticky actions, the 6
minimal actions): the same emulator settings. Nothing here draws random numbers, and with sticky
actions off the emulator is deterministic, so an episode depends only on the actions.
:func:`snapshot` / :func:`restore` save and put back everything a mid-episode checkpoint needs (the
emulator's state and the wrappers' frame buffers) as plain arrays.
"""

from __future__ import annotations

import collections

import gymnasium as gym
import numpy as np

PONG_ID = "PongNoFrameskip-v4"
FIRE = 1
N_ACTIONS = 6
FRAME_SHAPE = (84, 84)


def _area_table(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's ``INTER_AREA`` shrink along one axis (``computeResizeAreaTab``): output cell ``d`` averages
    the source interval ``[d * scale, (d + 1) * scale)``, partial pixels weighted by their overlap. Returns
    (dst, 3) source indices and float32 weights (at most 3 pixels per cell here; unused slots weigh 0)."""
    scale = src / dst
    index, weight = np.zeros((dst, 3), np.int64), np.zeros((dst, 3), np.float32)
    for d in range(dst):
        f1 = d * scale
        f2 = f1 + scale
        cell = min(scale, src - f1)
        s2 = min(int(np.floor(f2)), src - 1)
        s1 = min(int(np.ceil(f1)), s2)
        taps = []
        if s1 - f1 > 1e-3:
            taps.append((s1 - 1, (s1 - f1) / cell))
        taps += [(s, 1.0 / cell) for s in range(s1, s2)]
        if f2 - s2 > 1e-3:
            taps.append((s2, min(min(f2 - s2, 1.0), cell) / cell))
        for k, (s, w) in enumerate(taps):
            index[d, k], weight[d, k] = s, w
    return index, weight


ROWS = _area_table(210, 110)  # Pong's 210 rows -> 110
COLS = _area_table(160, 84)  # its 160 columns -> 84


def area_resize(img: np.ndarray) -> np.ndarray:
    """(210, 160) float32 -> (110, 84), summed in OpenCV's order (across each row, then down; float32)."""
    (ci, cw), (ri, rw) = COLS, ROWS
    across = img[:, ci[:, 0]] * cw[:, 0] + img[:, ci[:, 1]] * cw[:, 1] + img[:, ci[:, 2]] * cw[:, 2]
    rw = rw[:, :, None]
    return across[ri[:, 0]] * rw[:, 0] + across[ri[:, 1]] * rw[:, 1] + across[ri[:, 2]] * rw[:, 2]


def grey84(frame: np.ndarray) -> np.ndarray:
    """One (210, 160, 3) uint8 frame -> (84, 84) float32 in [0, 1], as ``ImageProcessWrapper.process``."""
    if frame.shape != (210, 160, 3):
        raise ValueError(f"expected a (210, 160, 3) Atari frame, received shape {frame.shape}")
    img = frame.astype(np.float32)
    grey = img[:, :, 0] * 0.299 + img[:, :, 1] * 0.587 + img[:, :, 2] * 0.114
    return area_resize(grey)[18:102, :] / np.float32(255.0)


class MaxAndSkip(gym.Wrapper):
    """Repeat each action ``skip`` frames; observe the max over the last ``pool`` frames."""

    def __init__(self, env: gym.Env, skip: int = 4, pool: int = 2):
        super().__init__(env)
        self.skip = skip
        self.frames: collections.deque = collections.deque(maxlen=pool)

    def reset(self, **kwargs):
        self.frames.clear()
        obs, info = self.env.reset(**kwargs)
        self.frames.append(obs)
        return obs, info

    def step(self, action):
        total, terminated, truncated, info = 0.0, False, False, {}
        for _ in range(self.skip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            self.frames.append(obs)
            total += float(reward)
            if terminated or truncated:
                break
        return np.max(np.stack(self.frames), axis=0), total, terminated, truncated, info


class ImageProcess(gym.ObservationWrapper):
    """Grey, area-resized, cropped, scaled: see :func:`grey84`."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = gym.spaces.Box(0.0, 1.0, FRAME_SHAPE, np.float32)

    def observation(self, observation):
        return grey84(observation)


class FireStart(gym.Wrapper):
    """Press FIRE once after every reset (upstream's ``FireStartWrapper``)."""

    def __init__(self, env: gym.Env, fire: int = FIRE):
        super().__init__(env)
        self.fire = fire

    def reset(self, **kwargs):
        self.env.reset(**kwargs)
        obs, _, _, _, info = self.env.step(self.fire)
        return obs, info


class FrameDiff(gym.Wrapper):
    """The newest frame minus the previous one, (84, 84, 1) (``FrameBufferWrapper`` in ``'diff'`` mode)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (*FRAME_SHAPE, 1), np.float32)
        self.previous = np.zeros(FRAME_SHAPE, np.float32)

    def _diff(self, frame: np.ndarray) -> np.ndarray:
        out = (frame - self.previous)[:, :, None]
        self.previous = frame
        return out

    def reset(self, **kwargs):
        self.previous = np.zeros(FRAME_SHAPE, np.float32)
        obs, info = self.env.reset(**kwargs)
        return self._diff(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._diff(obs), reward, terminated, truncated, info


def make_env() -> gym.Env:
    """``PongNoFrameskip-v4`` with the published wrappers (``PONG_WRAPPERS_DIFF``)."""
    try:
        import ale_py
    except ImportError:
        from reproduce.errors import ConfigError

        raise ConfigError(
            "Pong needs ale-py (the Atari emulator and ROMs), which is not installed; "
            "install it with: pip install -e '.[pong]'"
        ) from None
    gym.register_envs(ale_py)
    return FrameDiff(FireStart(ImageProcess(MaxAndSkip(gym.make(PONG_ID)))))


def _find(env: gym.Env, kind: type):
    while not isinstance(env, kind):
        env = env.env
    return env


def snapshot(env: gym.Env) -> dict[str, np.ndarray]:
    """Everything the wrapped env carries between steps, as plain arrays (for a checkpoint)."""
    skip = _find(env, MaxAndSkip)
    state = env.unwrapped.ale.cloneState(include_rng=True).serialize()
    return {
        "env_ale": np.frombuffer(state, np.uint8).copy(),
        "env_skip_frames": np.stack(skip.frames) if skip.frames else np.zeros((0, 210, 160, 3), np.uint8),
        "env_previous": _find(env, FrameDiff).previous.copy(),
    }


def restore(env: gym.Env, arrays: dict[str, np.ndarray]) -> None:
    """Put back what :func:`snapshot` saved into a freshly made env (reset once here, as gymnasium asks)."""
    import ale_py

    env.reset()
    env.unwrapped.ale.restoreState(ale_py.ALEState(arrays["env_ale"].tobytes()))
    skip = _find(env, MaxAndSkip)
    skip.frames.clear()
    skip.frames.extend(np.asarray(arrays["env_skip_frames"], np.uint8))
    _find(env, FrameDiff).previous = np.asarray(arrays["env_previous"], np.float32).copy()
