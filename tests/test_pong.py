"""garethjns's Pong (b1e4334) on ale-py: the wrappers' rules against the raw emulator, the area resize
against its definition, a few training steps with the published targets, checkpoint and resume."""

import gymnasium as gym
import numpy as np
import pytest

from reproduce.envs import pong
from reproduce.originals.garethjns_pong import PongDQN, Settings

TINY = Settings(buffer_size=24, batch=4, eps_initial=0.6, eps_decay=0.01, max_episode_steps=70)


def raw(seed=0):
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make(pong.PONG_ID)
    env.reset(seed=seed)
    return env


def test_max_and_skip_repeats_four_frames_sums_rewards_and_pools_the_last_two():
    plain, wrapped = raw(), pong.MaxAndSkip(raw())
    for action in [2, 3, 0, 1, 4, 5] * 40:  # 960 frames: a point is scored in them
        frames, total = [], 0.0
        for _ in range(4):
            obs, reward, *_ = plain.step(action)
            frames.append(obs)
            total += reward
        obs, reward, *_ = wrapped.step(action)
        np.testing.assert_array_equal(obs, np.maximum(frames[-2], frames[-1]))
        assert reward == total
    assert len(wrapped.frames) == 2


class Scripted(gym.Env):
    """Frames 1, 2, 3, ... (a constant image each); the episode ends at frame ``end``."""

    observation_space = gym.spaces.Box(0, 255, (210, 160, 3), np.uint8)
    action_space = gym.spaces.Discrete(6)

    def __init__(self, end):
        self.end, self.t = end, 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros((210, 160, 3), np.uint8), {}

    def step(self, action):
        self.t += 1
        return np.full((210, 160, 3), self.t, np.uint8), 1.0, self.t == self.end, False, {}


def test_max_and_skip_stops_at_the_end_and_pools_across_steps():
    env = pong.MaxAndSkip(Scripted(end=6))
    env.reset()
    obs, reward, terminated, *_ = env.step(0)  # frames 1-4
    assert (obs == 4).all() and reward == 4.0 and not terminated
    obs, reward, terminated, *_ = env.step(0)  # frames 5, 6: the end
    assert (obs == 6).all() and reward == 2.0 and terminated


def area_by_definition(img, out_rows, out_cols):
    """Each output cell: the mean of the piecewise-constant image over its rectangle (float64)."""
    def overlaps(src, dst):
        scale, w = src / dst, np.zeros((dst, src))
        for d in range(dst):
            for s in range(src):
                w[d, s] = max(0.0, min(s + 1, (d + 1) * scale) - max(s, d * scale)) / scale
        return w

    return overlaps(img.shape[0], out_rows) @ img.astype(np.float64) @ overlaps(img.shape[1], out_cols).T


def test_grey84_is_the_published_grey_area_resize_and_crop():
    frame = raw().step(1)[0]
    noise = np.random.default_rng(0).integers(0, 256, (210, 160, 3), dtype=np.uint8)
    for f in (frame, noise):
        out = pong.grey84(f)
        assert out.shape == (84, 84) and out.dtype == np.float32
        grey = f[:, :, 0] * 0.299 + f[:, :, 1] * 0.587 + f[:, :, 2] * 0.114
        expected = area_by_definition(grey, 110, 84)[18:102] / 255.0
        np.testing.assert_allclose(out, expected, rtol=0, atol=2e-6)
    assert 0.0 <= out.min() and out.max() <= 1.0
    with pytest.raises(ValueError, match="expected a .210, 160, 3. Atari frame"):
        pong.grey84(frame[:200])


def test_grey84_equals_opencv_when_installed():
    cv2 = pytest.importorskip("cv2", reason="OpenCV is not a dependency; this runs where it is installed")
    rng = np.random.default_rng(1)
    for _ in range(5):
        img = rng.integers(0, 256, (210, 160, 3), dtype=np.uint8).astype(np.float32)
        grey = img[:, :, 0] * 0.299 + img[:, :, 1] * 0.587 + img[:, :, 2] * 0.114
        opencv = cv2.resize(grey, (84, 110), interpolation=cv2.INTER_AREA)
        np.testing.assert_array_equal(pong.area_resize(grey), opencv)


def test_fire_start_and_frame_difference():
    inner = pong.ImageProcess(pong.MaxAndSkip(raw()))
    inner.reset(seed=0)
    fired = inner.step(pong.FIRE)[0]
    env = pong.make_env()
    obs, _ = env.reset(seed=0)
    assert obs.shape == (84, 84, 1) and obs.dtype == np.float32
    np.testing.assert_array_equal(obs[:, :, 0], fired)  # FIRE once; the frame before is zeros
    previous = fired
    for action in [2, 2, 3, 0, 5]:
        frame = inner.step(action)[0]
        obs = env.step(action)[0]
        np.testing.assert_array_equal(obs[:, :, 0], frame - previous)
        previous = frame
    assert env.observation_space.contains(obs)


def test_the_wrapped_env_is_deterministic():
    a, b = pong.make_env(), pong.make_env()
    a.reset(seed=3), b.reset(seed=3)
    actions = np.random.default_rng(3).integers(6, size=150)
    for action in actions:
        oa, ra, *_ = a.step(int(action))
        ob, rb, *_ = b.step(int(action))
        assert ra == rb and np.array_equal(oa, ob)


def record(agent) -> list:
    """Record each ``train_on_batch`` call (x, y, the target model's Q(x) then); the real call still runs."""
    seen, train = [], agent.model.train_on_batch

    def spy(x, y):
        seen.append((x.copy(), y.copy(), agent.target.predict_on_batch(x)))
        return train(x, y)

    agent.model.train_on_batch = spy
    return seen


def test_training_steps_use_the_published_targets():
    agent = PongDQN(0, TINY)
    seen = record(agent)
    before = [w.copy() for w in agent.model.get_weights()]
    for _ in range(TINY.buffer_size + 4):
        agent.step()
    assert agent.log.train_steps == 5 == len(seen)  # from the step that fills the buffer on
    assert any(not np.array_equal(a, b) for a, b in zip(before, agent.model.get_weights()))
    x, y, q_target = seen[-1]
    assert x.shape == (4, 84, 84, 1)
    differs = (np.abs(y - q_target) > 1e-5).sum(axis=1)
    assert (differs <= 1).all()  # untaken actions keep the target model's Q(s) (the quirk)
    assert 0.01 < agent.eps < 0.6


def test_targets_are_undiscounted_as_published_and_discounted_without_quirks():
    for quirks, factor in ((True, 1.0), (False, TINY.gamma)):
        agent = PongDQN(1, TINY, quirks=quirks)
        for _ in range(TINY.buffer_size - 1):
            agent.step()
        rng = np.random.RandomState()
        rng.set_state(agent.replay_rng.get_state())
        picks = rng.randint(0, TINY.buffer_size - 1, TINY.batch)
        slots = (agent.stored + 1 - TINY.buffer_size + picks) % TINY.buffer_size
        seen = record(agent)
        agent.step()  # fills the buffer: the first training step
        n = TINY.buffer_size
        q_next = agent.target.predict_on_batch(agent.states[(slots + 1) % n])
        y = seen[0][1]
        taken = y[np.arange(TINY.batch), agent.actions[slots]]
        expected = agent.rewards[slots] + np.where(agent.dones[slots], 0.0, factor * q_next.max(axis=1))
        np.testing.assert_allclose(taken, expected, rtol=1e-5, atol=1e-6)


def test_checkpoint_and_resume_continue_exactly(tmp_path):
    """Checkpoints mid-episode (step 18) and at an episode's end (the 24-step cap); each resumed agent
    continues with the same actions and rewards and ends with the same weights, Adam, replay, generators
    and emulator as the uninterrupted one."""
    from callbacks.store import load_arrays_state, save_arrays_state

    settings = Settings(buffer_size=12, batch=4, eps_initial=0.6, eps_decay=0.02, max_episode_steps=24)
    a = PongDQN(2, settings)
    steps = []
    for _ in range(32):
        steps.append(a.step()[:2])
        if a.steps in (18, 24):
            assert (a.obs is None) == (a.steps == 24)
            save_arrays_state(tmp_path / str(a.steps), a.steps, *reversed(a.state()))
    end_a = a.state()[1]
    assert a.episode == 1 and a.log.train_steps == 21
    for at in (18, 24):
        b = PongDQN.restore(*load_arrays_state(tmp_path / str(at)))
        assert [b.step()[:2] for _ in range(32 - at)] == steps[at:]
        end_b = b.state()[1]
        assert sorted(end_a) == sorted(end_b)
        for key in end_a:
            np.testing.assert_array_equal(end_a[key], end_b[key], err_msg=f"{key} after resuming at {at}")
        assert b.log.train_steps == a.log.train_steps and b.episode == a.episode
