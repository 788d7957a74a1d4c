"""Catch-v0: Qlearning4k's rules case by case, gymnasium conformance, and the exact solver."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from reproduce.envs import (
    CATCH_ID,
    LEFT,
    RIGHT,
    STAY,
    CatchEnv,
    catch_observations,
    catch_starts,
    catch_states,
    greedy_win_rate,
    solve_catch,
)
from reproduce.envs.catch import canvas
from reproduce.errors import ConfigError


def play_out(env, actions, **start):
    env.reset(seed=0, options=start or None)
    out = [env.step(a) for a in actions]
    return out


def test_start_distribution_is_qlearning4ks_randint_ranges():
    env = gym.make(CATCH_ID)
    starts = set()
    for i in range(3000):
        obs, info = env.reset(seed=123 if i == 0 else None)
        starts.add(env.unwrapped.state)
        assert info == {}
    # fruit column from randint(0, grid-1), basket centre from randint(1, grid-2): both exclusive
    assert starts == {(0, c, b) for c in range(9) for b in range(1, 8)}
    assert {tuple(s) for s in catch_starts(10).tolist()} == starts


def test_observation_is_the_canvas():
    env = CatchEnv()
    obs, _ = env.reset(options={"fruit_col": 3, "basket": 5})
    assert obs.shape == (10, 10) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)
    expected = np.zeros((10, 10), np.float32)
    expected[0, 3] = 1
    expected[9, 4:7] = 1
    np.testing.assert_array_equal(obs, expected)
    obs, *_ = env.step(RIGHT)
    assert obs[1, 3] == 1 and obs[0].sum() == 0 and obs[9].tolist() == [0] * 5 + [1, 1, 1, 0, 0]


@pytest.mark.parametrize("start, actions, baskets", [
    (1, [LEFT, LEFT], [1, 1]),  # left edge: the centre never goes below 1
    (2, [LEFT, LEFT, STAY], [1, 1, 1]),
    (7, [RIGHT, RIGHT, RIGHT, RIGHT], [8, 9, 9, 9]),  # right edge: centre up to grid-1
    (5, [STAY, RIGHT, LEFT, LEFT], [5, 6, 5, 4]),
])
def test_basket_moves_and_is_clamped_to_1_and_grid_minus_1(start, actions, baskets):
    env = CatchEnv()
    env.reset(options={"fruit_col": 0, "basket": start})
    got = []
    for a in actions:
        env.step(a)
        got.append(env.unwrapped.state[2])
    assert got == baskets


def test_basket_at_the_right_edge_shows_two_cells():
    env = CatchEnv()
    env.reset(options={"fruit_col": 8, "basket": 7})
    obs, *_ = env.step(RIGHT)
    obs, *_ = env.step(RIGHT)
    assert env.unwrapped.state[2] == 9
    assert obs[9].tolist() == [0] * 8 + [1, 1]


@pytest.mark.parametrize("offset, reward", [(0, 1.0), (1, 1.0), (-1, 1.0), (2, -1.0), (-2, -1.0)])
def test_catch_within_one_column_of_the_centre(offset, reward):
    env = CatchEnv()
    steps = play_out(env, [STAY] * 9, fruit_col=4 + offset, basket=4)
    rewards = [s[1] for s in steps]
    assert rewards == [0.0] * 8 + [reward]


@pytest.mark.parametrize("grid", [4, 5, 10, 13])
def test_episode_lasts_grid_minus_one_steps_and_pays_only_at_the_end(grid):
    env = CatchEnv(grid)
    env.reset(seed=grid)
    rng = np.random.default_rng(grid)
    for t in range(grid - 1):
        obs, r, terminated, truncated, info = env.step(int(rng.integers(3)))
        assert truncated is False and info == {}
        assert terminated == (t == grid - 2)
        assert r == 0.0 if t < grid - 2 else r in (1.0, -1.0)
        assert obs[:-1].sum() == (0 if t == grid - 2 else 1)  # fruit reaches the last row
    assert env.unwrapped.state[0] == grid - 1


def test_fruit_falls_one_row_per_step_in_its_column():
    env = CatchEnv()
    env.reset(options={"fruit_col": 6, "basket": 2})
    for t in range(1, 9):
        obs, *_ = env.step(t % 3)
        assert env.unwrapped.state[:2] == (t, 6)
        assert obs[t, 6] == 1


def test_check_env_is_clean():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(gym.make(CATCH_ID).unwrapped)
        check_env(gym.make(CATCH_ID, grid_size=5, render_mode="ansi").unwrapped)
    assert [str(w.message) for w in caught] == []


def test_registered_without_time_limit():
    env = gym.make(CATCH_ID)
    assert env.spec.max_episode_steps is None
    assert isinstance(env.unwrapped, CatchEnv) and env.unwrapped.grid_size == 10


def _rollout(seed):
    env = gym.make(CATCH_ID)
    out = []
    for i in range(20):
        obs, _ = env.reset(seed=seed if i == 0 else None)
        out.append(obs.tobytes())
        done = False
        while not done:
            obs, r, done, _, _ = env.step(i % 3)
            out.append((obs.tobytes(), r))
    return out


def test_same_seed_same_rollouts():
    assert _rollout(5) == _rollout(5)
    assert _rollout(5) != _rollout(6)


@pytest.mark.parametrize("grid", [3, 2, 0, -1, 2.5, "10", True, None])
def test_bad_grid_size_is_a_one_line_config_error(grid):
    with pytest.raises(ConfigError) as err:
        CatchEnv(grid)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("Catch grid_size must be an integer >= 4")
    assert f"got {grid!r}; pass e.g. grid_size=10" in message


def test_bad_action_and_start_options_raise():
    env = CatchEnv()
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="action must be 0 .left., 1 .stay. or 2 .right., got 3"):
        env.step(3)
    with pytest.raises(ConfigError, match=r"basket in \[1, 9\]"):
        env.reset(options={"basket": 0})
    with pytest.raises(ConfigError, match="fruit_col"):
        env.reset(options={"fruit_row": 2})


def test_render_ansi():
    env = CatchEnv(4, render_mode="ansi")
    env.reset(options={"fruit_col": 0, "basket": 1})
    assert env.render() == "#...\n....\n....\n###.\n"


def test_optimal_win_rate_is_one():
    assert solve_catch(10).win_rate == 1.0
    assert solve_catch(4).win_rate == 1.0


def test_q_star_by_hand():
    q = solve_catch(10)
    # From the first row every action still leaves 8 moves: all win, reward 1 discounted 8 times.
    for start in catch_starts(10):
        np.testing.assert_allclose(q.q_of(start), [0.9 ** 8] * 3, rtol=1e-12)
    # Fruit in column 0, two steps left: from basket 3 only LEFT (-> 2, then -> 1) catches it.
    np.testing.assert_allclose(q.q_of((7, 0, 3)), [0.9, -0.9, -0.9], rtol=1e-12)
    np.testing.assert_allclose(q.q_of((7, 0, 4)), [-0.9, -0.9, -0.9], rtol=1e-12)
    # Last move: +1 if the new centre is within one column, else -1.
    np.testing.assert_array_equal(q.q_of((8, 5, 7)), [1.0, -1.0, -1.0])
    np.testing.assert_array_equal(q.q_of((8, 8, 9)), [1.0, 1.0, 1.0])  # clamped at 9


def test_q_star_satisfies_bellman_through_the_env():
    solution = solve_catch(10)
    env = CatchEnv()
    env.reset(seed=0)
    for state, q in zip(solution.states.tolist(), solution.q):
        for a in range(3):
            env.unwrapped.state = tuple(state)
            obs, r, terminated, _, _ = env.step(a)
            future = 0.0 if terminated else solution.q_of(env.unwrapped.state).max()
            assert q[a] == pytest.approx(r + 0.9 * future, abs=1e-12)
            np.testing.assert_array_equal(obs, canvas(env.unwrapped.state))


def test_states_are_exactly_the_reachable_ones():
    states = {tuple(s) for s in catch_states(10).tolist()}
    env = gym.make(CATCH_ID)
    rng = np.random.default_rng(0)
    seen = set()
    for i in range(3000):
        env.reset(seed=1 if i == 0 else None)
        done = False
        while not done:
            seen.add(env.unwrapped.state)
            _, _, done, _, _ = env.step(int(rng.integers(3)))
    assert seen <= states
    assert len(seen) > 0.9 * len(states)
    # every listed state is a start or a successor of a listed state
    for r, c, b in states:
        assert r == 0 or any((r - 1, c, pb) in states and min(max(1, pb + a - 1), 9) == b
                             for pb in range(1, 10) for a in range(3))
    obs = catch_observations(catch_states(10))
    assert obs.shape == (len(states), 10, 10) and obs.dtype == np.float32


def test_greedy_win_rate_of_staying_put_is_one_third():
    states = catch_states(10)
    stay = np.zeros((len(states), 3))
    stay[:, STAY] = 1
    # 63 starts; staying wins when the fruit's column is within one of the centre: 3 per basket.
    assert greedy_win_rate(stay, 10) == pytest.approx(21 / 63)
    with pytest.raises(ValueError, match="q must have shape"):
        greedy_win_rate(stay[:-1], 10)
