"""One EpisodeTracker counts each episode once; the reward log, TensorBoard and checkpoints read it."""

from __future__ import annotations

import checkpoint_worker  # registered by tests/conftest.py
import pytest

import callbacks
from callbacks.checkpoint import Checkpoint
from callbacks.episode import EpisodeTracker
from callbacks.reward_logger import RewardLogger, rows_text
from callbacks.store import read_checkpoint
from callbacks.tensorboard import TensorBoardLogger


def keras_rl_recorder(rows: list):
    """A callback keeping keras-rl's own end-of-episode numbers (what fit reports)."""
    from rl.callbacks import Callback

    class Recorder(Callback):
        def on_episode_end(self, episode, logs=None):
            rows.append((float(logs["episode_reward"]), int(logs["nb_episode_steps"]), int(logs["nb_steps"])))

    return Recorder()


def tensorboard_points(logdir) -> dict:
    import tensorflow as tf

    points = {}
    for event_file in logdir.iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                points.setdefault(value.tag, []).append((event.step, value.simple_value))
    return points


def test_one_tracker_feeds_the_log_tensorboard_and_checkpoints(tmp_path):
    w = checkpoint_worker
    config = w.default_config()  # NChain, 40-step episodes
    w.seed_everything(0)
    env, agent = w.make_env(config), w.build_agent(config)
    cbs = callbacks.training_callbacks(tmp_path, every_steps=50, keep_last=None, tensorboard=True)
    trackers = [cb for cb in cbs if isinstance(cb, EpisodeTracker)]
    assert len(trackers) == 1
    tracker = trackers[0]
    readers = [cb for cb in cbs if isinstance(cb, (RewardLogger, TensorBoardLogger, Checkpoint))]
    assert len(readers) == 3 and all(r.tracker is tracker and not r._owns_tracker for r in readers)
    assert cbs.index(tracker) < min(cbs.index(r) for r in readers)  # it counts before they read
    alone = RewardLogger(tmp_path / "alone.csv")  # no tracker given: it drives a private one
    keras_rl = []
    agent.fit(env, nb_steps=130, verbose=0, callbacks=[*cbs, alone, keras_rl_recorder(keras_rl)])

    assert len(keras_rl) == 3 and tracker.episode == 3 and tracker.stats.steps == 10  # counted once
    log = callbacks.load_rewards(tmp_path / "episodes.csv")
    assert list(zip(log["r"], log["l"], log["total_steps"])) == keras_rl
    assert rows_text(tmp_path / "alone.csv") == rows_text(tmp_path / "episodes.csv")
    points = tensorboard_points(tmp_path / "tensorboard")
    assert points["episode/reward"] == [(s, pytest.approx(r)) for r, _, s in keras_rl]
    assert points["episode/length"] == [(s, n) for _, n, s in keras_rl]
    assert [v for _, v in points["train/loss"]] == pytest.approx(log["loss"].tolist())
    state, _ = read_checkpoint(tmp_path / "checkpoints" / "ckpt_000000130_steps")
    assert state["episode"] == 3 and state["episode_in_progress"]["steps"] == 10
    assert state["last_episode"]["episode_reward"] == keras_rl[-1][0]
    assert state["last_episode"]["total_steps"] == 120


def test_tracker_continues_a_resumed_episode(tmp_path):
    w = checkpoint_worker
    config = w.default_config()
    w.seed_everything(0)
    env, agent = w.make_env(config), w.build_agent(config)
    cbs = callbacks.training_callbacks(tmp_path, every_steps=50, save_memory=True)
    agent.fit(env, nb_steps=50, verbose=0, callbacks=cbs)
    w.seed_everything(0)
    env, agent = w.make_env(config), w.build_agent(config)
    resume = callbacks.resume_from(tmp_path, agent, env)
    tracker = EpisodeTracker(resume=resume)
    assert (tracker.episode, tracker.stats.steps) == (1, 10)
    assert tracker.last["episode"] == 0 and tracker.last["episode_length"] == 40
    agent.fit(env, nb_steps=80, verbose=0, callbacks=[resume.callback(), tracker])
    assert tracker.episode == 2 and tracker.last["episode_length"] == 40  # 10 before + 30 after the resume
    assert tracker.last["total_steps"] == 80
