"""``TensorBoardLogger``: episode reward, length, loss, mean_q and ε as TensorBoard scalars.

keras-rl2 runs in TF1 graph mode, where ``tf.summary`` (TF2) writers do not work; this
writes ``tf.compat.v1.Summary`` protos through ``tf.compat.v1.summary.FileWriter``, one
point per episode at the global step, flushed at each episode end.
"""

# ruff: noqa: I001  (`reproduce` must be imported before `rl`: it applies the compat fixes)
from __future__ import annotations

import math
from pathlib import Path

import reproduce.compat  # noqa: F401  (keras-rl2 compat fixes before rl is imported)
from callbacks import agent_state
from callbacks.episode import LOGGED_METRICS, EpisodeStats, metrics_names
from rl.callbacks import Callback


class TensorBoardLogger(Callback):
    """Write ``episode/reward``, ``episode/length``, ``train/loss``, ``train/mean_q``, ``train/eps``."""

    def __init__(self, logdir, resume=None):
        super().__init__()
        self.logdir = Path(logdir)
        self.resume = resume
        self.writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self.logdir.mkdir(parents=True, exist_ok=True)
        self.writer = tf.compat.v1.summary.FileWriter(str(self.logdir))
        resume = self.resume
        self.stats = EpisodeStats.from_json(resume.episode_in_progress) if resume else EpisodeStats()

    def on_step_end(self, step, logs=None):
        logs = logs or {}
        self.stats.add_step(logs.get("reward", 0.0), metrics_names(self.model), logs.get("metrics"))

    def on_episode_end(self, episode, logs=None):
        import tensorflow as tf

        values = {"episode/reward": self.stats.reward, "episode/length": self.stats.steps}
        values.update({f"train/{name}": self.stats.mean(name) for name in LOGGED_METRICS})
        eps = agent_state.current_eps(self.model)
        if eps is not None:
            values["train/eps"] = eps
        summary = tf.compat.v1.Summary(value=[
            tf.compat.v1.Summary.Value(tag=tag, simple_value=float(value))
            for tag, value in values.items() if not math.isnan(float(value))
        ])
        self.writer.add_summary(summary, global_step=int(self.model.step))
        self.writer.flush()
        self.stats = EpisodeStats()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
