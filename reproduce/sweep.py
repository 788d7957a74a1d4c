"""Seed sweeps: run (experiment, seed) jobs in parallel, skip complete ones, record failures.

Each job is ``python -m reproduce run EXPERIMENT --seed S --out DIR ...`` in its own
process, with TensorFlow and BLAS limited to one thread, so seeds never share TF state and
a crash in one seed cannot take the others down. The default executor is a local pool of
``--workers`` processes. Results land in the usual ``results/runs/`` layout whatever ran
them, so ``reproduce report`` needs nothing else.

A seed's directory is skipped only when it holds a complete run of the same options (the config's
fingerprint, experiment name included); an unfinished run of them resumes from its checkpoint; a run of
other options is left alone and the seed fails with one line naming them. Ctrl-C stops the sweep: the
running seeds are interrupted (each marked so), none is recorded complete that is not, and the sweep
exits 130 (:class:`SweepInterrupted`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from reproduce.errors import ConfigError
from reproduce.runs import RunDir, existing_run, is_complete, run_config, write_csv

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
        """The run command; a run of these options stopped after its first checkpoint continues with
        ``--resume`` (a run of other options is not: the plain command refuses it in one line)."""
        if has_checkpoint(self.out) and supports_resume(self.experiment) and self.owns() is not False:
            return [sys.executable, "-m", "reproduce", "run", self.experiment, "--resume", str(self.out)]
        return [sys.executable, "-m", "reproduce", "run", self.experiment, "--seed", str(self.seed),
                "--out", str(self.out), *self.args]

    def config(self) -> dict:
        """The run config this job writes (as ``config.json`` holds it); ``ConfigError`` if its options
        are bad (the run itself then says so)."""
        import dataclasses

        from reproduce import experiments
        from reproduce.cli import experiment_config, experiment_parser

        experiment = experiments.get(self.experiment)
        args = experiment_parser(experiment, f"reproduce run {self.experiment}").parse_args(list(self.args))
        config = dataclasses.replace(experiment_config(experiment, args, self.seed), seed=self.seed)
        return run_config(self.experiment, config)

    def owns(self) -> bool | None:
        """Whether the run in ``out`` is this job's (same experiment and options); ``None`` when there is
        none, or either config cannot be read."""
        existing = existing_run(self.out)
        if existing is None or existing.config is None:
            return None
        try:
            return existing.config == self.config()
        except (ConfigError, SystemExit):
            return None


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
    status: str  # "complete", "skipped" (already complete), "failed" or "interrupted" (Ctrl-C)
    wall_time_s: float = 0.0
    error: str = ""


class SweepInterrupted(KeyboardInterrupt):  # noqa: N818 - it is Ctrl-C, with the sweep's outcome
    """Ctrl-C ended a sweep; ``frame`` holds every job's result (the summary CSV is written)."""

    def __init__(self, frame):
        super().__init__()
        self.frame = frame

    def __str__(self) -> str:
        counts = self.frame.status.value_counts().to_dict() if len(self.frame) else {}
        done = ", ".join(f"{n} {status}" for status, n in counts.items())
        return (f"sweep stopped by Ctrl-C ({done}); no unfinished seed is marked complete: run the same "
                f"command again to continue (complete seeds are skipped, checkpointed ones resume)")


_stopping = threading.Event()  # Ctrl-C: start no more jobs
_running: set[subprocess.Popen] = set()
_lock = threading.Lock()


def stop_running() -> None:
    """Ctrl-C: start no more jobs and pass the interrupt to the running ones (each then marks its run
    interrupted and exits 130)."""
    _stopping.set()
    with _lock:
        for proc in _running:
            try:
                proc.send_signal(signal.SIGINT)
            except OSError:
                pass


def run_job(job: Job) -> JobResult:
    """Run one job in a single-threaded subprocess (skipped if it holds a complete run of these options).

    The subprocess has its own session, so a terminal's Ctrl-C reaches the sweep alone, which passes it on
    once (:func:`stop_running`)."""
    if _stopping.is_set():
        return JobResult(job, "interrupted", error="not started (Ctrl-C)")
    if is_complete(job.out) and job.owns():
        return JobResult(job, "skipped")
    start = time.perf_counter()
    env = {**os.environ, **SINGLE_THREAD_ENV}
    with _lock:
        if _stopping.is_set():
            return JobResult(job, "interrupted", error="not started (Ctrl-C)")
        proc = subprocess.Popen(job.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        _running.add(proc)
    try:
        _, stderr = proc.communicate()
    finally:
        with _lock:
            _running.discard(proc)
    elapsed = time.perf_counter() - start
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    reason = lines[-1] if lines else f"exit code {proc.returncode}"
    if proc.returncode in (130, -signal.SIGINT):
        return JobResult(job, "interrupted", elapsed, reason)
    if proc.returncode != 0 or not is_complete(job.out):
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
        """Every job's result, in order; on Ctrl-C the running jobs are interrupted, the rest not started,
        and ``KeyboardInterrupt`` is raised with ``.results`` once every process has ended."""
        results = []
        _stopping.clear()
        pool = ThreadPoolExecutor(self.workers)
        futures = [pool.submit(run_job, job) for job in jobs]
        try:
            for future in futures:
                results.append(future.result())
                if progress:
                    progress(results[-1])
        except KeyboardInterrupt:
            stop_running()
            interrupt = KeyboardInterrupt()
            interrupt.results = [_wait(future) for future in futures]
            raise interrupt from None
        finally:
            pool.shutdown(wait=True)
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


def _wait(future) -> JobResult:
    """A job's result, waiting through further Ctrl-Cs (the children are already told to stop)."""
    while True:
        try:
            return future.result()
        except KeyboardInterrupt:
            stop_running()


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
    try:
        results = executor.map(jobs, progress=progress)
        interrupted = None
    except KeyboardInterrupt as exc:
        results = getattr(exc, "results", None)
        if results is None:  # an executor that cannot say: every job unknown, none complete
            results = [JobResult(job, "interrupted", error="Ctrl-C") for job in jobs]
        interrupted = exc
    frame = pd.DataFrame([{
        "experiment": r.job.experiment, "seed": r.job.seed, "out": str(r.job.out),
        "status": r.status, "wall_time_s": round(r.wall_time_s, 2), "error": r.error,
    } for r in results])
    if summary_path is not None:
        summary_path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(summary_path, frame)
    if interrupted is not None:
        raise SweepInterrupted(frame) from None
    return frame
