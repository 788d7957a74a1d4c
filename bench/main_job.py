"""Where the main job's time goes: ``reproduce all``'s runs per experiment, with shares.

Reads a results directory written by ``reproduce all`` (default ``results/``): each run's
process wall time, start-up included (the sweeps' ``sweep_summary.csv``), and its in-run time
(``summary.json``'s ``wall_time_s``). On warm workers (the default since issue 24) a job's recorded
wall time includes the start-up of the worker it waited for, so every worker's start-up is still
counted, once, in "start-up and overhead"; ``--fresh-processes`` runs a process per job, as before.
Prints per-experiment totals and shares, the start-up and overhead share, and what a longest-first
schedule of these jobs on ``--workers`` workers takes (with the lower bound: total process time /
workers).

    python bench/main_job.py                          # analyse results/
    python bench/main_job.py --run /tmp/fresh_results  # time `reproduce all` from an empty directory first
    python bench/main_job.py --run /tmp/r --fresh-processes  # the same, a fresh process per run

With ``--run DIR`` the wall time of the whole ``reproduce all --results DIR`` (runs and report)
is measured here, from a state where no run is complete; DIR must not hold any runs yet.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_WALL_S = 1200.0  # issue 24: `reproduce all` <= 20 minutes wall on 2 cores
TARGET_PROCESS_S = 2400.0  # ... and <= 2,400 process-seconds


def job_walls(runs: Path) -> dict[Path, float]:
    """Process wall time of each completed run directory, from every sweep summary under ``runs``."""
    import pandas as pd

    walls = {}
    for summary in sorted(runs.rglob("sweep_summary.csv")):
        frame = pd.read_csv(summary)
        for row in frame[frame.status == "complete"].itertuples():
            out = Path(row.out)
            walls[(out if out.is_absolute() else Path.cwd() / out).resolve()] = float(row.wall_time_s)
    return walls


def run_rows(results: Path) -> list[dict]:
    """One row per run directory: experiment, variant, seed, process and in-run seconds."""
    runs = results / "runs"
    walls = job_walls(runs)
    rows = []
    for summary in sorted(runs.rglob("summary.json")):
        run_dir = summary.parent
        manifest = json.loads((run_dir / "manifest.json").read_text())
        variant = run_dir.parent.relative_to(runs / manifest["experiment"]).as_posix()
        rows.append({"experiment": manifest["experiment"], "variant": "" if variant == "." else variant,
                     "seed": manifest["seed"], "process_s": walls.get(run_dir.resolve()),
                     "run_s": json.loads(summary.read_text()).get("wall_time_s")})
    return rows


def longest_first(durations: list[float], workers: int) -> float:
    """Wall time of running ``durations`` longest first on ``workers`` workers."""
    finish = [0.0] * workers
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(finish, finish[0] + d)
    return max(finish)


def report(results: Path, workers: int, measured_wall: float | None = None, before: Path | None = None,
           csv: Path | None = None) -> str:
    """The per-experiment table and totals; ``before``: a CSV this wrote earlier, compared per experiment."""
    import pandas as pd

    frame = pd.DataFrame(run_rows(results))
    if frame.empty:
        raise SystemExit(f"error: no runs under {results / 'runs'}; run `reproduce all --results {results}` "
                         f"first, or pass --run DIR")
    missing = frame.process_s.isna().sum()
    frame["process_s"] = frame.process_s.fillna(frame.run_s)  # runs made outside a sweep: in-run time only
    frame["overhead_s"] = frame.process_s - frame.run_s
    table = frame.groupby("experiment").agg(runs=("seed", "size"), process_s=("process_s", "sum"),
                                            run_s=("run_s", "sum"), overhead_s=("overhead_s", "sum"),
                                            longest_s=("process_s", "max"))
    total = table.process_s.sum()
    table["share_%"] = 100 * table.process_s / total
    table = table.sort_values("process_s", ascending=False)
    if csv is not None:
        table.round(1).to_csv(csv)
    if before is not None:
        old = pd.read_csv(before, index_col="experiment").process_s
        table["before_s"] = old.reindex(table.index)
        table["change_%"] = 100 * (table.process_s / table.before_s - 1)
    scheduled = longest_first(list(frame.process_s), workers)
    overhead = frame.overhead_s.sum()
    lines = [table.round(1).to_markdown(), "",
             f"{len(frame)} runs, {total:.0f} process-seconds ({total / 60:.1f} min); in-run "
             f"{frame.run_s.sum():.0f} s, start-up and overhead {overhead:.0f} s "
             f"({100 * overhead / total:.1f}%, median {frame.overhead_s.median():.1f} s per run)",
             f"longest first on {workers} workers: {scheduled:.0f} s ({scheduled / 60:.1f} min); lower bound "
             f"total / workers = {total / workers:.0f} s",
             f"budget (issue 24): {total:.0f} of {TARGET_PROCESS_S:.0f} process-seconds, "
             f"{TARGET_PROCESS_S - total:+.0f} s left for new experiments"]
    if before is not None:
        old_total = table.before_s.sum()
        lines.append(f"before ({before.name}, the experiments in both): {old_total:.0f} process-seconds; now "
                     f"{table.process_s[table.before_s.notna()].sum():.0f}")
    if missing:
        lines.append(f"{missing} runs had no sweep record; their in-run time stands for their process time")
    if measured_wall is not None:
        verdict = "meets" if measured_wall <= TARGET_WALL_S else "MISSES"
        lines.append(f"measured: `reproduce all` from no complete run took {measured_wall:.0f} s "
                     f"({measured_wall / 60:.1f} min) wall, report included: {verdict} the "
                     f"{TARGET_WALL_S / 60:.0f}-minute target")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, default=REPO / "results",
                        help="results directory written by `reproduce all` (default results/)")
    parser.add_argument("--run", type=Path, metavar="DIR",
                        help="first time `reproduce all --results DIR` (DIR must hold no runs yet)")
    parser.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    parser.add_argument("--fresh-processes", action="store_true",
                        help="with --run: a fresh process per run instead of warm workers")
    parser.add_argument("--before", type=Path, help="a per-experiment CSV from --csv, to compare")
    parser.add_argument("--csv", type=Path, help="also write the per-experiment table here")
    args = parser.parse_args(argv)
    measured = None
    if args.run is not None:
        if (args.run / "runs").exists() and any((args.run / "runs").rglob("summary.json")):
            parser.error(f"--run expects a directory without runs, got {args.run} which holds some; "
                         f"pick a new directory")
        start = time.perf_counter()
        env = {**os.environ, "REPRODUCE_FRESH_PROCESSES": "1" if args.fresh_processes else "0"}
        done = subprocess.run([sys.executable, "-m", "reproduce", "all", "--results", str(args.run),
                               "--workers", str(args.workers)], cwd=REPO, stdin=subprocess.DEVNULL, env=env)
        measured = time.perf_counter() - start
        if done.returncode:
            print(f"error: reproduce all exited {done.returncode}", file=sys.stderr)
            return done.returncode
        args.results = args.run
    print(f"$ python bench/main_job.py {' '.join(argv if argv is not None else sys.argv[1:])}   "
          f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(report(args.results, args.workers, measured, args.before, args.csv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
