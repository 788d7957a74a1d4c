import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy import stats

from reproduce.envs import BACKWARD, FORWARD, NChainEnv


def rollout(env, actions, seed=None):
    obs, _ = env.reset(seed=seed)
    out = []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out.append((obs, r, term, trunc, info["slipped"]))
    return out


def test_no_slip_is_deterministic():
    env = NChainEnv(slip=0.0)
    forward = rollout(env, [FORWARD] * 6, seed=0)
    assert [(s, r) for s, r, *_ in forward] == [(1, 0), (2, 0), (3, 0), (4, 0), (4, 10), (4, 10)]
    mixed = rollout(env, [FORWARD, FORWARD, BACKWARD, FORWARD, BACKWARD, BACKWARD], seed=1)
    assert [(s, r) for s, r, *_ in mixed] == [(1, 0), (2, 0), (0, 2), (1, 0), (0, 2), (0, 2)]


def test_full_slip_reverses_every_action():
    env = NChainEnv(slip=1.0)
    steps = rollout(env, [BACKWARD] * 5 + [FORWARD], seed=0)
    assert [(s, r) for s, r, *_ in steps] == [(1, 0), (2, 0), (3, 0), (4, 0), (4, 10), (0, 2)]
    assert all(slipped for *_, slipped in steps)


def test_slip_rate_is_binomial_around_0_2():
    env = NChainEnv()
    env.reset(seed=123)
    n = 20_000
    slips = sum(env.step(FORWARD)[4]["slipped"] for _ in range(n))
    low, high = stats.binom.interval(0.999, n, 0.2)
    assert low <= slips <= high


@pytest.mark.parametrize(
    "state, action, slipped, expected",
    [
        (0, FORWARD, False, (1, 0.0)),
        (0, FORWARD, True, (0, 2.0)),
        (2, BACKWARD, False, (0, 2.0)),
        (2, BACKWARD, True, (3, 0.0)),
        (4, FORWARD, False, (4, 10.0)),
        (4, FORWARD, True, (0, 2.0)),
        (4, BACKWARD, False, (0, 2.0)),
        (4, BACKWARD, True, (4, 10.0)),
    ],
)
def test_reward_and_transition_for_each_case(state, action, slipped, expected):
    env = NChainEnv(slip=1.0 if slipped else 0.0)
    env.reset(seed=0)
    env.state = state
    obs, reward, *_ = env.step(action)
    assert (obs, reward) == expected


def test_registered_env_truncates_at_1000_steps():
    env = gym.make("NChain-v0")
    env.reset(seed=0)
    for t in range(1, 1001):
        _, _, terminated, truncated, _ = env.step(FORWARD)
        assert not terminated
        assert truncated == (t == 1000)


def test_same_seed_same_rollout_different_seed_different():
    actions = np.random.default_rng(0).integers(0, 2, size=300).tolist()
    a = rollout(gym.make("NChain-v0"), actions, seed=7)
    b = rollout(gym.make("NChain-v0"), actions, seed=7)
    c = rollout(gym.make("NChain-v0"), actions, seed=8)
    assert a == b
    assert a != c


def test_check_env_is_clean():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(NChainEnv(), skip_render_check=True)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 1}, "n must be an integer >= 2"),
        ({"n": 2.5}, "n must be an integer >= 2"),
        ({"slip": -0.1}, r"slip must be a probability in \[0, 1\]"),
        ({"slip": 1.5}, r"slip must be a probability in \[0, 1\]"),
        ({"small": float("nan")}, "small must be a finite number"),
        ({"large": float("inf")}, "large must be a finite number"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NChainEnv(**kwargs)


def test_bad_action_raises():
    env = NChainEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="must be 0 .forward. or 1 .backward."):
        env.step(2)
