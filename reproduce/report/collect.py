"""Read run directories into :class:`Run` objects and one tidy row table.

Run directories are found by their manifest anywhere under ``runs/``. A directory that
cannot be read is named with the reason and skipped; each experiment turns its runs into
rows through its :class:`~reproduce.experiments.Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reproduce import experiments
from reproduce.errors import ConfigError
from reproduce.runs import RunDir, read_json

TABLES = (RunDir.ROUNDS, RunDir.EVAL, RunDir.Q_TABLE, RunDir.Q_TABLES, RunDir.EVAL_CURVE, RunDir.UP_TIME,
          RunDir.WIN_COUNTS)
HEADLINE = ("eval_mean", "eval_ci_low", "eval_ci_high", "solved", "steps_to_solve", "time_to_solve_s",
            "mean_return", "expected_return", "regret", "policy", "max_abs_q_error", "env_id", "steps",
            "episodes", "eval_episodes", "env_steps", "play_accuracy", "exact_win_rate", "optimal_win_rate",
            "max_abs_q_pi_error")


@dataclass
class Run:
    """One run directory, read."""

    path: Path
    experiment: str
    seed: int
    config: dict
    manifest: dict
    summary: dict
    files: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass
class Collection:
    runs: list[Run]
    problems: list[tuple[Path, str]]


def read_run(path: Path) -> Run:
    """Read one run directory; raises ``ConfigError`` with the reason if it is unusable."""
    from callbacks.monitor import RewardLogError, load_rewards

    rd = RunDir(path)
    manifest = read_json(rd.manifest_json)
    if manifest.get("status") != "complete":
        raise ConfigError(f"run not complete (status {manifest.get('status')!r})")
    config = rd.read_config()
    run = Run(rd.path, manifest.get("experiment") or config.get("experiment", "?"),
              int(manifest.get("seed", config.get("seed", -1))), config, manifest, read_json(rd.summary))
    for name in TABLES:
        if (rd.path / name).exists():
            try:
                run.files[name] = pd.read_csv(rd.path / name)
            except (ValueError, pd.errors.ParserError) as exc:
                raise ConfigError(f"malformed {name}: {exc}") from None
    if rd.episodes.exists():
        try:
            run.files[RunDir.EPISODES] = load_rewards(rd.episodes)
        except RewardLogError as exc:
            raise ConfigError(str(exc)) from None
    return run


def collect(runs_dir: Path) -> Collection:
    runs, problems = [], []
    for manifest in sorted(Path(runs_dir).rglob(RunDir.MANIFEST)):
        try:
            runs.append(read_run(manifest.parent))
        except ConfigError as exc:
            problems.append((manifest.parent, str(exc)))
    return Collection(runs, problems)


def headline_row(run: Run) -> list[dict]:
    """The default: one row per run with the summary's headline numbers."""
    return [{"wall_time_s": run.summary.get("wall_time_s"),
             **{k: run.summary[k] for k in HEADLINE if k in run.summary}}]


def _shown(path: Path) -> str:
    """A run directory as the report shows it: relative to the working directory when inside it."""
    path, here = Path(path).resolve(), Path.cwd().resolve()
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)


def tidy(collection: Collection) -> pd.DataFrame:
    """One row per (experiment, agent, seed) with the numbers the report quotes."""
    rows = []
    for run in collection.runs:
        try:
            report = experiments.get(run.experiment).report
        except ConfigError:
            collection.problems.append((run.path, f"unknown experiment {run.experiment!r}"))
            continue
        for row in (report.rows or headline_row)(run):
            env = run.summary.get("env_id") or run.config.get("env_id") or run.config.get("env")
            rows.append({"experiment": run.experiment, "seed": run.seed, "env_id": env,
                         "run_dir": _shown(run.path), "agent": report.agent, **row})
    return pd.DataFrame(rows)
