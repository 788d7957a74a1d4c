"""Benchmark: ``cartpole-dqn-tuned`` vs SB3 DQN (rl-zoo's tuned CartPole-v1), same seeds, one run.

Every run is its own child process (``reproduce run cartpole-dqn-tuned`` and ``reproduce run
sb3-zoo-dqn``), so its wall time and peak RSS (``os.wait4`` rusage of that child) are its own.
Both sides stop once solved under the same rule: every 1,000 steps a 10-episode greedy check;
if its mean is >= 475, 100 greedy episodes (the same reset seeds for both sides, the one
evaluator) must average >= 475. Both sides train at most 50,000 steps. The SB3 runs stay in
``bench/results/sb3_runs/`` as run directories, which ``reproduce all`` and ``reproduce report
--include bench/results/sb3_runs`` put beside ours in the report.

    pip install -e ".[bench]"   # torch first: pip install torch==2.13.0 (CPU wheel)
    python bench/cartpole_dqn.py --seeds 10

Writes ``bench/results/cartpole_dqn.csv`` (per run) and prints per-seed and median tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from timing import child  # bench/timing.py (the script's own directory is on sys.path)

REPO = Path(__file__).resolve().parent.parent
SB3_RUNS = REPO / "bench" / "results" / "sb3_runs"  # run directories `reproduce report` reads (--include)


def run_child(argv: list[str]) -> tuple[float, float, int]:
    """Run a child process single-threaded, as ``reproduce all`` runs every job (TensorFlow, torch
    and BLAS on one thread: each side gets one core, whatever else runs); return (wall seconds,
    peak RSS in MB, exit code)."""
    from reproduce.sweep import SINGLE_THREAD_ENV

    wall, peak, _, code, tail = child(argv, env={**os.environ, **SINGLE_THREAD_ENV}, cwd=REPO)
    if code:
        sys.stderr.write(tail)
    return wall, peak, code


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "cartpole_dqn.csv")
    args = parser.parse_args(argv)
    import pandas as pd

    from reproduce.stats import mean_ci

    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            run_dir = Path(tmp) / f"tuned{seed}"
            wall, rss, rc = run_child([sys.executable, "-m", "reproduce", "run", "cartpole-dqn-tuned",
                                       "--seed", str(seed), "--out", str(run_dir)])
            s = json.loads((run_dir / "summary.json").read_text()) if rc == 0 else {}
            rows.append({"agent": "cartpole-dqn-tuned", "seed": seed, "process_wall_s": wall,
                         "peak_rss_mb": rss,
                         "solved": s.get("solved"), "steps_to_solve": s.get("steps_to_solve"),
                         "time_to_solve_s": s.get("time_to_solve_s"), "eval_mean": s.get("eval_mean"),
                         "eval_ci_low": s.get("eval_ci_low"), "eval_ci_high": s.get("eval_ci_high"),
                         "load1": os.getloadavg()[0]})
            print(rows[-1], flush=True)
            run_dir = SB3_RUNS / f"seed{seed}"
            wall, rss, rc = run_child([sys.executable, "-m", "reproduce", "run", "sb3-zoo-dqn",
                                       "--seed", str(seed), "--out", str(run_dir)])
            s = json.loads((run_dir / "summary.json").read_text()) if rc == 0 else {}
            rows.append({"agent": "sb3-zoo-dqn", "seed": seed, "process_wall_s": wall, "peak_rss_mb": rss,
                         "solved": s.get("solved"), "steps_to_solve": s.get("steps_to_solve"),
                         "time_to_solve_s": s.get("time_to_solve_s"), "eval_mean": s.get("eval_mean"),
                         "eval_ci_low": s.get("eval_ci_low"), "eval_ci_high": s.get("eval_ci_high"),
                         "load1": os.getloadavg()[0]})
            print(rows[-1], flush=True)
            pd.DataFrame(rows).to_csv(args.out, index=False)  # so far, in case the bench is stopped
    frame = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(frame.round(2).to_markdown(index=False))
    summary = []
    for agent, group in frame.groupby("agent", sort=False):
        tts = group["time_to_solve_s"].astype(float).fillna(np.inf)  # unsolved: never
        m, lo, hi = mean_ci(group["eval_mean"].astype(float))
        summary.append({"agent": agent, "solved": f"{int(group['solved'].sum())}/{len(group)}",
                        "median_time_to_solve_s": float(np.median(tts)),
                        "median_steps_to_solve": float(np.median(group["steps_to_solve"].astype(float)
                                                                 .fillna(np.inf))),
                        "median_process_wall_s": float(group["process_wall_s"].median()),
                        "eval_mean_over_seeds": f"{m:.1f} [{lo:.1f}, {hi:.1f}]",
                        "max_peak_rss_mb": float(group["peak_rss_mb"].max())})
    print()
    print(pd.DataFrame(summary).round(1).to_markdown(index=False))
    print(f"\nunsolved runs count as never solved (inf) in the medians; load average before "
          f"{load_before}, after {os.getloadavg()} on {os.cpu_count()} CPUs; rows in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
