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
from dataclasses import dataclass
from pathlib import Path

from reproduce.errors import ConfigError
from reproduce.runs import RunDir, is_complete, write_csv

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
        """The run command; a run killed after its first checkpoint continues with ``--resume``."""
        if has_checkpoint(self.out) and supports_resume(self.experiment):
            return [sys.executable, "-m", "reproduce", "run", self.experiment, "--resume", str(self.out)]
        return [sys.executable, "-m", "reproduce", "run", self.experiment, "--seed", str(self.seed),
                "--out", str(self.out), *self.args]


def supports_resume(experiment: str) -> bool:
    """Experiments that checkpoint mid-run can resume; the rest just rerun."""
    from reproduce import experiments

    return experiments.get(experiment).resume is not None


def has_checkpoint(run_dir: Path) -> bool:
    """True when ``run_dir`` holds at least one finished checkpoint (its COMPLETE marker)."""
    return any(RunDir(run_dir).file(RunDir.CHECKPOINTS).glob("ckpt_*_steps/COMPLETE"))


@dataclass
class JobResult:
    job: Job
    status: str  # "complete", "skipped" (already complete) or "failed"
    wall_time_s: float = 0.0
    error: str = ""


def run_job(job: Job) -> JobResult:
    """Run one job in a single-threaded subprocess (skipped if its run directory is complete)."""
    if is_complete(job.out):
        return JobResult(job, "skipped")
    start = time.perf_counter()
    env = {**os.environ, **SINGLE_THREAD_ENV}
    proc = subprocess.run(job.command(), capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
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


class RayExecutor:
    """Run each job as a Ray task (one CPU each) on a local Ray or an existing cluster.

    Each task runs the same subprocess as the local pool, so the run directories must be on
    a filesystem the workers share with the driver (always true for a local Ray).
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError(
                "--executor ray needs Ray, which is not installed; install it with: pip install -e '.[ray]'"
            ) from None
        self.address = address
        self.num_cpus = num_cpus

    def map(self, jobs: list[Job], progress=None) -> list[JobResult]:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            kwargs = {"address": self.address} if self.address else {"num_cpus": self.num_cpus}
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        try:
            task = ray.remote(num_cpus=1)(run_job)
            pending = {task.remote(job): i for i, job in enumerate(jobs)}
            results: list[JobResult | None] = [None] * len(jobs)
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                index = pending.pop(done[0])
                try:
                    results[index] = ray.get(done[0])
                except ray.exceptions.RayError as exc:  # worker died: record, keep going
                    results[index] = JobResult(jobs[index], "failed", error=f"ray task failed: {exc}")
                if progress:
                    progress(results[index])
            return results
        finally:
            if started_here:
                ray.shutdown()


def make_executor(name: str = "local", workers: int = 2, address: str | None = None):
    """The executor for ``--executor NAME`` (``local`` or ``ray``)."""
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(address, num_cpus=workers)
    raise ConfigError(f"unknown executor {name!r}; expected 'local' or 'ray'")


def sweep(jobs: list[Job], executor=None, summary_path: Path | None = None, progress=None):
    """Run ``jobs``; write a summary CSV (one row per job, errors included) and return it as a DataFrame."""
    import pandas as pd

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
