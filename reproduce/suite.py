"""The reproduction suite behind ``reproduce all``: which experiments, how many seeds, in what order.

Every experiment runs with its published settings; seed counts are what the report's intervals
need while the suite stays practical on a 2-core machine: the CartPole agents whose solve rates the
report compares (tabular, linear, keras-rl's example DQN, the tuned DQN) run 10 seeds, so one
flipped seed moves a rate by a tenth and its Wilson interval says so. Jobs run longest first (the list is in
that order) so two workers finish together. ``--quick`` is a smoke version of the same suite.
"""

from __future__ import annotations

from pathlib import Path

from reproduce.sweep import Job

# (experiment, variant name or "", seeds, extra CLI args), longest runs first
FULL = [
    ("blob-dqn", "", 2, ("--episodes", "45")),  # the first 45 of 20,000 episodes: 63 + 39 process-s
    ("pendulum-ddpg", "", 2, ()),
    ("pendulum-naf", "", 2, ()),
    ("cartpole-duel-dqn", "", 3, ()),
    ("cartpole-dqn", "", 10, ()),
    ("cartpole-cem", "", 2, ()),
    ("blob-dqn-kerasrl", "", 1, ("--episodes", "30")),  # the first 30 of 20,000 episodes: ~50 process-s
    ("nchain-dqn", "", 3, ()),
    ("nchain-sarsa", "", 3, ()),
    ("cartpole-dotmask-kerasrl", "", 5, ()),
    ("nchain-keras", "", 5, ()),
    ("catch-dqn", "", 5, ()),
    ("snake-qlearning4k", "", 2, ("--epochs", "500")),
    ("snake-dqn", "", 2, ()),
    ("cartpole-a3c", "", 5, ("--train-cap", "2000")),  # unwrapped: bound a balancing run
    ("cartpole-a3c", "per-action-advantage", 3, ("--no-quirks", "--train-cap", "2000")),
    ("cartpole-a3c", "2-workers", 2, ("--workers", "2", "--train-cap", "2000")),
    ("cartpole-dqn-tuned", "", 10, ()),
    ("cartpole-dotmask", "", 5, ()),
    ("cartpole-dotmask", "no-quirks", 5, ("--no-quirks",)),
    ("cartpole-sarsa", "", 3, ()),
    ("mountaincar-gj-dqn", "", 6, ()),
    ("cartpole-gj-dueling", "", 4, ()),
    ("cartpole-gj-dqn", "", 5, ()),
    ("cartpole-reinforce", "", 5, ()),
    ("cartpole-gj-linear", "", 10, ()),
    ("mountaincar-gj-linear", "", 6, ()),
    ("catch-qlearning4k", "", 5, ()),
    ("cartpole-linear", "", 10, ()),
    ("cartpole-tabular", "", 10, ()),
    ("nchain-tabular", "tutorial", 10, ("--rule", "tutorial")),
    ("nchain-tabular", "textbook", 10, ("--rule", "textbook")),
    ("blob-qtable", "", 1, ()),
    ("dungeon-kerasrl", "", 2, ()),  # 10,000 steps, as dungeon-deepgambler's 10000: ~9 process-s a seed
    ("dungeon-deepgambler", "10000", 1, ("--iterations", "10000")),
    ("dungeon-deepgambler", "10000-no-quirks", 1, ("--iterations", "10000", "--no-quirks")),
    ("dungeon-deepgambler", "2020", 1, ("--iterations", "10000", "--variant", "2020")),
    ("dungeon-deepgambler", "2000", 1, ("--iterations", "2000")),
    ("dungeon-qlearning", "10000", 1, ("--iterations", "10000")),
    ("dungeon-qlearning", "2000", 1, ("--iterations", "2000")),
    ("dungeon-qlearning", "2020", 1, ("--iterations", "2000", "--variant", "2020")),
]
QUICK = [
    ("nchain-tabular", "tutorial", 2, ("--rule", "tutorial", "--rounds", "10", "--episodes", "50")),
    ("nchain-tabular", "textbook", 2, ("--rule", "textbook", "--rounds", "10", "--episodes", "50")),
    ("nchain-keras", "", 2, ("--episodes", "5")),
    ("dungeon-qlearning", "", 1, ("--repeats", "3")),
    ("dungeon-deepgambler", "", 1, ("--repeats", "2", "--iterations", "500")),
    ("dungeon-kerasrl", "", 1, ("--steps", "1000", "--eval-episodes", "2")),
    ("blob-qtable", "", 1, ("--episodes", "3000", "--repeats", "2")),
    ("blob-dqn", "", 1, ("--episodes", "16", "--eval-episodes", "3")),
    ("blob-dqn-kerasrl", "", 1, ("--episodes", "3", "--eval-episodes", "2")),
    ("nchain-dqn", "", 1, ("--steps", "1500")),
    ("nchain-sarsa", "", 1, ("--steps", "1500", "--eval-episodes", "2")),
    ("cartpole-tabular", "", 1, ("--episodes", "50")),
    ("cartpole-linear", "", 1, ("--episodes", "10", "--eval-episodes", "5")),
    ("cartpole-dqn", "", 1, ("--steps", "1000")),
    ("cartpole-dqn-tuned", "", 1, ("--steps", "1000")),
    ("cartpole-sarsa", "", 1, ("--steps", "500", "--eval-episodes", "5")),
    ("cartpole-cem", "", 1, ("--steps", "500", "--eval-episodes", "5")),
    ("pendulum-ddpg", "", 1, ("--steps", "400", "--eval-episodes", "2")),
    ("pendulum-naf", "", 1, ("--steps", "400", "--eval-episodes", "2")),
    ("cartpole-dotmask", "", 1, ("--steps", "6000", "--eval-episodes", "5")),
    ("catch-qlearning4k", "", 1, ("--epochs", "50", "--games", "10")),
    ("cartpole-reinforce", "", 1, ("--episodes", "20", "--eval-episodes", "5")),
    ("cartpole-gj-dqn", "", 1, ("--episodes", "10", "--eval-episodes", "5")),
    ("cartpole-gj-dueling", "", 1, ("--episodes", "10", "--eval-episodes", "5")),
    ("cartpole-gj-linear", "", 1, ("--episodes", "20", "--eval-episodes", "5")),
    ("mountaincar-gj-linear", "", 1, ("--episodes", "5", "--eval-episodes", "2")),
    ("mountaincar-gj-dqn", "", 1, ("--episodes", "3", "--eval-episodes", "2")),
    ("catch-dqn", "", 1, ("--steps", "450", "--eval-episodes", "5")),
    ("snake-qlearning4k", "", 1, ("--epochs", "20", "--games", "5", "--max-steps", "100")),
    ("snake-dqn", "", 1, ("--steps", "300", "--eval-episodes", "3")),
    ("cartpole-a3c", "", 1, ("--episodes", "20", "--eval-episodes", "5")),
    ("cartpole-duel-dqn", "", 1, ("--steps", "500", "--eval-episodes", "5")),
    ("cartpole-dotmask-kerasrl", "", 1, ("--steps", "500", "--eval-episodes", "5")),
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
