"""sentdex's part 6 DQN constants, in a module that imports nothing heavy: the tutorial loop
(:mod:`reproduce.originals.blob_dqn`) and the keras-rl variant (``blob-dqn-kerasrl``, whose module
``reproduce list`` imports) read them from here, so each is defined once."""

from __future__ import annotations

from dataclasses import dataclass

STATS_EVERY = 50  # AGGREGATE_STATS_EVERY


@dataclass(frozen=True)
class Settings:
    """The tutorial's constants (``main_tf1.py`` / ``dqnAgent``)."""

    episodes: int = 20_000
    replay_size: int = 50_000
    min_replay: int = 1_000
    minibatch: int = 64
    discount: float = 0.99
    update_target_every: int = 5
    epsilon: float = 1.0
    epsilon_decay: float = 0.99975
    min_epsilon: float = 0.001
    learning_rate: float = 0.001
    dropout: float = 0.2
