"""``reproduce report``: run directories -> tidy CSVs, ``REPORT.md`` and plots.

The report only assembles what experiments declare on their :class:`~reproduce.contract.Report`:
:mod:`~reproduce.report.collect` reads run directories and asks each experiment for its rows,
:mod:`~reproduce.report.tables` builds the table families, :mod:`~reproduce.report.figures` draws the
figures every experiment gets, and :mod:`~reproduce.report.markdown` writes the page. No experiment is
named in this package.

The report cannot half-write: it is built in a temporary directory inside the results directory and
swapped in at the end (a failure leaves the previous report as it was); it removes only files it wrote
itself (their list is ``.report_files.json``) and writes nothing through a symlink out of the results tree.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pandas as pd

from reproduce import experiments
from reproduce.contract import TABLES
from reproduce.errors import ConfigError
from reproduce.report.collect import collect, manifests, tidy
from reproduce.report.figures import GENERIC
from reproduce.report.markdown import render_markdown
from reproduce.report.tables import family_table
from reproduce.runs import atomic_write, write_csv, write_json

RUNS_CSV = "summary_runs.csv"
PUBLISHED_CSV = "summary_published.csv"
REPORT_MD = "REPORT.md"
PLOTS = "plots"
WRITTEN = ".report_files.json"  # the files the last report wrote: the only ones a report removes


class NoRunsError(ConfigError):
    """The results directory holds no run directories (CLI exit code 2)."""


def family_csv(family: str) -> str:
    return f"summary_{family}.csv"


def declared(names: list[str]) -> dict:
    """Each registered experiment's :class:`~reproduce.contract.Report`, in registry order."""
    return {name: experiments.get(name).report for name in names}


def published_vs_reproduced(collection, reports: dict) -> pd.DataFrame:
    """Every experiment's comparison rows with what its original published."""
    rows = []
    for name, report in reports.items():
        runs = [r for r in collection.runs if r.experiment == name]
        if report.published is not None and runs:
            rows += report.published(runs)
    return pd.DataFrame(rows)


def draw(collection, reports: dict, plots_dir: Path) -> list[tuple[Path, str]]:
    """The generic figures, then each experiment's own (a figure declared by several experiments once)."""
    present = {r.experiment for r in collection.runs}
    figures = list(GENERIC)
    for name, report in reports.items():
        figures += [f for f in report.figures if name in present and f not in figures]
    return [item for figure in figures for item in figure(collection.runs, plots_dir)]


def build(results_dir: str | Path = "results", expected: list[str] | None = None,
          include: list[Path] = (), quick: bool | None = None) -> dict:
    """Build the report from ``results_dir/runs`` (and the run directories under each ``include``,
    e.g. the Stable-Baselines3 reference runs); returns what was written and what was wrong.
    ``quick`` (default: the directory is ``reproduce all --quick``'s ``RESULTS/quick``) marks it a
    smoke run."""
    results_dir = Path(results_dir)
    quick = results_dir.name == "quick" if quick is None else quick
    runs_dir = results_dir / "runs"
    if not runs_dir.is_dir() or not manifests(runs_dir):
        raise NoRunsError(f"no run directories under {runs_dir}; run `reproduce all` (or `reproduce run "
                          f"NAME`) first, or pass --results DIR")
    for extra in include:
        if not Path(extra).is_dir():
            raise NoRunsError(f"--include expects a directory of run directories, got {extra}")
    plots_dir = results_dir / PLOTS
    if plots_dir.is_symlink() or (os.path.lexists(plots_dir) and not plots_dir.is_dir()):
        raise ConfigError(f"{plots_dir} is not a directory (a symlink or a file); the report writes only "
                          f"inside {results_dir}: replace it with a directory")
    collection = collect(runs_dir)
    for extra in include:
        more = collect(Path(extra))
        collection.runs += more.runs
        collection.problems += more.problems
    if not collection.runs:
        problems = collection.problems
        first = f"; e.g. {problems[0][0]}: {problems[0][1]}" if problems else ""
        raise NoRunsError(f"no complete run under {runs_dir} ({len(collection.problems)} run directories "
                          f"skipped{first}); finish a run (or `reproduce run NAME --resume RUN_DIR`) first")
    reports = declared(experiments.names())
    table = tidy(collection)
    present = set(table.experiment) if len(table) else set()
    wanted = expected or [name for name in experiments.names() if name not in experiments.OPTIONAL]
    missing = [name for name in wanted if name not in present]
    published = published_vs_reproduced(collection, reports)
    families = {family: family_table(table, family, reports) for family in TABLES}
    differences = {name: experiments.get(name).differences for name in experiments.names()
                   if name in present and experiments.get(name).differences}
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=results_dir))
    try:
        (staging / PLOTS).mkdir()
        plots = draw(collection, reports, staging / PLOTS)
        names = [RUNS_CSV, PUBLISHED_CSV]
        write_csv(staging / RUNS_CSV, table)
        write_csv(staging / PUBLISHED_CSV, published)
        for family, frame in families.items():
            write_csv(staging / family_csv(family), frame)
            names.append(family_csv(family))
        with atomic_write(staging / REPORT_MD) as handle:
            handle.write(render_markdown(collection, table, published, families, reports, plots, missing,
                                         results_dir, differences, quick=quick))
        names += [f"{PLOTS}/{path.name}" for path, _ in plots] + [REPORT_MD]  # the page last
        swap_in(staging, results_dir, names)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"runs": len(collection.runs), "problems": collection.problems, "missing": missing,
            "plots": [plots_dir / path.name for path, _ in plots], "report": results_dir / REPORT_MD}


def swap_in(staging: Path, results_dir: Path, names: list[str]) -> None:
    """Move the built files into place (each an atomic rename), then remove what the previous report
    wrote and this one did not (regular files only, inside the results tree), and record the new list."""
    (results_dir / PLOTS).mkdir(exist_ok=True)
    for name in names:
        os.replace(staging / name, results_dir / name)
    for name in set(previous_files(results_dir)) - set(names):
        path = results_dir / name
        try:
            if stat.S_ISREG(os.lstat(path).st_mode) and path.resolve().is_relative_to(results_dir.resolve()):
                path.unlink()
        except OSError:
            continue
    write_json(results_dir / WRITTEN, {"files": names})


def previous_files(results_dir: Path) -> list[str]:
    """The files the previous report wrote (relative names inside the results directory)."""
    try:
        names = json.loads((results_dir / WRITTEN).read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [name for name in names
            if isinstance(name, str) and not Path(name).is_absolute() and ".." not in Path(name).parts]
