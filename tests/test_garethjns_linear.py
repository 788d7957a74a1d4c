"""garethjns/reinforcement-learning-keras's linear Q agents (CartPole 19c5fc2, MountainCar 7264d6b) and its
MountainCar DQN (3888e91): the fast paths against the reference loops (scikit-learn, tf-keras), the
features against the fitted pipeline, MountainCar's physics and resets, the quirk switches."""

import gymnasium as gym
import numpy as np
import pytest

from reproduce.originals import garethjns_linear as lin
from reproduce.originals import garethjns_mountaincar as mc


def assert_same_linear(fast, ref):
    np.testing.assert_array_equal(fast.returns, ref.returns)
    np.testing.assert_array_equal(fast.actions, ref.actions)
    np.testing.assert_allclose(fast.coef, ref.coef, atol=1e-12)
    np.testing.assert_allclose(fast.intercept, ref.intercept, atol=1e-12)


def test_linear_cartpole_fast_path_equals_the_scikit_learn_loop():
    ref = lin.train_reference(1, 6, "cartpole")
    assert_same_linear(lin.FastLinearQ(1, "cartpole").train(6), ref)
    assert ref.returns.sum() == 75 and np.abs(ref.coef).max() > 0.1  # pinned: seed 1's first 6 episodes


@pytest.mark.parametrize("quirks", [True, False])
def test_linear_mountaincar_fast_path_equals_the_scikit_learn_loop(quirks):
    # a 60-step cap so episodes end on it: with quirks its last step is a done (-200), without it bootstraps
    ref = lin.train_reference(2, 3, "mountaincar", quirks=quirks, max_steps=60)
    assert_same_linear(lin.FastLinearQ(2, "mountaincar", quirks=quirks, max_steps=60).train(3), ref)
    np.testing.assert_array_equal(ref.returns, [-60, -60, -60])


def test_features_equal_the_fitted_pipeline():
    pp = lin.build_pipeline(lin.CARTPOLE, 4)
    mean, scale, weights, offset = lin.fit_features(lin.CARTPOLE, 4)
    np.testing.assert_array_equal(mean, pp.named_steps["ss"].mean_)
    np.testing.assert_allclose(scale, pp.named_steps["ss"].scale_, rtol=1e-15)
    states = np.array([[0.1, -0.5, 0.02, 2.0], [-3.0, 0.3, -0.2, -0.01]])
    expected = pp.transform(states.copy())
    out = np.empty(180)
    for s, e in zip(states, expected):
        lin._features(s, mean, scale, weights, offset, out)
        np.testing.assert_allclose(out, e, atol=1e-14)
    clipped = states.copy()
    pp.transform(clipped)
    assert clipped[0, 3] == 1.0 and clipped[1, 0] == -1.0  # the published Clipper clips its input in place


def test_gym_017_bounds_make_the_velocity_samples_binary():
    old = lin.fit_features(lin.CARTPOLE, 0, old_bounds=True)
    new = lin.fit_features(lin.CARTPOLE, 0, old_bounds=False)
    # velocities uniform on +-3.4e38 clip to exactly +-1 (std 1); gymnasium's inf bounds draw N(0, 1)
    np.testing.assert_allclose(old[1][[1, 3]], 1.0, atol=1e-4)
    assert 0.6 < new[1][1] < 0.8 and 0.6 < new[1][3] < 0.8
    np.testing.assert_allclose(old[1][[0, 2]], new[1][[0, 2]], rtol=0.05)  # the bounded dims alike
    assert lin.done_rule(lin.CARTPOLE, True) == (False, -200.0)
    assert lin.done_rule(lin.MOUNTAINCAR, True) == (True, -200.0)
    assert lin.done_rule(lin.MOUNTAINCAR, False) == (False, 500.0)


def test_mountaincar_step_and_resets_are_gymnasiums():
    env = mc.make_env()
    starts = []
    for i in range(5):
        env.reset(seed=7 if i == 0 else None)
        starts.append(mc.observe(env))
    np.testing.assert_array_equal(mc.reset_stream(7).ahead(5)[:5], starts)
    env.reset(seed=0)
    state = mc.observe(env)
    rng = np.random.default_rng(0)
    goals = 0
    for step in range(3000):
        action = 2 if (step // 40) % 2 else 0  # rock back and forth: reaches the flag, hits the left wall
        if rng.random() < 0.2:
            action = int(rng.integers(3))
        _, _, terminated, _, _ = env.step(action)
        done = mc.mountaincar_step(state, action)
        np.testing.assert_array_equal(state, mc.observe(env))
        assert done == terminated
        if done:
            goals += 1
            env.reset()
            state = mc.observe(env)
    assert goals > 0
    space = gym.spaces.Discrete(3)
    space.seed(5)
    samples = [space.sample() for _ in range(30)]
    np.testing.assert_array_equal(np.random.default_rng(5).integers(3, size=30), samples)


@pytest.mark.parametrize("quirks, episodes", [(True, 12), (False, 4)])
def test_mountaincar_dqn_fast_path_equals_the_published_loop(quirks, episodes):
    # with quirks, 12 episodes: the checkpoint's Adam restarts after episodes 1 and 11 are inside
    kw = dict(buffer_size=40, batch=16, max_steps=50)
    ref = mc.train_reference(1, episodes, quirks=quirks, **kw)
    fast = mc.FastMountainCarDQN(1, quirks=quirks, **kw).train(episodes)
    np.testing.assert_array_equal(fast.returns, ref.returns)
    np.testing.assert_array_equal(fast.actions, ref.actions)
    for a, b in zip(fast.weights, ref.weights):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_mountaincar_dqn_adam_restart_changes_the_run():
    kw = dict(buffer_size=40, batch=16, max_steps=60)
    agent = mc.FastMountainCarDQN(1, **kw)
    agent.train(10)
    # 600 steps, trained from the 40th (561 Adam steps); restarted after episode 1 (its last 21)
    assert agent.t == 561 - 21
    agent.train(1)
    assert agent.t == 0  # restarted after episode 11
    assert mc.FastMountainCarDQN(1, quirks=False, **kw).lr == 0.0025 and agent.lr == 0.001


def test_mountaincar_experiment_writes_its_run(tmp_path):
    from callbacks.monitor import load_rewards
    from reproduce.experiments import mountaincar_gj_linear as exp
    from reproduce.originals.garethjns_report import MOUNTAINCAR_RANGE, curve_verdicts
    from reproduce.runs import read_json

    out = exp.run(exp.Config(episodes=2, eval_episodes=2, seed=0), tmp_path / "run")
    assert "eval_mean" in out
    log = load_rewards(tmp_path / "run" / "episodes.csv")
    np.testing.assert_array_equal(log["l"], -log["r"])
    summary = read_json(tmp_path / "run" / "summary.json")
    assert summary["env_steps"] == int(log["l"].sum()) and summary["reward_threshold"] == -110

    from types import SimpleNamespace

    import pandas as pd

    runs = [SimpleNamespace(experiment=exp.NAME, config={"quirks": True},
                            files={"episodes.csv": pd.DataFrame({"r": np.full(500, -283.0 + k)})})
            for k in range(3)]
    rows = curve_verdicts(runs, exp.NAME, "linear", exp.PUBLISHED, exp.WINDOW, MOUNTAINCAR_RANGE)
    assert len(rows) == len(exp.PUBLISHED)
    assert rows[0]["verdict"].startswith("outside") and rows[4]["verdict"].startswith("inside")
