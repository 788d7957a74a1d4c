import gymnasium as gym
import numpy as np
import pytest

from reproduce.adapters import KerasRLEnv, OneHotProcessor


def test_reset_returns_observation_and_step_returns_4_tuple():
    env = KerasRLEnv(gym.make("NChain-v0"), seed=0)
    assert env.reset() == 0
    obs, reward, done, info = env.step(0)
    assert obs in (0, 1) and reward in (0.0, 2.0) and done is False
    assert info["terminated"] is False and info["truncated"] is False


def test_truncation_is_done_and_kept_in_info():
    env = KerasRLEnv(gym.make("NChain-v0"), seed=0)
    env.reset()
    for _ in range(999):
        assert env.step(0)[2] is False
    _, _, done, info = env.step(0)
    assert done is True
    assert info == {**info, "terminated": False, "truncated": True}


def test_termination_is_kept_in_info():
    env = KerasRLEnv(gym.make("CartPole-v1"), seed=0)
    env.reset()
    done, info = False, {}
    while not done:
        _, _, done, info = env.step(0)
    assert info["terminated"] is True and info["truncated"] is False


def _trajectory(seed):
    env = KerasRLEnv(gym.make("CartPole-v1"), seed=seed)
    observations = [env.reset()]
    for _ in range(20):
        observations.append(env.step(env.action_space.sample())[0])
    return np.array(observations)


def test_seeding_is_reproducible():
    np.testing.assert_array_equal(_trajectory(3), _trajectory(3))
    assert not np.array_equal(_trajectory(3), _trajectory(4))


def test_render_and_close_pass_through():
    inner = gym.make("NChain-v0", render_mode="ansi")
    closed = []
    inner.unwrapped.close = lambda: closed.append(True)  # record the call that reaches the real env
    env = KerasRLEnv(inner, seed=0)
    env.reset()
    assert env.render(mode="human") == "[A][ ][ ][ ][ ]"
    env.close()
    assert closed == [True]
    assert env.observation_space == gym.spaces.Discrete(5)


def test_one_hot_processor():
    proc = OneHotProcessor(5)
    np.testing.assert_array_equal(proc.process_observation(3), [0, 0, 0, 1, 0])
    assert proc.process_observation(np.int64(0)).dtype == np.float32
    with pytest.raises(ValueError, match="outside Discrete"):
        proc.process_observation(5)
    with pytest.raises(ValueError, match="positive number of states"):
        OneHotProcessor(0)
