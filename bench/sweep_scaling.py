"""Sweep throughput: 1 vs 2 local workers vs Ray on 2 CPUs, on the same sweep, in one run.

Each configuration runs the same short sweep (``nchain-tabular`` seeds, each a separate
process) into a fresh temporary directory and reports seeds per minute; then the speed-up
of 2 workers over 1 and Ray's overhead relative to the 2-worker local pool.

    python bench/sweep_scaling.py [--seeds 8] [--rounds 20] [--episodes 100]

Targets (issue 8): 2 local workers >= 1.7x one worker; Ray overhead <= 15%.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import reproduce  # noqa: F401  (compat first)
from reproduce.sweep import Job, LocalExecutor, RayExecutor, sweep


def timed_sweep(executor, seeds: int, args: tuple[str, ...]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [Job("nchain-tabular", s, Path(tmp) / f"seed{s}", args) for s in range(seeds)]
        start = time.perf_counter()
        frame = sweep(jobs, executor)
        elapsed = time.perf_counter() - start
        if not (frame.status == "complete").all():
            raise SystemExit(f"sweep failed: {frame[frame.status != 'complete'].error.tolist()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=100)
    opts = parser.parse_args()
    args = ("--rounds", str(opts.rounds), "--episodes", str(opts.episodes))
    print(f"sweep: nchain-tabular x {opts.seeds} seeds ({' '.join(args)}), load {os.getloadavg()}")
    results = {}
    configs = [("local, 1 worker", lambda: LocalExecutor(1)), ("local, 2 workers", lambda: LocalExecutor(2))]
    try:
        import ray

        def ray_executor():
            if not ray.is_initialized():
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            return RayExecutor()

        configs.append(("ray, 2 CPUs", ray_executor))
    except ImportError:
        print("ray not installed (pip install -e '.[ray]'): skipping the Ray row")
    for name, make in configs:
        elapsed = timed_sweep(make(), opts.seeds, args)
        results[name] = elapsed
        print(f"{name:<18} {elapsed:7.1f} s   {60 * opts.seeds / elapsed:6.1f} seeds/min")
    speedup = results["local, 1 worker"] / results["local, 2 workers"]
    print(f"speed-up, 2 workers vs 1: {speedup:.2f}x (target >= 1.7x)")
    if "ray, 2 CPUs" in results:
        overhead = results["ray, 2 CPUs"] / results["local, 2 workers"] - 1
        print(f"Ray overhead vs local 2 workers: {100 * overhead:+.1f}% (target <= 15%)")


if __name__ == "__main__":
    main()
