"""``RewardLogger``: one flushed Monitor-format CSV row per episode, that survives resumes.

Columns ``r, l, t, episode, total_steps, loss, mean_q, eps``: the episode's reward, length,
seconds since the log started, global episode index, global step count at its end, the
means of keras-rl's ``loss`` and ``mean_q`` over the episode's training steps (NaN before
warm-up ends) and the policy's ε at its end. The first line is SB3 Monitor's ``#{json}``.

On resume (``resume=ResumeState``) the same file continues: rows of episodes at or past the
checkpoint's episode index are dropped (the file is rewritten atomically to the kept rows),
then rows are appended; no second header, no episode twice.

Given to a plain ``tf.keras`` ``model.fit`` (no episodes there), it writes one row per
epoch instead: ``r`` NaN, ``l`` the epoch's batches, ``loss`` from Keras' logs.
"""

# ruff: noqa: I001  (`reproduce` must be imported before `rl`: it applies the compat fixes)
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import reproduce.compat  # noqa: F401  (keras-rl2 compat fixes before rl is imported)
from callbacks import agent_state
from callbacks.episode import LOGGED_METRICS, EpisodeReader
from callbacks.monitor import MonitorWriter, load_rewards, read_header
from callbacks.files import atomic_write

COLUMNS = ("episode", "total_steps", *LOGGED_METRICS, "eps")


def truncate_log(path, keep_before_episode: int) -> int:
    """Rewrite ``path`` atomically keeping only whole rows with ``episode < keep_before_episode``.

    Returns the number of rows kept. A torn last line (killed mid-write) is dropped too.
    """
    path = Path(path)
    read_header(path)
    with path.open(newline="") as handle:
        lines = handle.readlines()
    head, body = lines[:2], lines[2:]
    if len(head) < 2 or not head[1].endswith("\n"):
        raise ValueError(f"{path} has no complete CSV header row; delete it to start a fresh log")
    columns = next(csv.reader([head[1]]))
    kept = []
    for line in body:
        if not line.endswith("\n"):
            break
        row = next(csv.reader([line]), None)
        if not row or len(row) != len(columns):
            break
        if int(row[columns.index("episode")]) >= keep_before_episode:
            break
        kept.append(line)
    with atomic_write(path, newline="") as handle:
        handle.writelines(head + kept)
    return len(kept)


class RewardLogger(EpisodeReader):
    """Append one row per episode to a Monitor-format CSV, flushed; continue it on resume.

    The episode figures come from ``tracker`` (an :class:`callbacks.episode.EpisodeTracker`
    earlier in the callback list), or from a private one when none is given.
    """

    def __init__(self, path, resume=None, metadata: dict | None = None, tracker=None):
        super().__init__(tracker=tracker, resume=resume)
        self.path = Path(path)
        self.resume = resume
        self.metadata = dict(metadata or {})
        self.writer = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        resume = self.resume
        append = resume is not None and self.path.is_file() and self.path.stat().st_size > 0
        if append:
            truncate_log(self.path, resume.episode)
        meta = dict(self.metadata)
        env_id = agent_state.env_id(getattr(self, "env", None)) if getattr(self, "env", None) else None
        if env_id:
            meta.setdefault("env_id", env_id)
        self.writer = MonitorWriter(self.path, extra_columns=COLUMNS, metadata=meta, append=append).open()
        self._batches = 0

    # keras-rl
    def on_episode_end(self, episode, logs=None):
        super().on_episode_end(episode, logs)
        last = self.tracker.last
        self.writer.write(
            last["episode_reward"], last["episode_length"], episode=last["episode"],
            total_steps=last["total_steps"], **{name: last[name] for name in LOGGED_METRICS},
            eps="" if last["eps"] is None else last["eps"],
        )

    # plain Keras (model.fit): one row per epoch
    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.writer.write(math.nan, self._batches, episode=epoch, total_steps="",
                          loss=logs.get("loss", math.nan), mean_q=math.nan, eps="")
        self._batches = 0

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()


def rows_text(path) -> str:
    """The log's rows without the ``t`` column (for comparing two runs)."""
    frame = load_rewards(path).drop(columns=["t"])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


__all__ = ["COLUMNS", "RewardLogger", "load_rewards", "rows_text", "truncate_log"]
