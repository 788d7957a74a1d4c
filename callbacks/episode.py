"""One per-episode tracker that the reward log, the checkpoints and TensorBoard all read.

keras-rl's ``fit`` keeps the episode's reward and length in local variables that restart
with every ``fit`` call. :class:`EpisodeTracker` (a keras-rl callback, in the spirit of SB3's
``Monitor`` and gymnasium's ``RecordEpisodeStatistics``) keeps them instead: the global index
of the episode in progress, its reward sum, step count and the running sums of the agent's
metrics (``loss``, ``mean_q``, ...), and a record of the last finished episode. A checkpoint
saves the episode in progress, so an episode interrupted by a resume is counted whole.

The consumers (:class:`EpisodeReader` subclasses) take a shared ``tracker`` that runs before
them in ``fit``'s callback list (``training_callbacks`` arranges this); given none, each
drives a private tracker itself, so it also works alone.
"""

# ruff: noqa: I001  (`reproduce` must be imported before `rl`: it applies the compat fixes)
from __future__ import annotations

import dataclasses
import math

import reproduce.compat  # noqa: F401  (keras-rl2 compat fixes before rl is imported)
from callbacks.agent_state import current_eps
from rl.callbacks import Callback

LOGGED_METRICS = ("loss", "mean_q")


@dataclasses.dataclass
class EpisodeStats:
    """Reward, length and metric sums of the episode in progress."""

    reward: float = 0.0
    steps: int = 0
    sums: dict = dataclasses.field(default_factory=dict)
    counts: dict = dataclasses.field(default_factory=dict)

    def add_step(self, reward, names, metrics) -> None:
        self.reward += float(reward)
        self.steps += 1
        for name, value in zip(names or (), metrics if metrics is not None else ()):
            value = float(value)
            if not math.isnan(value):
                self.sums[name] = self.sums.get(name, 0.0) + value
                self.counts[name] = self.counts.get(name, 0) + 1

    def mean(self, name) -> float:
        """Mean of a metric over the episode's training steps (NaN before any training step)."""
        count = self.counts.get(name, 0)
        return self.sums[name] / count if count else float("nan")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> EpisodeStats:
        if not data:
            return cls()
        counts = {k: int(v) for k, v in data.get("counts", {}).items()}
        return cls(reward=float(data["reward"]), steps=int(data["steps"]),
                   sums=dict(data.get("sums", {})), counts=counts)


def metrics_names(agent) -> list[str]:
    return list(getattr(agent, "metrics_names", []) or [])


class EpisodeTracker(Callback):
    """Count every episode once: ``episode`` (global index of the one in progress), ``stats``
    (its running sums) and ``last`` (the last finished one).

    ``last`` holds ``episode``, ``episode_reward``, ``episode_length``, ``total_steps`` (global
    step count at its end), the means of ``LOGGED_METRICS`` and every other agent metric over
    its training steps, and ``eps`` (the policy's exploration rate at its end, or None).
    ``resume`` (a :class:`callbacks.resume.ResumeState`) continues the numbering and the
    interrupted episode.
    """

    def __init__(self, resume=None):
        super().__init__()
        self.resume = resume
        self.reset()

    def reset(self):
        resume = self.resume
        self.episode = resume.episode if resume else 0
        self.stats = EpisodeStats.from_json(resume.episode_in_progress) if resume else EpisodeStats()
        self.last = dict(resume.state.get("last_episode") or {}) if resume else {}

    def on_train_begin(self, logs=None):
        self.reset()

    def on_step_end(self, step, logs=None):
        logs = logs or {}
        self.stats.add_step(logs.get("reward", 0.0), metrics_names(self.model), logs.get("metrics"))

    def on_episode_end(self, episode, logs=None):
        stats = self.stats
        names = dict.fromkeys([*LOGGED_METRICS, *stats.sums])
        self.last = {
            "episode": self.episode, "episode_reward": stats.reward, "episode_length": stats.steps,
            "total_steps": int(self.model.step), **{name: stats.mean(name) for name in names},
            "eps": current_eps(self.model),
        }
        self.episode += 1
        self.stats = EpisodeStats()


class EpisodeReader(Callback):
    """A callback that reads an :class:`EpisodeTracker`: shared, or its own (driven from here)."""

    def __init__(self, tracker: EpisodeTracker | None = None, resume=None):
        super().__init__()
        self._owns_tracker = tracker is None
        self.tracker = EpisodeTracker(resume=resume) if tracker is None else tracker

    def set_model(self, model):
        super().set_model(model)
        if self._owns_tracker:
            self.tracker.set_model(model)

    def _set_env(self, env):
        super()._set_env(env)
        if self._owns_tracker:
            self.tracker._set_env(env)

    def on_train_begin(self, logs=None):
        if self._owns_tracker:
            self.tracker.on_train_begin(logs)

    def on_step_end(self, step, logs=None):
        if self._owns_tracker:
            self.tracker.on_step_end(step, logs)

    def on_episode_end(self, episode, logs=None):
        if self._owns_tracker:
            self.tracker.on_episode_end(episode, logs)


__all__ = ["LOGGED_METRICS", "EpisodeReader", "EpisodeStats", "EpisodeTracker", "metrics_names"]
