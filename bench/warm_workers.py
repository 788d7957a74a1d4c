"""Warm workers vs a fresh process per job: the same short jobs, side by side, in one run.

Each variant runs the same sweep (``--seeds`` seeds each of keras-rl's CartPole DQN, the NChain table
tournament and garethjns's REINFORCE, all at seconds-long budgets) on ``--workers`` local workers into
a new directory, in the order fresh, warm, warm, fresh (so a drift in the machine's load hits both
alike), and reports per variant: wall time of the sweep, process-seconds (user + system of every
process it started, from the children's rusage, worker start-up included), the sum of the jobs'
wall times as the sweep records them (a warm job's includes the worker start-up it waited for), of
which warm worker start-ups, the in-run time (``summary.json``'s ``wall_time_s``), and the overhead
per job besides worker start-ups ((job wall - start-ups - in-run) / jobs; for fresh processes their
start-up is in it). Jobs this short are almost all overhead; the last line projects both onto
``reproduce all`` (its runs and in-run seconds from ``bench/results/main_job.txt``): one start-up per
worker plus the measured overhead per job, against the in-run time.

    flock /tmp/bench.lock nice -n 5 python bench/warm_workers.py [--seeds 6] [--workers 2]

``--all-quick DIR`` instead runs ``reproduce all --quick --results DIR`` with a fresh process per run,
moves its runs aside, runs it again on warm workers into the same paths (run directories record
their paths), and reports both wall and process-seconds and which run directories differ in any file,
timing fields aside (:data:`TIMING`: JSON keys and CSV columns that hold seconds, every experiment's).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reproduce  # noqa: F401  (compat first)
from reproduce.sweep import Job, LocalExecutor, sweep

JOBS = {
    "cartpole-dqn": ("--steps", "300", "--eval-episodes", "2"),
    "nchain-tabular": ("--rounds", "5", "--episodes", "20"),
    "cartpole-reinforce": ("--episodes", "5", "--eval-episodes", "2"),
}
ALL = (168, 2777)  # `reproduce all`: runs and in-run seconds, bench/results/main_job.txt
TIMING = {"started", "finished", "wall_time_s", "train_time_s", "jit_load_s", "time_to_solve_s", "t_start",
          "git_revision", "seconds", "t", "ms_per_step", "ms_per_train_step", "us_per_step"}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(fresh: bool, seeds: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [Job(name, seed, Path(tmp) / name / f"seed{seed}", args)
                for seed in range(seeds) for name, args in JOBS.items()]
        cpu, start = children_cpu(), time.perf_counter()
        frame = sweep(jobs, LocalExecutor(workers, fresh=fresh))  # workers are closed (and reaped) on return
        wall, cpu = time.perf_counter() - start, children_cpu() - cpu
        if not (frame.status == "complete").all():
            raise SystemExit(f"error: a job failed: {frame[frame.status != 'complete'].error.tolist()}")
        in_run = sum(json.loads((job.out / "summary.json").read_text())["wall_time_s"] for job in jobs)
    job_wall, startups = float(frame.wall_time_s.sum()), float(frame.startup_s.sum())
    return {"jobs": len(jobs), "wall_s": wall, "process_s": cpu, "job_wall_s": job_wall,
            "startup_s": startups, "starts": int((frame.startup_s > 0).sum()), "in_run_s": in_run,
            "per_job_s": (job_wall - startups - in_run) / len(jobs)}


def content(path: Path):
    """A file's bytes, or for JSON and CSV files, its content without the :data:`TIMING` fields (and a
    checkpoint's ``COMPLETE`` without the hash of its ``state.json``, which holds start times)."""
    import pandas as pd

    def strip(data):
        if isinstance(data, dict):
            return {k: strip(v) for k, v in data.items() if k not in TIMING}
        return [strip(v) for v in data] if isinstance(data, list) else data

    if path.name == "COMPLETE":
        data = json.loads(path.read_text())
        data["files"].pop("state.json", None)
        return data
    if path.suffix == ".json":
        return strip(json.loads(path.read_text()))
    if path.suffix == ".csv":
        text = path.read_text()
        header = ""
        if text.startswith("#"):  # episodes.csv's Monitor header
            header, text = text.split("\n", 1)
            header = strip(json.loads(header[1:]))
        frame = pd.read_csv(io.StringIO(text)) if text.strip() else pd.DataFrame()
        return header, frame.drop(columns=[c for c in frame.columns if c in TIMING]).to_csv()
    return path.read_bytes()


def differing(fresh: Path, warm: Path) -> tuple[int, list[str]]:
    """How many run directories ``fresh`` holds, and those whose files differ in ``warm``."""
    runs = [m.parent for m in sorted(fresh.rglob("manifest.json")) if "checkpoints" not in m.parts]
    bad = []
    for run in runs:
        other = warm / run.relative_to(fresh)
        mine = {p.relative_to(run): p for p in run.rglob("*") if p.is_file()}
        theirs = {p.relative_to(other): p for p in other.rglob("*") if p.is_file()}
        if mine.keys() != theirs.keys() or any(content(mine[k]) != content(theirs[k]) for k in mine):
            bad.append(str(run.relative_to(fresh)))
    return len(runs), bad


def all_quick(results: Path, workers: int) -> None:
    """``reproduce all --quick`` fresh, then warm into the same paths; times and differing runs."""
    if results.exists():
        raise SystemExit(f"error: --all-quick expects a new directory, got {results} which exists")
    times = {}
    for variant in ("fresh", "warm"):
        env = {**os.environ, "REPRODUCE_FRESH_PROCESSES": "1" if variant == "fresh" else "0"}
        cpu, start = children_cpu(), time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "reproduce", "all", "--quick", "--results", str(results),
                               "--workers", str(workers)], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times[variant] = time.perf_counter() - start, children_cpu() - cpu
        if done.returncode:
            raise SystemExit(f"error: reproduce all --quick ({variant}) exited {done.returncode}: "
                             f"{done.stderr.strip().splitlines()[-1:]}")
        results.rename(results.with_name(f"{results.name}-{variant}"))
        print(f"  {variant:<5} reproduce all --quick: wall {times[variant][0]:.1f} s, process-seconds "
              f"{times[variant][1]:.1f} (report included)", flush=True)
    (f_wall, f_cpu), (w_wall, w_cpu) = times["fresh"], times["warm"]
    print(f"warm / fresh: wall {w_wall / f_wall:.2f}x, process-seconds {w_cpu / f_cpu:.2f}x; load "
          f"{os.getloadavg()[0]:.1f} at end")
    runs, bad = differing(results.with_name(f"{results.name}-fresh") / "quick" / "runs",
                          results.with_name(f"{results.name}-warm") / "quick" / "runs")
    print(f"run directories: {runs}; differing from the fresh run in any file (timing fields aside): "
          f"{len(bad)}{': ' + ', '.join(bad) if bad else ''}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="seeds per experiment (default 6: 18 jobs)")
    parser.add_argument("--workers", type=int, default=2, help="local workers (default 2)")
    parser.add_argument("--all-quick", type=Path, metavar="DIR",
                        help="instead: reproduce all --quick fresh and warm (DIR-fresh, DIR-warm), compared")
    args = parser.parse_args(argv)
    command = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"$ python bench/warm_workers.py {command}   # {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at start")
    if args.all_quick is not None:
        all_quick(args.all_quick, args.workers)
        return 0
    print(f"jobs: {args.seeds} seeds each of " + "; ".join(f"{n} {' '.join(a)}" for n, a in JOBS.items())
          + f"; {args.workers} workers")
    runs = {"fresh": [], "warm": []}
    for variant in ("fresh", "warm", "warm", "fresh"):
        runs[variant].append(measure(variant == "fresh", args.seeds, args.workers))
        figures = "  ".join(f"{k} {v:.1f}" for k, v in runs[variant][-1].items())
        print(f"  {variant:<5} {figures}", flush=True)
    mean = {variant: {k: sum(r[k] for r in rs) / len(rs) for k in rs[0]} for variant, rs in runs.items()}
    print(f"{'mean of 2':<10}{'wall s':>8}{'process s':>11}{'job wall s':>12}{'start-ups s':>13}"
          f"{'in-run s':>10}{'s per job':>11}")
    for variant, m in mean.items():
        print(f"{variant:<10}{m['wall_s']:>8.1f}{m['process_s']:>11.1f}{m['job_wall_s']:>12.1f}"
              f"{m['startup_s']:>13.1f}{m['in_run_s']:>10.1f}{m['per_job_s']:>11.2f}")
    f, w = mean["fresh"], mean["warm"]
    print(f"warm / fresh: wall {w['wall_s'] / f['wall_s']:.2f}x, process-seconds "
          f"{w['process_s'] / f['process_s']:.2f}x, job wall {w['job_wall_s'] / f['job_wall_s']:.2f}x; "
          f"load {os.getloadavg()[0]:.1f} at end")
    runs_all, in_run_all = ALL
    start_up = w["startup_s"] / max(w["starts"], 1)
    fresh_over = runs_all * f["per_job_s"]
    warm_over = args.workers * start_up + runs_all * w["per_job_s"]
    print(f"projected onto `reproduce all` ({runs_all} runs, {in_run_all} s in-run): start-up and overhead "
          f"fresh {fresh_over:.0f} s ({100 * fresh_over / (in_run_all + fresh_over):.1f}%), warm "
          f"{warm_over:.0f} s ({100 * warm_over / (in_run_all + warm_over):.1f}%: {args.workers} start-ups "
          f"of {start_up:.1f} s + {w['per_job_s']:.2f} s per run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
