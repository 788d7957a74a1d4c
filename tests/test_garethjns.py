"""garethjns/reinforcement-learning-keras (19c5fc2): the fast paths against the tf-keras reference loops
(same actions and returns, weights to 1e-5), the replayed streams, the physics, checkpoint and resume."""

import shutil

import gymnasium as gym
import numpy as np
import pytest

from reproduce.originals import garethjns as gj
from reproduce.originals import garethjns_dqn as dqn
from reproduce.originals import garethjns_reinforce as rf


def assert_same(fast, ref):
    np.testing.assert_array_equal(fast.returns, ref.returns)
    np.testing.assert_array_equal(fast.actions, ref.actions)
    assert [w.shape for w in fast.weights] == [w.shape for w in ref.weights]
    for a, b in zip(fast.weights, ref.weights):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_reinforce_fast_path_equals_the_published_loop():
    ref = rf.train_reference(3, 8)
    assert_same(rf.FastReinforce(3).train(8), ref)
    assert ref.returns.sum() == 226  # pinned: seed 3's first 8 episodes


def test_reinforce_without_quirks_is_plain_reinforce():
    probs = np.array([[0.3, 0.7], [0.6, 0.4]], dtype=np.float32)
    g = np.array([1.0, -1.0])
    quirk, plain = rf.targets([1, 0], probs, g, True), rf.targets([1, 0], probs, g, False)
    np.testing.assert_allclose(quirk, probs + 0.001 * (np.eye(2)[[1, 0]] - probs) * g[:, None], rtol=1e-6)
    np.testing.assert_allclose(plain, [[0, 1], [-1, 0]])
    ref = rf.train_reference(4, 3, quirks=False)
    assert_same(rf.FastReinforce(4, quirks=False).train(3), ref)


@pytest.mark.parametrize("dueling", [False, True])
def test_dqn_fast_path_equals_the_published_loop(dueling):
    kw = dict(buffer_size=50, batch=20)  # the components' own arguments, shrunk so training starts soon
    ref = dqn.train_reference(1, 10, dueling=dueling, **kw)
    assert_same(dqn.FastDQN(1, dueling=dueling, **kw).train(10), ref)
    assert len(ref.actions) > 80  # ~30+ training steps compared


def test_dqn_quirk_switch_changes_the_targets_and_still_matches():
    kw = dict(buffer_size=40, batch=16)
    ref = dqn.train_reference(2, 8, quirks=False, **kw)
    assert_same(dqn.FastDQN(2, quirks=False, **kw).train(8), ref)


def test_streams_drawn_in_bulk_equal_single_draws():
    single = np.random.RandomState(5)
    bulk = gj.Stream(
        np.random.RandomState(5), lambda n: np.random.RandomState(5).randint(0, 199, (n, 75)), 3
    )
    np.testing.assert_array_equal(bulk.ahead(3)[:3], [single.randint(0, 199, 75) for _ in range(3)])
    gen = np.random.default_rng(7)
    space = gym.spaces.Discrete(2)
    space.seed(7)
    np.testing.assert_array_equal(gen.integers(2, size=40), [space.sample() for _ in range(40)])
    env = gj.make_env()
    starts = [env.reset(seed=9 if i == 0 else None)[0] for i in range(5)]
    resets = gj.reset_stream(9).ahead(5)[:5]
    np.testing.assert_array_equal(np.float32(resets), starts)


def test_cartpole_step_is_gymnasiums():
    env = gj.make_env()
    obs, _ = env.reset(seed=0)
    state = env.unwrapped.state.copy()
    rng = np.random.default_rng(0)
    for _ in range(300):
        action = int(rng.integers(2))
        obs, _, terminated, _, _ = env.step(action)
        done = gj.cartpole_step(state, action)
        np.testing.assert_array_equal(np.float32(state), obs)
        assert done == terminated
        if done:
            obs, _ = env.reset()
            state = env.unwrapped.state.copy()


def test_reinforce_checkpoint_and_resume_continue_exactly(tmp_path):
    from callbacks.monitor import load_rewards
    from reproduce.experiments import cartpole_reinforce as exp
    from reproduce.runs import read_json

    config = exp.Config(episodes=60, checkpoint_every=25, eval_episodes=3, seed=2)
    full = tmp_path / "full"
    exp.run(config, full)
    assert sorted(p.name for p in (full / "checkpoints").iterdir()) == [
        "ckpt_000000025_steps",
        "ckpt_000000050_steps",
    ]
    cut = tmp_path / "cut"
    shutil.copytree(full, cut)
    shutil.rmtree(cut / "checkpoints" / "ckpt_000000050_steps")  # resume from episode 25
    exp.resume(cut)
    a, b = load_rewards(full / "episodes.csv"), load_rewards(cut / "episodes.csv")
    assert len(a) == len(b) == 60
    np.testing.assert_array_equal(a["r"], b["r"])
    assert read_json(full / "summary.json")["eval_mean"] == read_json(cut / "summary.json")["eval_mean"]


def test_published_points_become_verdict_rows():
    from types import SimpleNamespace

    import pandas as pd

    from reproduce.experiments import cartpole_gj_dqn as exp
    from reproduce.originals.garethjns_report import curve_verdicts

    runs = [
        SimpleNamespace(
            experiment=exp.NAME,
            config={"quirks": True},
            files={"episodes.csv": pd.DataFrame({"r": np.full(500, 498.0 + k)})},
        )
        for k in range(5)
    ]
    rows = curve_verdicts(runs, exp.NAME, "DQN", exp.PUBLISHED, exp.WINDOW)
    assert len(rows) == len(exp.PUBLISHED)
    assert rows[-1]["verdict"] == "inside" and rows[0]["verdict"].startswith("outside")
