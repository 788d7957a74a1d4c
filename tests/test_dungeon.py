"""Valohai's dungeon: Dungeon-v0, its exact solution, the published agents and their compiled twins."""

import random

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from reproduce.envs import DUNGEON_ID, solve_dungeon
from reproduce.envs.dungeon import average_reward, expected_rewards, printed_windows
from reproduce.originals import dungeon


def test_dungeon_env_is_nchain_with_the_tutorials_constants_and_no_end():
    env = gym.make(DUNGEON_ID)
    check_env(env.unwrapped)
    assert env.spec.max_episode_steps is None
    u = env.unwrapped
    assert (u.n, u.slip, u.small, u.large) == (5, 0.1, 2, 10)
    env.reset(seed=0)
    for _ in range(3000):  # one endless stream
        _, _, terminated, truncated, _ = env.step(0)
        assert not terminated and not truncated


def test_dungeon_solution_is_pinned():
    s = solve_dungeon(0.95)
    np.testing.assert_allclose(
        s.q,
        [
            [100.19156, 97.51638],
            [105.81680, 98.14141],
            [112.39602, 98.87243],
            [120.09102, 99.72743],
            [129.09102, 100.72743],
        ],
        atol=1e-4,
    )
    assert s.policy_string == "FFFFF"
    assert s.average_reward == pytest.approx(6.1049, abs=1e-9)  # 0.9 * 10 * P(last tile) + ...
    assert s.best_average_reward == pytest.approx(s.average_reward)
    assert s.random_average_reward == pytest.approx(1.3125, abs=1e-9)
    s98 = solve_dungeon(0.98)
    assert s98.policy_string == "FFFFF"
    assert s98.q[0, 0] == pytest.approx(282.3246, abs=1e-3)
    assert average_reward([1] * 5) == pytest.approx(2 * 0.9 + 0.1 * 0.0, abs=0.2)  # always BACKWARD: ~1.8


def test_gain_is_the_long_run_mean_of_the_expected_rewards():
    s = solve_dungeon()
    tail = expected_rewards(s.policy, 3000)[1000:]
    assert tail.mean() == pytest.approx(s.average_reward, abs=1e-9)


def test_printed_windows_are_train_pys_prints():
    rewards = np.arange(1000, dtype=float)
    steps, perf = printed_windows(rewards, 250)
    assert steps.tolist() == [0, 250, 500, 750]
    total, last, expected = 0.0, 0.0, []
    for step, r in enumerate(rewards):  # train.py's loop, verbatim
        total += r
        if step % 250 == 0:
            expected.append((total - last) / 250.0)
            last = total
    np.testing.assert_allclose(perf, expected)


def test_bulk_draws_are_the_reference_streams():
    u = dungeon.agent_draws(11, 100, 3)
    rng = random.Random(11)
    assert u.tolist() == [rng.random() for _ in range(300)]
    env = gym.make(DUNGEON_ID)
    env.reset(seed=11)
    rng = env.unwrapped.np_random
    assert dungeon.slip_draws(11, 50).tolist() == [rng.random() for _ in range(50)]


@pytest.mark.parametrize("variant", dungeon.VARIANTS)
@pytest.mark.parametrize("agent", dungeon.TABLE_AGENTS)
def test_fast_tables_equal_the_published_agents_exactly(agent, variant):
    ref = dungeon.run_reference(agent, 3000, 5, variant)
    fast = dungeon.run_fast(agent, 3000, 5, variant)
    np.testing.assert_array_equal(fast.actions, ref.actions)
    np.testing.assert_array_equal(fast.rewards, ref.rewards)
    np.testing.assert_array_equal(fast.states, ref.states)
    if agent != "drunkard":
        np.testing.assert_array_equal(fast.q, ref.q)


def test_gambler_update_by_hand():
    """One greedy step of the published Gambler, computed by hand."""
    g = dungeon.Gambler(random.Random(0), learning_rate=0.1, discount=0.95, iterations=10)
    g.q_table = [[1.0, 3.0, 0, 0, 0], [2.0, 1.0, 0, 0, 0]]
    g.update(0, 1, dungeon.FORWARD, 0.0)  # future: Q[F][1] = 3 is greedy
    assert g.q_table[0][0] == pytest.approx(1.0 + 0.1 * (0.95 * 3.0 - 1.0))
    assert g.exploration_rate == pytest.approx(0.9)


@pytest.mark.parametrize("zero_kernels", [True, False])
def test_fast_deepgambler_matches_tf_keras(zero_kernels):
    ref = dungeon.run_reference("deepgambler", 150, 3, "2019", zero_kernels)
    fast = dungeon.run_fast("deepgambler", 150, 3, "2019", zero_kernels)
    np.testing.assert_array_equal(fast.actions, ref.actions)
    np.testing.assert_array_equal(fast.rewards, ref.rewards)
    for a, b in zip(ref.weights, fast.weights):
        np.testing.assert_allclose(b, a, atol=1e-5)
    np.testing.assert_allclose(fast.q, ref.q, rtol=1e-5)  # Q ~ 30: float32 rounding


def test_fast_deepgambler_2020_matches_tf_keras_and_diverges():
    ref = dungeon.run_reference("deepgambler", 20, 3, "2020")
    fast = dungeon.run_fast("deepgambler", 20, 3, "2020")
    np.testing.assert_array_equal(fast.actions, ref.actions)
    for a, b in zip(ref.weights, fast.weights):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)
    longer = dungeon.run_fast("deepgambler", 300, 3, "2020")
    blown_up = ~np.isfinite(longer.q) | (np.abs(longer.q) > 1e6)
    assert blown_up.all()  # lr 0.5 on the scalar input: the network blows up (to NaN) within 300 steps


def test_zero_kernel_quirk_keeps_the_first_layers_units_identical():
    fast = dungeon.run_fast("deepgambler", 2000, 1)
    w1, _, w2, _, _, _ = fast.weights
    assert np.ptp(w1, axis=1).max() == 0  # every unit of layer 1 has the same incoming weights
    assert np.ptp(w2, axis=0).max() == 0  # and the same outgoing weights
    free = dungeon.run_fast("deepgambler", 2000, 1, zero_kernels=False)
    assert np.ptp(free.weights[0], axis=1).max() > 0


def test_model_is_the_published_architecture():
    model = dungeon.build_model("2019")
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(5, 16), (16,), (16, 16), (16,), (16, 2), (2,)]
    assert [layer.activation.__name__ for layer in model.layers] == ["sigmoid", "sigmoid", "linear"]
    assert model.loss == "mse"
    assert type(model.optimizer).__name__ == "SGD"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.1)
    assert model.optimizer.get_config()["momentum"] == 0
    shapes_2020 = [w.shape for w in dungeon.build_model("2020").get_weights()]
    assert shapes_2020 == [(1, 8), (8,), (8, 8), (8,), (8, 2), (2,)]


def test_cli_runs_both_experiments(cli, tmp_path):
    import json

    for name, args in (
        ("dungeon-qlearning", ("--repeats", "3")),
        ("dungeon-deepgambler", ("--repeats", "2", "--iterations", "300")),
    ):
        out = tmp_path / name
        result = cli("run", name, "--out", out, *args)
        assert result.returncode == 0, result.stderr[-2000:]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["optimal_return"] == pytest.approx(6.1049)
        assert (out / "performance.csv").exists() and (out / "repeats.csv").exists()


def test_the_fast_paths_never_import_tensorflow(tmp_path):
    import subprocess
    import sys

    code = ("import sys, reproduce.cli as c\n"
            f"out = {str(tmp_path)!r}\n"
            "for argv in (['dungeon-qlearning', '--repeats', '2'], "
            "['dungeon-deepgambler', '--repeats', '1', '--iterations', '300'], "
            "['blob-qtable', '--episodes', '500', '--repeats', '1'], "
            "['blob-dqn', '--episodes', '2', '--eval-episodes', '2']):\n"
            "    assert c.main(['run', *argv, '--out', out + '/' + argv[0]]) == 0\n"
            "print(sorted(m for m in ('tensorflow', 'rl', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
