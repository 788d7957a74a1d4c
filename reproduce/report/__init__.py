"""``reproduce report``: run directories -> tidy CSVs, ``REPORT.md`` and plots.

:mod:`~reproduce.report.collect` reads run directories and asks each experiment for its rows,
:mod:`~reproduce.report.published` holds every published number and the comparisons with it,
:mod:`~reproduce.report.tables` the aggregate tables, :mod:`~reproduce.report.plots` the
figures and :mod:`~reproduce.report.markdown` the page.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reproduce import experiments
from reproduce.errors import ConfigError
from reproduce.report.collect import collect, tidy
from reproduce.report.markdown import render_markdown
from reproduce.report.plots import (
    plot_eval_curves,
    plot_performance_profile,
    plot_q_heatmaps,
    plot_training_curves,
    plot_up_time,
    plot_win_counts,
    plot_win_shares,
)
from reproduce.report.tables import cartpole_table, nchain_table, other_table
from reproduce.runs import RunDir, atomic_write, write_csv


class NoRunsError(ConfigError):
    """The results directory holds no run directories (CLI exit code 2)."""


def published_vs_reproduced(collection) -> pd.DataFrame:
    """Every experiment's comparison rows with what its original published."""
    rows = []
    for name in experiments.names():
        compare = experiments.get(name).report.published
        runs = [r for r in collection.runs if r.experiment == name]
        if compare is not None and runs:
            rows += compare(runs)
    return pd.DataFrame(rows)


def build(results_dir: str | Path = "results", expected: list[str] | None = None,
          include: list[Path] = ()) -> dict:
    """Build the report from ``results_dir/runs`` (and the run directories under each ``include``,
    e.g. the Stable-Baselines3 reference runs); returns what was written and what was wrong."""
    results_dir = Path(results_dir)
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
    table = tidy(collection)
    present = set(table.experiment) if len(table) else set()
    wanted = expected or [name for name in experiments.names() if name not in experiments.OPTIONAL]
    missing = [name for name in wanted if name not in present]
    published = published_vs_reproduced(collection)
    plots_dir = results_dir / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    for old in plots_dir.glob("*.png"):  # a plot of runs no longer present must not linger
        old.unlink()
    plots = plot_eval_curves(collection.runs, plots_dir)
    figures = (plot_performance_profile, plot_q_heatmaps, plot_win_shares, plot_up_time, plot_win_counts)
    plots += [p for p in (figure(collection.runs, plots_dir) for figure in figures) if p is not None]
    plots += plot_training_curves(collection.runs, plots_dir)
    write_csv(results_dir / "summary_runs.csv", table)
    write_csv(results_dir / "summary_published.csv", published)
    write_csv(results_dir / "summary_nchain.csv", nchain_table(table))
    write_csv(results_dir / "summary_cartpole.csv", cartpole_table(table))
    write_csv(results_dir / "summary_other.csv", other_table(table))
    with atomic_write(results_dir / "REPORT.md") as handle:
        handle.write(render_markdown(collection, table, published, plots, missing, results_dir))
    return {"runs": len(collection.runs), "problems": collection.problems, "missing": missing,
            "plots": [path for path, _ in plots], "report": results_dir / "REPORT.md"}
