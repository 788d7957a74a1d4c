"""blob-dqn-kerasrl: sentdex part 6's network and settings in keras-rl's DQNAgent, epsilon decayed per
episode (real keras-rl, TensorFlow and gymnasium; a few short episodes with a small warm-up and batch)."""

import dataclasses
import shutil

import pytest

from callbacks import load_rewards
from reproduce import experiments
from reproduce.errors import ConfigError
from reproduce.runs import RunDir, read_json

NAME = "blob-dqn-kerasrl"


def config(**changes):
    """The experiment's config with a warm-up and batch small enough for a test."""
    experiment = experiments.get(NAME)
    base = experiment.config()
    dqn = base.dqn.replace(nb_steps_warmup=40, batch_size=4, memory_limit=1000)
    return experiment.validate(dataclasses.replace(base, dqn=dqn, eval_episodes=2, **changes))


def test_epsilon_falls_per_episode_and_training_ends_after_the_episodes(tmp_path):
    experiments.get(NAME).run(config(episodes=6, checkpoint_every=150), tmp_path)
    summary = read_json(tmp_path / RunDir.SUMMARY)
    log = load_rewards(tmp_path / RunDir.EPISODES)
    assert log.episode.tolist() == list(range(6))  # --episodes, though keras-rl's fit counts steps
    # the tutorial: epsilon *= 0.99975 after every episode (floor 0.001); the log holds it at each end
    assert log.eps.tolist() == pytest.approx([0.99975 ** k for k in range(1, 7)], rel=1e-12)
    assert summary["final_epsilon"] == pytest.approx(0.99975 ** 6, rel=1e-12)
    assert summary["steps_trained"] == log.l.sum() == summary["env_steps"]
    assert log.l.between(1, 200).all()  # part 6's 200-step limit
    for key in ("eval_mean", "mean_return", "optimal_return", "regret", "last_stats_avg", "episodes",
                "target_model_update", "ms_per_train_step"):
        assert key in summary, key
    assert summary["optimal_return"] == pytest.approx(21.056, abs=1e-3)
    assert summary["regret"] == pytest.approx(summary["optimal_return"] - summary["eval_mean"])
    assert summary["target_model_update"] == 460 and summary["env_id"] == "BlobImage-v0"

    # resume from the checkpoint before the last: the schedule continues (epsilon, episodes counted once,
    # the stop after 6). Not bit-identical: TensorFlow's dropout masks restart with the new session.
    resumed = tmp_path.parent / "resumed"
    shutil.copytree(tmp_path, resumed)
    checkpoints = sorted((resumed / RunDir.CHECKPOINTS).glob("ckpt_*"))
    assert len(checkpoints) == 2
    shutil.rmtree(checkpoints[-1])
    experiments.get(NAME).resume(resumed)
    again = read_json(resumed / RunDir.SUMMARY)
    assert again["resumed_from_step"] == int(checkpoints[0].name.split("_")[1]) < summary["steps_trained"]
    assert again["episodes"] == 6 and again["final_epsilon"] == summary["final_epsilon"]
    assert load_rewards(resumed / RunDir.EPISODES).eps.tolist() == log.eps.tolist()


def test_the_network_and_settings_are_the_tutorials():
    import tensorflow as tf
    from rl.agents import DQNAgent

    from callbacks.agent_state import real_optimizer
    from reproduce.experiments.blob_dqn_kerasrl import build
    from reproduce.kerasrl import run as runner

    c = experiments.get(NAME).config()
    runner.seed_everything(0)
    env = runner.make_env(c)
    agent = build(c, env)
    kinds = [type(layer).__name__ for layer in agent.model.layers]
    assert kinds == ["Reshape", "Conv2D", "Activation", "MaxPooling2D", "Dropout", "Conv2D", "Activation",
                     "MaxPooling2D", "Dropout", "Flatten", "Dense", "Dense"]
    convolutions = [layer for layer in agent.model.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size) for c in convolutions] == [(256, (3, 3))] * 2
    assert agent.model.output_shape == (None, 9) and agent.model.input_shape == (None, 1, 10, 10, 3)
    assert isinstance(agent, DQNAgent) and agent.gamma == 0.99 and agent.batch_size == 64
    assert agent.memory.limit == 50_000 and agent.nb_steps_warmup == 1000 and agent.target_model_update == 460
    optimizer = real_optimizer(agent)
    assert type(optimizer).__name__ == "Adam"
    assert float(tf.keras.backend.get_value(optimizer.learning_rate)) == pytest.approx(1e-3)
    assert agent.policy.eps == 1.0 and agent.delta_clip == float("inf")  # squared error
    image = env.reset()
    assert image.dtype.name == "uint8" and agent.processor.process_state_batch([[image]]).max() <= 1.0


def test_a_policy_it_cannot_decay_per_episode_is_one_line_naming_the_fix():
    experiment = experiments.get(NAME)
    base = experiment.config()
    bad = dataclasses.replace(base, dqn=base.dqn.replace(policy=dataclasses.replace(base.dqn.policy,
                                                                                      name="boltzmann")))
    with pytest.raises(ConfigError, match="pass --policy eps-greedy") as info:
        experiment.validate(bad)
    assert "\n" not in str(info.value)


def test_an_env_without_images_is_one_line_naming_the_fix():
    experiment = experiments.get(NAME)
    with pytest.raises(ConfigError, match="pass --env BlobImage-v0") as info:
        experiment.validate(dataclasses.replace(experiment.config(), env="Blob-v0"))  # part 4's vectors
    assert "\n" not in str(info.value)
