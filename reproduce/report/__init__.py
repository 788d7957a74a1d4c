"""``reproduce report``: run directories -> tidy CSVs, ``REPORT.md`` and plots.

The report only assembles what experiments declare on their :class:`~reproduce.contract.Report`:
:mod:`~reproduce.report.collect` reads run directories and asks each experiment for its rows,
:mod:`~reproduce.report.tables` builds the table families, :mod:`~reproduce.report.figures` draws the
figures every experiment gets, and :mod:`~reproduce.report.markdown` writes the page. No experiment is
named in this package.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reproduce import experiments
from reproduce.contract import TABLES
from reproduce.errors import ConfigError
from reproduce.report.collect import collect, tidy
from reproduce.report.figures import GENERIC
from reproduce.report.markdown import render_markdown
from reproduce.report.tables import family_table
from reproduce.runs import RunDir, atomic_write, write_csv

RUNS_CSV = "summary_runs.csv"
PUBLISHED_CSV = "summary_published.csv"
REPORT_MD = "REPORT.md"
PLOTS = "plots"


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
    if not runs_dir.is_dir() or not any(runs_dir.rglob(RunDir.MANIFEST)):
        raise NoRunsError(f"no run directories under {runs_dir}; run `reproduce all` (or `reproduce run "
                          f"NAME`) first, or pass --results DIR")
    for extra in include:
        if not Path(extra).is_dir():
            raise NoRunsError(f"--include expects a directory of run directories, got {extra}")
    collection = collect(runs_dir)
    for extra in include:
        more = collect(Path(extra))
        collection.runs += more.runs
        collection.problems += more.problems
    reports = declared(experiments.names())
    table = tidy(collection)
    present = set(table.experiment) if len(table) else set()
    wanted = expected or [name for name in experiments.names() if name not in experiments.OPTIONAL]
    missing = [name for name in wanted if name not in present]
    published = published_vs_reproduced(collection, reports)
    families = {family: family_table(table, family, reports) for family in TABLES}
    plots_dir = results_dir / PLOTS
    plots_dir.mkdir(parents=True, exist_ok=True)
    for old in plots_dir.glob("*.png"):  # a plot of runs no longer present must not linger
        old.unlink()
    plots = draw(collection, reports, plots_dir)
    write_csv(results_dir / RUNS_CSV, table)
    write_csv(results_dir / PUBLISHED_CSV, published)
    for family, frame in families.items():
        write_csv(results_dir / family_csv(family), frame)
    differences = {name: experiments.get(name).differences for name in experiments.names()
                   if name in present and experiments.get(name).differences}
    with atomic_write(results_dir / REPORT_MD) as handle:
        handle.write(render_markdown(collection, table, published, families, reports, plots, missing,
                                     results_dir, differences, quick=quick))
    return {"runs": len(collection.runs), "problems": collection.problems, "missing": missing,
            "plots": [path for path, _ in plots], "report": results_dir / REPORT_MD}
