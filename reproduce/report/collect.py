"""Read run directories into :class:`Run` objects and one tidy row table.

Run directories are found by their manifest anywhere under ``runs/`` (symlinks are not followed, and
only regular files are read). A directory that cannot be read, or whose values are malformed, is named
with the reason (the file and field) and skipped; each experiment turns its runs into rows through its
:class:`~reproduce.contract.Report`.
"""

from __future__ import annotations

import os
import stat
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


TEXT = "env_id", "policy"
FLAGS = "solved", "solved_during_training"


def check_values(name: str, data: dict, numeric: tuple[str, ...]) -> None:
    """The fields the report computes with must have their types; else a ConfigError naming the field."""
    for key, value in data.items():
        if value is None:
            continue
        if key in FLAGS:
            ok, expects = isinstance(value, bool), "true or false"
        elif key in TEXT:
            ok, expects = isinstance(value, str), "a string"
        elif key in numeric or key == "seed":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and (key != "seed" or isinstance(value, int))
            expects = "an integer" if key == "seed" else "a number"
        else:
            continue
        if not ok:
            raise ConfigError(f"malformed {name}: field {key!r} expects {expects}, got {value!r}")


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def read_run(path: Path, numeric: tuple[str, ...] = ()) -> Run:
    """Read one run directory; raises ``ConfigError`` with the reason if it is unusable (not complete, a
    file that is not a regular one, a malformed value: ``numeric`` names the summary fields that must be
    numbers besides the standard ones)."""
    from callbacks.monitor import RewardLogError, load_rewards

    rd = RunDir(path)
    for entry in rd.path.iterdir():
        if entry.suffix in (".csv", ".json") and not _regular(entry):
            raise ConfigError(f"{entry.name} is not a regular file (a symlink, FIFO or directory)")
    manifest = read_json(rd.manifest_json)
    if manifest.get("status") != "complete":
        raise ConfigError(f"run not complete (status {manifest.get('status')!r})")
    config = rd.read_config()
    summary = read_json(rd.path / RunDir.SUMMARY)
    standard = tuple(k for k in Summary.STANDARD if k not in TEXT + FLAGS)
    check_values(RunDir.MANIFEST, {"seed": manifest.get("seed")}, ())
    check_values(RunDir.CONFIG, {"seed": config.get("seed")}, ())
    check_values(RunDir.SUMMARY, summary, standard + OPTIMUM_KEYS + numeric)
    run = Run(rd.path, manifest.get("experiment") or config.get("experiment", "?"),
              int(manifest.get("seed", config.get("seed", -1))), config, manifest, Summary.from_json(summary))
    for path in sorted(rd.path.glob("*.csv")):
        if path.name == RunDir.EPISODES or not path.is_file():
            continue
        try:
            run.files[path.name] = pd.read_csv(path)
        except (ValueError, pd.errors.ParserError) as exc:
            raise ConfigError(f"malformed {path.name}: {exc}") from None
    episodes = rd.path / RunDir.EPISODES
    if episodes.exists():
        text = episodes.read_bytes()
        if text and not text.endswith(b"\n"):
            raise ConfigError(f"{RunDir.EPISODES} is truncated (its last line is cut off)")
        try:
            run.files[RunDir.EPISODES] = load_rewards(episodes)
        except RewardLogError as exc:
            raise ConfigError(str(exc)) from None
        expected = summary.get("train_episodes")
        if isinstance(expected, int) and expected != len(run.files[RunDir.EPISODES]):
            raise ConfigError(f"{RunDir.EPISODES} has {len(run.files[RunDir.EPISODES])} episodes, but "
                              f"summary.json says train_episodes {expected} (truncated?)")
    return run


def manifests(runs_dir: Path) -> list[Path]:
    """Every ``manifest.json`` under ``runs_dir``, without following symlinks out of it."""
    found = []
    for root, _, files in os.walk(runs_dir, followlinks=False):
        if RunDir.MANIFEST in files:
            found.append(Path(root) / RunDir.MANIFEST)
    return sorted(found)


def _numeric(experiment: str) -> tuple[str, ...]:
    try:
        return tuple(column.key for column in experiments.get(experiment).report.columns)
    except ConfigError:
        return ()


def collect(runs_dir: Path) -> Collection:
    runs, problems = [], []
    for manifest in manifests(Path(runs_dir)):
        try:
            try:
                name = read_json(manifest).get("experiment", "")
            except ConfigError:
                name = ""
            runs.append(read_run(manifest.parent, _numeric(name) if isinstance(name, str) else ()))
        except ConfigError as exc:
            problems.append((manifest.parent, str(exc)))
        except (OSError, ValueError) as exc:
            problems.append((manifest.parent, f"unreadable: {exc}"))
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
