"""sentdex's Blob world: Blob-v0's rules case by case, its exact solver, and the part-4 Q-table."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from reproduce.envs import BLOB_ID, PART4, PART6
from reproduce.envs.blob import ENEMY_COLOUR, FOOD_COLOUR, PLAYER_COLOUR, BlobEnv
from reproduce.envs.blob_solver import blob_values, greedy_policy, start_weights
from reproduce.originals import blob_qtable as bq


def placed(player, food, enemy, **kwargs) -> BlobEnv:
    env = BlobEnv(**kwargs)
    env.reset(seed=0)
    env.player, env.food, env.enemy = player, food, enemy
    return env


@pytest.mark.parametrize("kwargs", [PART4, PART6, {"observation": "vector", "actions": 9}])
def test_check_env_is_clean(kwargs):
    env = gym.make(BLOB_ID, **kwargs)
    check_env(env.unwrapped)


@pytest.mark.parametrize("action, expected", [(0, (5, 5)), (1, (3, 3)), (2, (3, 5)), (3, (5, 3))])
def test_the_four_diagonal_moves(action, expected):
    env = placed((4, 4), (0, 9), (9, 0))
    obs, reward, terminated, truncated, info = env.step(action)
    assert info["player"] == expected
    assert reward == -1 and not terminated and not truncated
    np.testing.assert_array_equal(obs, [expected[0] - 0, expected[1] - 9, expected[0] - 9, expected[1] - 0])


@pytest.mark.parametrize(
    "start, action, expected",
    [
        ((0, 0), 1, (0, 0)),  # both axes clipped: the corner keeps the player
        ((0, 5), 1, (0, 4)),  # x clipped, y moves
        ((9, 5), 0, (9, 6)),
        ((5, 9), 0, (6, 9)),
        ((9, 9), 0, (9, 9)),
        ((0, 9), 2, (0, 9)),
    ],
)
def test_walls_clip_each_axis(start, action, expected):
    env = placed(start, (5, 0), (3, 0))
    _, _, _, _, info = env.step(action)
    assert info["player"] == expected


def test_food_pays_25_and_ends():
    env = placed((4, 4), (5, 5), (0, 0))
    _, reward, terminated, truncated, _ = env.step(0)
    assert (reward, terminated, truncated) == (25, True, False)


def test_enemy_costs_300_and_ends():
    env = placed((4, 4), (0, 0), (3, 3))
    _, reward, terminated, _, _ = env.step(1)
    assert (reward, terminated) == (-300, True)


def test_enemy_is_checked_before_food():
    env = placed((4, 4), (5, 5), (5, 5))
    _, reward, terminated, _, _ = env.step(0)
    assert (reward, terminated) == (-300, True)


def test_standing_still_in_a_corner_on_the_food_pays():
    env = placed((0, 0), (0, 0), (9, 9))  # part 4's starts may overlap
    _, reward, terminated, _, _ = env.step(1)
    assert (reward, terminated) == (25, True)


def test_truncated_after_200_steps_not_terminated():
    env = placed((0, 0), (9, 8), (8, 9))  # (0, 0) <-> (1, 1): never meets either
    for step in range(1, 201):
        _, reward, terminated, truncated, _ = env.step(0 if step % 2 else 1)
        assert reward == -1 and not terminated
        assert truncated == (step == 200)


def test_part6_zero_moves_are_random_on_that_axis():
    env = placed((5, 5), (0, 0), (9, 9), actions=9)
    seen = set()
    for _ in range(200):
        env.player = (5, 5)
        _, _, _, _, info = env.step(4)  # move(x=1, y=0): y is random
        assert info["player"][0] == 6
        seen.add(info["player"][1])
    assert seen == {4, 5, 6}
    env = placed((5, 5), (0, 0), (9, 9), actions=9, random_zero_moves=False)
    _, _, _, _, info = env.step(8)
    assert info["player"] == (5, 5)


def test_random_axis_draws_come_from_np_random_x_then_y():
    env = placed((5, 5), (0, 0), (9, 9), actions=9)
    rng = np.random.Generator(type(env.np_random.bit_generator)())
    rng.bit_generator.state = env.np_random.bit_generator.state
    _, _, _, _, info = env.step(8)
    dx, dy = rng.integers(-1, 2), rng.integers(-1, 2)
    assert info["player"] == (5 + dx, 5 + dy)


def test_part6_starts_are_distinct_and_part4_starts_may_overlap():
    env = gym.make(BLOB_ID, **PART6)
    env.reset(seed=1)
    for _ in range(500):
        _, info = env.reset()
        assert len({info["player"], info["food"], info["enemy"]}) == 3
    env = gym.make(BLOB_ID, **PART4)
    env.reset(seed=1)
    overlaps = 0
    for _ in range(3000):
        _, info = env.reset()
        overlaps += len({info["player"], info["food"], info["enemy"]}) < 3
    assert overlaps > 0  # about 3% of part 4's starts


def test_image_is_the_tutorials_with_the_player_on_top():
    env = placed((2, 3), (2, 3), (7, 1), observation="rgb")
    img = env._obs()
    assert img.shape == (10, 10, 3) and img.dtype == np.uint8
    assert tuple(img[2, 3]) == PLAYER_COLOUR  # drawn last: hides the food beneath
    assert tuple(img[7, 1]) == ENEMY_COLOUR
    assert img.sum() == sum(PLAYER_COLOUR) + sum(ENEMY_COLOUR)
    env.food = (0, 0)
    assert tuple(env._obs()[0, 0]) == FOOD_COLOUR


def test_starts_follow_randint_order_from_np_random():
    env = BlobEnv()
    env.reset(seed=5)
    from gymnasium.utils import seeding

    rng = seeding.np_random(5)[0]
    draws = [int(rng.integers(0, 10)) for _ in range(6)]
    assert (env.player, env.food, env.enemy) == (
        (draws[0], draws[1]),
        (draws[2], draws[3]),
        (draws[4], draws[5]),
    )


def test_start_weights():
    assert start_weights(10, False).sum() == pytest.approx(1)
    w = start_weights(10, True)
    assert w.sum() == pytest.approx(1) and w[3, 3, 7] == 0 and w[3, 7, 3] == 0 and w[7, 3, 3] == 0
    assert w[1, 2, 3] == pytest.approx(1 / (100 * 99 * 98))


def test_solver_numbers_are_pinned_and_agree_with_a_hand_case():
    from reproduce.envs.blob_solver import PART4_OPTIMUM, PART6_OPTIMUM

    opt4 = blob_values(actions=4)
    assert opt4.expected(False) == pytest.approx(PART4_OPTIMUM, abs=1e-9) == 18.495104
    assert opt4.expected(True) == pytest.approx(20.668291, abs=1e-6)
    opt9 = blob_values(actions=9)
    assert opt9.expected(False) == pytest.approx(18.876384, abs=1e-5)
    assert opt9.expected(True) == pytest.approx(PART6_OPTIMUM, abs=1e-9) == pytest.approx(21.056373, abs=1e-5)
    cell = lambda x, y: 10 * x + y  # noqa: E731
    assert opt4.values[cell(4, 4), cell(5, 5), cell(0, 0)] == 25  # one step to the food
    assert opt4.values[cell(4, 4), cell(6, 6), cell(0, 0)] == 24  # two steps
    # food one cell right: diagonals keep x + y's parity, so the player bumps a wall to change it
    assert opt4.values[cell(4, 4), cell(5, 4), cell(0, 0)] < 24
    assert opt9.values[cell(4, 4), cell(5, 4), cell(0, 0)] > opt4.values[cell(4, 4), cell(5, 4), cell(0, 0)]


def test_policy_evaluation_chains_equal_dynamic_programming_and_sampling():
    result = bq.train_fast(2, 3000)
    policy = greedy_policy(result.q)
    chains = blob_values(actions=4, policy=policy)
    dp = blob_values(actions=4, policy=policy, dynamic_programming=True)
    np.testing.assert_array_equal(chains.values, dp.values)
    sampled = bq.greedy_returns(result.q, 1500, 99)
    se = sampled.std() / np.sqrt(len(sampled))
    assert abs(sampled.mean() - chains.expected(False)) < 4 * se


def test_fast_qtable_equals_the_published_loop():
    ref = bq.train_reference(3, 250, record_actions=True)
    fast = bq.train_fast(3, 250, record_actions=True)
    np.testing.assert_array_equal(fast.actions, ref.actions)
    np.testing.assert_array_equal(fast.episode_rewards, ref.episode_rewards)
    np.testing.assert_array_equal(fast.episode_lengths, ref.episode_lengths)
    np.testing.assert_array_equal(fast.q, ref.q)


def test_qtable_update_rules_by_hand():
    """Terminal Q is set to +25 / -300, else the published mix; epsilon decays per episode."""
    result = bq.train_fast(4, 50)
    assert result.epsilon[0] == 0.9 and result.epsilon[1] == pytest.approx(0.9 * 0.9998)
    q0 = bq.initial_table(bq.agent_rng(4))
    changed = result.q != q0
    assert set(np.unique(result.q[changed])) & {25.0, -300.0}
    assert q0.min() >= -5 and q0.max() <= 0


def test_cli_blob_qtable(cli, tmp_path):
    import json

    out = tmp_path / "run"
    result = cli("run", "blob-qtable", "--episodes", "3000", "--repeats", "2", "--out", out)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimal_return"] == pytest.approx(18.495104, abs=1e-6)
    assert summary["mean_return"] < summary["optimal_return"]
