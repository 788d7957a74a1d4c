"""Read run directories into :class:`Run` objects and one tidy row table.

Run directories are found by their manifest anywhere under ``runs/``. A directory that
cannot be read is named with the reason and skipped; each experiment turns its runs into
rows through its :class:`~reproduce.contract.Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reproduce import experiments
from reproduce.contract import Summary
from reproduce.errors import ConfigError
from reproduce.runs import RunDir, read_json

# The optimum family's vocabulary (reproduce.report.tables), read from a summary's extra fields too.
OPTIMUM_KEYS = ("mean_return", "expected_return", "optimal_return", "regret", "policy", "max_abs_q_error",
                "solved_during_training", "steps", "episodes")


@dataclass
class Run:
    """One run directory, read."""

    path: Path
    experiment: str
    seed: int
    config: dict
    manifest: dict
    summary: Summary
    files: dict[str, pd.DataFrame] = field(default_factory=dict)
    """every CSV file at the top of the run directory, read (``episodes.csv`` through its Monitor reader)"""


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
              int(manifest.get("seed", config.get("seed", -1))), config, manifest,
              Summary.from_json(read_json(rd.path / RunDir.SUMMARY)))
    for path in sorted(rd.path.glob("*.csv")):
        if path.name == RunDir.EPISODES or not path.is_file():
            continue
        try:
            run.files[path.name] = pd.read_csv(path)
        except (ValueError, pd.errors.ParserError) as exc:
            raise ConfigError(f"malformed {path.name}: {exc}") from None
    if (rd.path / RunDir.EPISODES).exists():
        try:
            run.files[RunDir.EPISODES] = load_rewards(rd.path / RunDir.EPISODES)
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


def headline_row(run: Run, extra: tuple[str, ...] = ()) -> list[dict]:
    """The default: one row per run with the summary's standard fields, the optimum family's and
    ``extra`` (the keys of the experiment's declared columns)."""
    data = run.summary.to_json()
    return [{k: data[k] for k in dict.fromkeys((*Summary.STANDARD, *OPTIMUM_KEYS, *extra)) if k in data}]


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
        keys = tuple(column.key for column in report.columns)
        for row in (report.rows(run) if report.rows else headline_row(run, keys)):
            env = run.summary.get("env_id") or run.config.get("env_id") or run.config.get("env")
            rows.append({"experiment": run.experiment, "seed": run.seed, "env_id": env,
                         "run_dir": _shown(run.path), "agent": report.agent, **row})
    return pd.DataFrame(rows)
