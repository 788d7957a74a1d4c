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
from callbacks.episode import LOGGED_METRICS, EpisodeReader


class TensorBoardLogger(EpisodeReader):
    """Write ``episode/reward``, ``episode/length``, ``train/loss``, ``train/mean_q``, ``train/eps``.

    Episode figures come from ``tracker`` (shared) or a private :class:`EpisodeTracker`.
    """

    def __init__(self, logdir, resume=None, tracker=None):
        super().__init__(tracker=tracker, resume=resume)
        self.logdir = Path(logdir)
        self.writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        super().on_train_begin(logs)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.writer = tf.compat.v1.summary.FileWriter(str(self.logdir))

    def on_episode_end(self, episode, logs=None):
        import tensorflow as tf

        super().on_episode_end(episode, logs)
        last = self.tracker.last
        values = {"episode/reward": last["episode_reward"], "episode/length": last["episode_length"]}
        values.update({f"train/{name}": last[name] for name in LOGGED_METRICS})
        if last["eps"] is not None:
            values["train/eps"] = last["eps"]
        summary = tf.compat.v1.Summary(value=[
            tf.compat.v1.Summary.Value(tag=tag, simple_value=float(value))
            for tag, value in values.items() if not math.isnan(float(value))
        ])
        self.writer.add_summary(summary, global_step=last["total_steps"])
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
