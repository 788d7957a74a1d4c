"""dungeon-kerasrl: the DeepGambler's network in keras-rl's DQNAgent on the dungeon in 250-step episodes
(real keras-rl, TensorFlow and gymnasium; runs of a thousand steps)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from callbacks import load_rewards
from reproduce import experiments
from reproduce.errors import ConfigError
from reproduce.runs import RunDir, read_json

NAME = "dungeon-kerasrl"


def config(**changes):
    experiment = experiments.get(NAME)
    return experiment.validate(dataclasses.replace(experiment.config(), **changes))


def test_a_short_run_scores_the_windows_the_greedy_test_and_the_exact_optimum(tmp_path):
    experiments.get(NAME).run(config(steps=1000, eval_episodes=2), tmp_path)
    summary = read_json(tmp_path / RunDir.SUMMARY)
    episodes = load_rewards(tmp_path / RunDir.EPISODES)
    assert episodes.l.tolist() == [250] * 4  # 1000 steps: four 250-step episodes, each one printed window
    # epsilon falls linearly from 1 to 0 over the run (the tutorial's exploration_delta = 1 / iterations)
    assert episodes.eps.to_numpy() == pytest.approx([0.75, 0.5, 0.25, 0.0])
    performance = pd.read_csv(tmp_path / RunDir.PERFORMANCE)
    assert performance.step.tolist() == [250, 500, 750, 1000]
    assert performance.kerasrl.to_numpy() == pytest.approx((episodes.r / 250).to_numpy())
    assert summary["train_reward_per_step"] == pytest.approx(performance.kerasrl.mean())
    assert summary["last_window"] == pytest.approx(performance.kerasrl.iat[-1])
    assert summary["greedy_reward_per_step"] == pytest.approx(summary["eval_mean"] / 250)
    assert summary["optimal_return"] == pytest.approx(6.1049, abs=1e-4)  # the optimal gain (always FORWARD)
    assert 5.9 < summary["optimal_window_reward_per_step"] < summary["optimal_return"]  # from tile 0
    assert set(summary["policy"]) <= {"F", "B"} and len(summary["policy"]) == 5
    assert summary["regret"] == pytest.approx(summary["optimal_return"] - summary["mean_return"])
    assert summary["mean_return"] <= summary["optimal_return"] + 1e-9
    assert np.isfinite(summary["max_abs_q_error"]) and summary["truncation_aware"] is True
    assert summary["env_id"] == "DungeonCapped-v0" and summary["episode_cap"] == 250


def test_the_agent_is_the_deepgamblers_network_in_keras_rls_dqn_agent():
    import tensorflow as tf
    from rl.agents import DQNAgent
    from rl.policy import LinearAnnealedPolicy

    from callbacks.agent_state import real_optimizer
    from reproduce.experiments.dungeon_kerasrl import build, processor
    from reproduce.kerasrl import run as runner

    c = config(steps=4000)
    runner.seed_everything(0)
    env = runner.make_env(c)
    agent = build(c, env, processor(env))
    dense = [layer for layer in agent.model.layers if isinstance(layer, tf.keras.layers.Dense)]
    layers = [(d.units, d.activation.__name__) for d in dense]
    assert layers == [(16, "sigmoid"), (16, "sigmoid"), (2, "linear")]
    assert agent.model.input_shape == (None, 1, 5)  # one-hot(5), window 1
    assert isinstance(agent, DQNAgent) and agent.gamma == 0.95 and agent.batch_size == 32
    optimizer = real_optimizer(agent)  # under keras-rl's soft-update wrapper
    assert type(optimizer).__name__ == "SGD"
    assert float(tf.keras.backend.get_value(optimizer.learning_rate)) == pytest.approx(0.1)
    assert isinstance(agent.policy, LinearAnnealedPolicy) and agent.policy.nb_steps == 4000  # follows --steps
    assert (agent.policy.value_max, agent.policy.value_min) == (1.0, 0.0)
    assert agent.memory.limit == 50_000 and agent.nb_steps_warmup == 10 and agent.target_model_update == 1e-2


def test_an_env_without_episode_ends_is_one_line_naming_the_fix():
    with pytest.raises(ConfigError, match="pass --env DungeonCapped-v0") as info:
        config(env="Dungeon-v0")
    assert "\n" not in str(info.value) and "max_episode_steps=None" in str(info.value)


def test_a_resumed_run_is_the_uninterrupted_one(tmp_path):
    import shutil

    straight = tmp_path / "straight"
    experiments.get(NAME).run(config(steps=750, checkpoint_every=300, eval_episodes=2), straight)
    resumed = tmp_path / "resumed"
    shutil.copytree(straight, resumed)
    checkpoints = sorted((resumed / RunDir.CHECKPOINTS).glob("ckpt_*"))
    assert [c.name for c in checkpoints] == ["ckpt_000000600_steps", "ckpt_000000750_steps"]
    shutil.rmtree(checkpoints[-1])  # as if killed after step 600, mid-episode
    experiments.get(NAME).resume(resumed)
    a, b = load_rewards(straight / RunDir.EPISODES), load_rewards(resumed / RunDir.EPISODES)
    for column in ("r", "l", "eps", "loss"):
        assert a[column].tolist() == b[column].tolist(), column
    assert b.mean_q.tolist() == pytest.approx(a.mean_q.tolist(), rel=1e-6)  # the episode's running mean
    assert (straight / RunDir.EVAL).read_text() == (resumed / RunDir.EVAL).read_text()
    assert (straight / RunDir.PERFORMANCE).read_text() == (resumed / RunDir.PERFORMANCE).read_text()
    assert read_json(resumed / RunDir.SUMMARY)["resumed_from_step"] == 600
