"""Seed sweeps: run (experiment, seed) jobs in parallel, skip complete ones, record failures.

Each job is ``python -m reproduce run EXPERIMENT --seed S --out DIR ...`` in its own
process, with TensorFlow and BLAS limited to one thread, so seeds never share TF state and
a crash in one seed cannot take the others down. The default executor is a local pool of
``--workers`` processes. Results land in the usual ``results/runs/`` layout whatever ran
them, so ``reproduce report`` needs nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reproduce.runs import ConfigError, is_complete, write_csv

SINGLE_THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


@dataclass(frozen=True)
class Job:
    """One (experiment, seed) run and where it writes."""

    experiment: str
    seed: int
    out: Path
    args: tuple[str, ...] = ()

    def command(self) -> list[str]:
        return [sys.executable, "-m", "reproduce", "run", self.experiment, "--seed", str(self.seed),
                "--out", str(self.out), *self.args]


@dataclass
class JobResult:
    job: Job
    status: str  # "complete", "skipped" (already complete) or "failed"
    wall_time_s: float = 0.0
    error: str = ""
    extra: dict = field(default_factory=dict)


def run_job(job: Job, timeout: float | None = None) -> JobResult:
    """Run one job in a single-threaded subprocess (skipped if its run directory is complete)."""
    if is_complete(job.out):
        return JobResult(job, "skipped")
    start = time.perf_counter()
    env = {**os.environ, **SINGLE_THREAD_ENV}
    try:
        proc = subprocess.run(job.command(), capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return JobResult(job, "failed", time.perf_counter() - start, f"timed out after {timeout} s")
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or not is_complete(job.out):
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"exit code {proc.returncode}"
        return JobResult(job, "failed", elapsed, f"exit {proc.returncode}: {reason}")
    return JobResult(job, "complete", elapsed)


class LocalExecutor:
    """Run jobs on a local pool of ``workers`` single-threaded processes."""

    name = "local"

    def __init__(self, workers: int = 2):
        if workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {workers}")
        self.workers = workers

    def map(self, jobs: list[Job], progress=None) -> list[JobResult]:
        results = []
        with ThreadPoolExecutor(self.workers) as pool:
            for result in pool.map(run_job, jobs):
                results.append(result)
                if progress:
                    progress(result)
        return results


def sweep(jobs: list[Job], executor=None, summary_path: Path | None = None, progress=None) -> pd.DataFrame:
    """Run ``jobs``; write a summary CSV (one row per job, errors included) and return it."""
    executor = executor or LocalExecutor()
    results = executor.map(jobs, progress=progress)
    frame = pd.DataFrame([{
        "experiment": r.job.experiment, "seed": r.job.seed, "out": str(r.job.out),
        "status": r.status, "wall_time_s": round(r.wall_time_s, 2), "error": r.error,
    } for r in results])
    if summary_path is not None:
        summary_path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(summary_path, frame)
    return frame
