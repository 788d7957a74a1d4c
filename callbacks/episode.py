"""Per-episode accumulators shared by the logging and checkpoint callbacks.

keras-rl's ``fit`` keeps the episode's reward and length in local variables that restart
with every ``fit`` call, so callbacks keep their own: the reward sum, the step count and the
running sums of the agent's metrics (``loss``, ``mean_q``, ...), which a checkpoint saves
so that an episode interrupted by a resume is logged whole.
"""

from __future__ import annotations

import dataclasses
import math

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
