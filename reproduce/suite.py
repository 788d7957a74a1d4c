"""The default reproduction suite behind ``reproduce all``: which experiments, how many seeds.

Seed counts are what the report's confidence intervals need while the whole suite stays
within 15 minutes on a 2-core machine (two single-threaded workers). ``--quick`` is a
smoke version of the same suite in about a minute.
"""

from __future__ import annotations

from pathlib import Path

from reproduce.sweep import Job

# experiment -> (variant name or "", seeds, extra CLI args) for the full and the quick suite
FULL = [
    ("nchain-tabular", "tutorial", 10, ("--rule", "tutorial")),
    ("nchain-tabular", "textbook", 10, ("--rule", "textbook")),
    ("nchain-keras", "", 5, ()),
    ("nchain-dqn", "", 3, ()),
    ("cartpole-tabular", "", 5, ()),
    ("cartpole-dqn", "", 3, ()),
    ("cartpole-dqn-tuned", "", 5, ()),
]
QUICK = [
    ("nchain-tabular", "tutorial", 2, ("--rule", "tutorial", "--rounds", "10", "--episodes", "50")),
    ("nchain-tabular", "textbook", 2, ("--rule", "textbook", "--rounds", "10", "--episodes", "50")),
    ("nchain-keras", "", 2, ("--episodes", "5")),
    ("nchain-dqn", "", 1, ("--steps", "1500")),
    ("cartpole-tabular", "", 1, ("--episodes", "50")),
    ("cartpole-dqn", "", 1, ("--steps", "1000")),
    ("cartpole-dqn-tuned", "", 1, ("--steps", "1000")),
]


def jobs(runs_dir: Path, quick: bool = False, experiments: list[str] | None = None) -> list[Job]:
    """The suite's jobs, each writing to ``runs_dir/EXPERIMENT[/VARIANT]/seedS``."""
    out = []
    for experiment, variant, seeds, args in (QUICK if quick else FULL):
        if experiments and experiment not in experiments:
            continue
        base = runs_dir / experiment / variant if variant else runs_dir / experiment
        out += [Job(experiment, seed, base / f"seed{seed}", tuple(args)) for seed in range(seeds)]
    return out
