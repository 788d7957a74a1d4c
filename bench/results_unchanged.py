"""Are two `reproduce all` outputs the same, timing aside? Per experiment, from their ``summary_runs.csv``.

Issue 24's "results unchanged": every summary row's non-timing values bit-identical before and after a
speed change, on the same machine, for the experiments whose computation did not change. This compares
two report directories (``results/`` of one revision and of another), row by row (experiment, variant
directory, seed), every column but the timing ones, and prints per experiment: identical, or which
columns differ and by how much at most. Rows in only one side are listed too.

    python bench/results_unchanged.py OLD_RESULTS_DIR NEW_RESULTS_DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

TIMING = {"wall_time_s", "train_time_s", "time_to_solve_s", "seconds", "jit_load_s", "ms_per_step",
          "us_per_step", "ms_per_train_step", "run_dir"}  # run_dir: where each side was written


def load(results: Path):
    import pandas as pd

    frame = pd.read_csv(results / "summary_runs.csv")
    # the run directory below runs/ names experiment, variant and seed whatever the results root was
    frame["key"] = frame.run_dir.str.replace(r"^.*?/runs/", "", regex=True)
    frame["key"] += "#" + frame.groupby("key").cumcount().astype(str)  # some runs have a row per method
    return frame.set_index("key")


def compare(old: Path, new: Path) -> list[str]:
    import numpy as np

    a, b = load(old), load(new)
    lines = []
    for key in sorted(set(a.index) ^ set(b.index)):
        lines.append(f"{key}: only in {'old' if key in a.index else 'new'}")
    common = sorted(set(a.index) & set(b.index))
    columns = [c for c in a.columns if c in b.columns and c not in TIMING]
    by_experiment: dict[str, dict[str, float]] = {}
    for key in common:
        experiment = a.at[key, "experiment"]
        diffs = by_experiment.setdefault(experiment, {})
        for column in columns:
            x, y = a.at[key, column], b.at[key, column]
            if (x is y) or (isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y)):
                continue
            if x == y:
                continue
            try:
                gap = abs(float(x) - float(y))
            except (TypeError, ValueError):
                gap = float("nan")
            diffs[column] = max(diffs.get(column, 0.0), gap) if not np.isnan(gap) else gap
    for experiment, diffs in sorted(by_experiment.items()):
        if not diffs:
            lines.append(f"{experiment}: identical")
        else:
            shown = ", ".join(f"{c} (max |diff| {g:.4g})" for c, g in sorted(diffs.items()))
            lines.append(f"{experiment}: DIFFERS in {shown}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    print("\n".join(compare(args.old, args.new)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
