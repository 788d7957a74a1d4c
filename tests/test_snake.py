"""Snake-v0 (Qlearning4k's game): the env checker, then each rule on a placed board."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from reproduce.envs import SNAKE_ID, SnakeEnv
from reproduce.envs.snake import DOWN, IDLE, LEFT, RIGHT, UP
from reproduce.errors import ConfigError


def test_check_env_is_clean_and_same_seed_same_rollout():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(gym.make(SNAKE_ID).unwrapped)
    assert [str(w.message) for w in caught] == []
    runs = []
    for _ in range(2):
        env, frames = gym.make(SNAKE_ID), []
        env.action_space.seed(4)
        obs, _ = env.reset(seed=4)
        for _ in range(200):
            obs, r, term, _, _ = env.step(env.action_space.sample())
            frames.append((obs.copy(), r))
            if term:
                obs, _ = env.reset()
        runs.append(frames)
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(*runs))


def test_start_is_upstreams_length_three_snake_in_the_middle_column():
    starts = set()
    for seed in range(40):
        env = SnakeEnv()
        obs, info = env.reset(seed=seed)
        starts.add((tuple(env.snake), env.direction))
        assert info == {"length": 3, "fruit_eaten": 0, "won": False}
        assert obs[0].tolist() == [1.0] * 10 and obs[:, 0].tolist() == [1.0] * 10  # walls
        assert (obs == 0.5).sum() == 1 and env.fruit not in env.snake
        assert 1 <= min(env.fruit) <= max(env.fruit) <= 8
        assert (obs[1:-1, 1:-1] == 1).sum() == 3
    assert starts == {(((3, 5), (4, 5), (5, 5)), LEFT), (((5, 5), (4, 5), (3, 5)), RIGHT)}


def placed(snake, direction, fruit=(8, 8)):
    env = SnakeEnv()
    env.reset(seed=0, options={"snake": snake, "direction": direction, "fruit": fruit})
    return env


@pytest.mark.parametrize("action, head", [(LEFT, (3, 5)), (IDLE, (3, 5)), (RIGHT, (3, 5)),  # reversal: keep
                                          (UP, (4, 4)), (DOWN, (4, 6))])
def test_idle_and_reversal_keep_the_direction(action, head):
    env = placed([(4, 5), (5, 5), (6, 5)], LEFT)
    obs, r, term, trunc, _ = env.step(action)
    assert env.snake == [head, (4, 5), (5, 5)] and (r, term, trunc) == (0.0, False, False)
    assert env.direction == (LEFT if action in (LEFT, IDLE, RIGHT) else action)


def test_a_reversal_is_judged_against_the_last_real_direction():
    env = placed([(4, 5), (5, 5), (6, 5)], LEFT)
    env.step(UP)
    env.step(IDLE)
    env.step(DOWN)  # opposite of UP: still UP
    assert env.snake[0] == (4, 2) and env.direction == UP


def test_eating_grows_beyond_the_tail_and_rewards_the_new_length():
    env = placed([(4, 5), (5, 5), (6, 5)], LEFT, fruit=(3, 5))
    obs, r, term, _, info = env.step(IDLE)
    assert env.snake == [(3, 5), (4, 5), (5, 5), (6, 5)]
    assert (r, term) == (4.0, False) and info == {"length": 4, "fruit_eaten": 1, "won": True}
    assert env.fruit not in env.snake and obs[env.fruit] == 0.5


@pytest.mark.parametrize("snake, direction", [
    ([(1, 5), (2, 5), (3, 5)], LEFT),  # head into the top wall
    ([(4, 8), (4, 7), (4, 6)], DOWN),  # head into the right wall
    ([(5, 4), (5, 5), (4, 5), (4, 4), (4, 3)], UP),  # turning left bites (4, 4), not the tail
])
def test_death_is_minus_one(snake, direction):
    env = placed(snake, direction)
    _, r, term, _, info = env.step(LEFT if len(snake) == 5 else IDLE)
    assert (r, term) == (-1.0, True) and info["won"] == (len(snake) > 3)  # is_won: longer than at start


def test_the_head_may_enter_the_cell_the_tail_leaves():
    env = placed([(4, 4), (4, 5), (5, 5), (5, 4)], UP)
    _, r, term, _, _ = env.step(RIGHT)  # head -> (5, 4), the tail's cell, vacated this step
    assert (r, term) == (0.0, False) and env.snake == [(5, 4), (4, 4), (4, 5), (5, 5)]


def test_growing_the_tail_into_the_wall_ends_the_game_with_the_eating_reward():
    env = placed([(2, 2), (2, 3), (2, 4)], UP, fruit=(2, 1))
    _, r, term, _, info = env.step(IDLE)
    assert env.snake == [(2, 1), (2, 2), (2, 3), (2, 4)] and (r, term) == (4.0, False)  # straight: inward
    env = placed([(2, 6), (2, 7), (2, 8), (3, 8)], UP, fruit=(2, 5))  # bent tail: grows on past (2, 8)
    _, r, term, _, info = env.step(IDLE)
    assert env.snake[-1] == (2, 9) and (r, term) == (5.0, True) and info["won"]  # tail on the wall


def test_a_full_board_leaves_the_fruit_off_board_instead_of_looping_forever():
    path = [(r, c if r % 2 else 9 - c) for r in range(1, 9) for c in range(1, 9)]  # all 64 interior cells
    env = SnakeEnv()
    obs, _ = env.reset(seed=0, options={"snake": path, "direction": LEFT})
    assert env.fruit == (-1, -1) and obs[-1, -1] == 0.5 and (obs[1:-1, 1:-1] == 1).all()


def test_eval_step_cap_comes_from_gym_make_only():
    assert gym.spec(SNAKE_ID).max_episode_steps is None
    env = gym.make(SNAKE_ID, max_episode_steps=7)
    env.reset(seed=1, options={"snake": [(4, 4), (4, 5), (5, 5), (5, 4)], "direction": UP, "fruit": (8, 8)})
    circle = [RIGHT, DOWN, LEFT, UP]  # (4,4) -> (5,4) -> (5,5) -> (4,5) -> (4,4): chases its tail forever
    for t in range(7):
        _, r, term, trunc, _ = env.step(circle[t % 4])
        assert r == 0.0 and not term
    assert trunc


def test_bad_arguments_are_one_line_config_errors():
    with pytest.raises(ConfigError, match="grid_size must be an integer >= 6"):
        SnakeEnv(grid_size=4)
    with pytest.raises(ConfigError, match="action must be an integer in 0..4"):
        env = SnakeEnv()
        env.reset(seed=0)
        env.step(5)


# Qlearning4k's examples/test_snake.py: the agent on this env.

from reproduce.originals import qlearning4k_snake as q4k  # noqa: E402

SHORT = q4k.Config(nb_epoch=24, memory_size=100)  # epsilon 1 -> 0.1 over 12 epochs; the FIFO drops from 100


@pytest.fixture(scope="module")
def short_runs():
    return q4k.train_reference(seed=3, config=SHORT), q4k.train_fast(seed=3, config=SHORT)


def test_network_and_compile_are_the_examples_channels_last():
    import tensorflow as tf

    q4k.new_session(0)
    model = q4k.build_model()
    assert model.input_shape == (None, 10, 10, 4) and model.output_shape == (None, 5)
    assert [type(x).__name__ for x in model.layers] == ["Conv2D", "Conv2D", "Flatten", "Dense", "Dense"]
    sizes = [getattr(x, "filters", None) or getattr(x, "units", None) for x in model.layers]
    assert sizes == [16, 32, None, 256, 5]
    assert [x.kernel_size for x in model.layers[:2]] == [(3, 3), (3, 3)]
    assert model.count_params() == (9 * 4 + 1) * 16 + (9 * 16 + 1) * 32 + (6 * 6 * 32 + 1) * 256 + 257 * 5
    assert model.loss == "MSE" and type(model.optimizer) is tf.keras.optimizers.legacy.RMSprop
    config = model.optimizer.get_config()
    assert (config["learning_rate"], config["rho"], config["epsilon"], config["momentum"]) == \
        pytest.approx((0.001, 0.9, 1e-8, 0.0))


def test_frame_memory_samples_upstreams_fifo_positions():
    import random

    for size in (-1, 70):
        memory = q4k.FrameMemory(size, 4, 10, random.Random(5))
        sampler = random.Random(5)
        for t in range(150):
            f = memory.add_frame(np.full((10, 10), t % 3 / 2))
            memory.remember([f] * 4, t % 5, float(t), [f] * 4, False)
            n = t + 1 if size == -1 else min(t + 1, size)
            batch = memory.sample(64)
            if n < 64:
                assert batch is None
                continue
            picked = [t + 1 - n + j for j in sampler.sample(range(n), 64)]  # what upstream's list holds
            assert batch[2][:, 0].tolist() == [float(p) for p in picked]
            assert batch[0].shape == (64, 10, 10, 4)
            assert np.all(batch[0][:, 0, 0, 0] == np.array(picked) % 3 / 2)


def test_fast_path_equals_the_reference_loop(short_runs):
    ref, fast = short_runs
    assert fast.actions.tolist() == ref.actions.tolist() and fast.rewards.tolist() == ref.rewards.tolist()
    assert fast.steps.tolist() == ref.steps.tolist() and fast.fruit.tolist() == ref.fruit.tolist()
    np.testing.assert_allclose(fast.loss, ref.loss, rtol=1e-5, atol=1e-7)
    for got, want in zip(fast.weights, ref.weights):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert ref.steps.sum() > 150 and ref.loss[-1] > 0 and ref.fruit.sum() >= 1  # trained, ate, evicted
    assert ref.log_lines()[0] == "Epoch 001/024 | Loss 0.0000 | Epsilon 0.93 | Win count 0"  # 1 - 0.9 / 12
    assert np.all(ref.length == 3 + ref.fruit) and np.all(ref.won == (ref.fruit > 0))


def test_play_caps_a_circling_snake_and_counts_deaths():
    from reproduce.envs.snake import DOWN, IDLE, LEFT, RIGHT, UP

    turns = iter([UP, RIGHT, DOWN, LEFT] * 100)  # seed 1 starts heading left: a 2 x 2 circle, forever

    def circle(states):
        return np.eye(5)[[next(turns)]]

    out = q4k.play(circle, games=1, seed=1, max_steps=50)
    assert (out["steps"][0], out["died"][0], out["fruit"][0], out["return"][0]) == (50, 0, 0, 0.0)
    straight = q4k.play(lambda s: np.tile(np.eye(5)[IDLE], (len(s), 1)), games=10, seed=0, max_steps=50)
    assert np.all(straight["died"] == 1) and set(straight["steps"][straight["fruit"] == 0]) <= {3, 4}
    assert np.all(straight["length"] == 3 + straight["fruit"])


def test_experiment_run_writes_the_games_statistics(tmp_path):
    import pandas as pd

    from reproduce import experiments
    from reproduce.runs import read_json

    exp = experiments.get("snake-qlearning4k")
    config = exp.validate(exp.config(epochs=6, games=4, max_steps=30, seed=2))
    exp.run(config, tmp_path / "run")
    summary = read_json(tmp_path / "run" / "summary.json")
    log = pd.read_csv(tmp_path / "run" / "epochs.csv")
    assert summary["env_steps"] == log.steps.sum() and len(log) == 6
    assert summary["play_length"] == pytest.approx(3 + summary["play_fruit"])
    assert summary["random_died"] + summary["random_steps"] > 0 and summary["eval_episodes"] == 4


def test_snake_dqn_runs_keras_rl_with_the_examples_network(tmp_path):
    import pandas as pd

    from reproduce import experiments
    from reproduce.runs import read_json

    exp = experiments.get("snake-dqn")
    config = exp.validate(exp.config(steps=300, eval_episodes=3, seed=1))
    exp.run(config, tmp_path / "run")
    summary = read_json(tmp_path / "run" / "summary.json")
    assert summary["agent"] == "FastDQNAgent" and summary["env_steps"] == 300
    assert summary["play_length"] == pytest.approx(3 + summary["play_fruit"])
    evals = pd.read_csv(tmp_path / "run" / "eval.csv")
    assert len(evals) == 3 and evals.l.max() <= 1000  # SnakeCapped-v0's limit
    agent = exp.load_agent(read_json(tmp_path / "run" / "config.json"))
    assert agent.model.count_params() == q4k.build_model().count_params()  # test_snake.py's network
