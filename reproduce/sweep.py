"""Seed sweeps: run (experiment, seed) jobs in parallel, skip complete ones, record failures.

Each job is ``python -m reproduce run EXPERIMENT --seed S --out DIR ...``, run single-threaded
(TensorFlow and BLAS limited to one thread) by a warm worker (:mod:`reproduce.worker`): a process that
imported TensorFlow, keras-rl and the package once and runs job after job, reset between them, with
outputs byte-identical to a fresh process's (``tests/test_warm_workers.py``). A job that crashes or
kills its worker is recorded failed and a new worker takes the next job; a worker whose job raised or
was interrupted is replaced too. ``REPRODUCE_FRESH_PROCESSES=1`` runs every job in its own fresh
process instead (for debugging). The default executor is a local pool of ``--workers`` workers;
``--executor ray`` gives each Ray actor (one CPU) a worker. Results land in the usual
``results/runs/`` layout whatever ran them, so ``reproduce report`` needs nothing else. A job's
``wall_time_s`` includes the start-up of the worker it waited for, so start-up is still counted.

A seed's directory is skipped only when it holds a complete run of the same options (the config's
fingerprint, experiment name included); an unfinished run of them resumes from its checkpoint; a run of
other options is left alone and the seed fails with one line naming them. Ctrl-C stops the sweep: the
running seeds are interrupted (each marked so), none is recorded complete that is not, and the sweep
exits 130 (:class:`SweepInterrupted`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from reproduce.errors import ConfigError
from reproduce.runs import RunDir, existing_run, is_complete, run_config, write_csv
from reproduce.worker import MAX_RSS_MB

SINGLE_THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}
FRESH_PROCESSES = "REPRODUCE_FRESH_PROCESSES"  # set to 1: a fresh process per job, no warm workers


def fresh_processes() -> bool:
    """Whether ``REPRODUCE_FRESH_PROCESSES`` asks for a fresh process per job (debugging)."""
    return os.environ.get(FRESH_PROCESSES, "").strip() not in ("", "0")


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
    wall_time_s: float = 0.0  # as the sweep saw it: the worker start-up this job waited for included
    error: str = ""
    startup_s: float = 0.0  # of which starting a warm worker (a fresh process's start-up is not told apart)


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
_running: set = set()  # what runs a job now (a Popen or a WarmWorker): Ctrl-C is passed to each
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


class WorkerFailed(Exception):
    """A warm worker ended before it was ready (its last stderr line says why)."""


def _last_line(text: str, code: int | None) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {code}"


class WarmWorker:
    """The sweep's end of one :mod:`reproduce.worker` process, started on first use and replaced when its
    process ended or should not run another job (a job that raised or was interrupted, memory past
    :data:`reproduce.worker.MAX_RSS_MB`). Its own session: a terminal's Ctrl-C reaches the sweep alone."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.log_dir = Path(tempfile.mkdtemp(prefix="reproduce-worker-"))
        self.retire = False
        self.jobs = 0
        self.rss_mb = 0.0  # resident memory after the last job

    def start(self) -> None:
        """Have a ready worker process (start one, waiting for its imports, if there is none)."""
        if self.proc is not None and not self.retire and self.proc.poll() is None:
            return
        self.close()
        env = {**os.environ, **SINGLE_THREAD_ENV}
        with open(self.log_dir / "worker.err", "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "reproduce.worker", str(self.log_dir)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                         text=True, env=env, start_new_session=True)
        self.retire, self.jobs = False, 0
        if not self.proc.stdout.readline():
            code = self.proc.wait()
            errors = (self.log_dir / "stderr").read_text() if (self.log_dir / "stderr").exists() else ""
            raise WorkerFailed(f"worker did not start (exit {code}): "
                               f"{_last_line(errors + (self.log_dir / 'worker.err').read_text(), code)}")

    def submit(self, argv: list[str]) -> WarmWorker:
        try:
            self.proc.stdin.write(json.dumps({"argv": argv}) + "\n")
            self.proc.stdin.flush()
        except OSError:  # it died since start(): wait() finds out and says how
            pass
        return self

    def wait(self) -> tuple[int, str]:
        """The job's exit code and last stderr line; a worker that died mid-job gives its own exit code."""
        line = self.proc.stdout.readline()
        stderr = self.log_dir / "stderr"
        text = stderr.read_text(errors="replace") if stderr.exists() else ""
        if not line:  # the job ended the process: a crash, os._exit, a kill
            code = self.proc.wait()
            self.retire = True
            return code, _last_line(text, code)
        reply = json.loads(line)
        self.jobs, self.rss_mb = self.jobs + 1, reply["rss_mb"]
        code = reply["code"]
        self.retire = code not in (0, 2) or reply["rss_mb"] > MAX_RSS_MB
        return code, _last_line(text, code)

    def send_signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def close(self) -> None:
        """End the process: stdin closed ends it after its job; a stuck one is killed."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    def dispose(self) -> None:
        """End the process and remove its log files (the worker is not used again)."""
        self.close()
        shutil.rmtree(self.log_dir, ignore_errors=True)


class _Fresh:
    """One job in its own fresh process (``REPRODUCE_FRESH_PROCESSES=1``, or no worker given)."""

    def __init__(self, command: list[str]):
        env = {**os.environ, **SINGLE_THREAD_ENV}
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, stdin=subprocess.DEVNULL, start_new_session=True)

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self) -> tuple[int, str]:
        _, stderr = self.proc.communicate()
        return self.proc.returncode, _last_line(stderr, self.proc.returncode)


def run_job(job: Job, worker: WarmWorker | None = None) -> JobResult:
    """Run one job single-threaded on ``worker`` (a fresh process when ``None``); skipped if it holds a
    complete run of these options. The job's wall time includes starting the worker, if it had to.

    The process has its own session, so a terminal's Ctrl-C reaches the sweep alone, which passes it on
    once (:func:`stop_running`)."""
    if _stopping.is_set():
        return JobResult(job, "interrupted", error="not started (Ctrl-C)")
    if is_complete(job.out) and job.owns():
        return JobResult(job, "skipped")
    start = time.perf_counter()
    command = job.command()
    startup = 0.0
    if worker is not None:
        began = time.perf_counter()
        try:
            worker.start()
        except (WorkerFailed, OSError) as exc:
            return JobResult(job, "failed", time.perf_counter() - start, str(exc))
        startup = time.perf_counter() - began  # about 0 when the worker was ready
    with _lock:
        if _stopping.is_set():
            return JobResult(job, "interrupted", error="not started (Ctrl-C)")
        runner = _Fresh(command) if worker is None else worker.submit(command[3:])
        _running.add(runner)
    try:
        code, reason = runner.wait()
    finally:
        with _lock:
            _running.discard(runner)
    elapsed = time.perf_counter() - start
    if code in (130, -signal.SIGINT):
        return JobResult(job, "interrupted", elapsed, reason, startup)
    if code != 0 or not is_complete(job.out):
        return JobResult(job, "failed", elapsed, f"exit {code}: {reason}", startup)
    return JobResult(job, "complete", elapsed, startup_s=startup)


class _Workers:
    """Warm workers for a pool's threads: a thread takes an idle one (or a new one) per job."""

    def __init__(self, fresh: bool):
        self.fresh = fresh
        self.idle: list[WarmWorker] = []
        self.every: list[WarmWorker] = []
        self.lock = threading.Lock()

    def run(self, job: Job) -> JobResult:
        if self.fresh:
            return run_job(job)
        with self.lock:
            if self.idle:
                worker = self.idle.pop()
            else:
                worker = WarmWorker()
                self.every.append(worker)
        try:
            return run_job(job, worker)
        finally:
            with self.lock:
                self.idle.append(worker)

    def close(self) -> None:
        for worker in self.every:
            worker.dispose()


class LocalExecutor:
    """Run jobs on a local pool of ``workers`` single-threaded warm workers (fresh processes with
    ``fresh=True`` or ``REPRODUCE_FRESH_PROCESSES=1``)."""

    name = "local"

    def __init__(self, workers: int = 2, fresh: bool | None = None):
        if workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {workers}")
        self.workers = workers
        self.fresh = fresh_processes() if fresh is None else fresh

    def map(self, jobs: list[Job], progress=None) -> list[JobResult]:
        """Every job's result, in order; on Ctrl-C the running jobs are interrupted, the rest not started,
        and ``KeyboardInterrupt`` is raised with ``.results`` once every process has ended."""
        results = []
        _stopping.clear()
        workers = _Workers(self.fresh)
        pool = ThreadPoolExecutor(self.workers)
        futures = [pool.submit(workers.run, job) for job in jobs]
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
            workers.close()
        return results


class _RayWorker:
    """A Ray actor (one CPU) holding one warm worker (or none: fresh processes)."""

    def __init__(self, fresh: bool):
        self.worker = None if fresh else WarmWorker()

    def run(self, job: Job) -> JobResult:
        return run_job(job, self.worker)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.dispose()


class RayExecutor:
    """Run jobs on Ray actors (one CPU each, ``num_cpus`` of them or one per CPU of the cluster), each
    holding a warm worker, on a local Ray or an existing cluster.

    The workers are the local pool's, so the run directories must be on a filesystem the workers share
    with the driver (always true for a local Ray). An actor that dies is recorded and replaced.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, fresh: bool | None = None):
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError(
                "--executor ray needs Ray, which is not installed; install it with: pip install -e '.[ray]'"
            ) from None
        self.address = address
        self.num_cpus = num_cpus
        self.fresh = fresh_processes() if fresh is None else fresh

    def map(self, jobs: list[Job], progress=None) -> list[JobResult]:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            kwargs = {"address": self.address} if self.address else {"num_cpus": self.num_cpus}
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        actor_class = ray.remote(num_cpus=1)(_RayWorker)
        cpus = self.num_cpus or int(ray.cluster_resources().get("CPU", 1))
        actors = [actor_class.remote(self.fresh) for _ in range(max(1, min(cpus, len(jobs))))]
        try:
            results: list[JobResult | None] = [None] * len(jobs)
            queue = list(range(len(jobs)))[::-1]
            pending = {}
            for actor in actors:
                if queue:
                    index = queue.pop()
                    pending[actor.run.remote(jobs[index])] = (index, actor)
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                index, actor = pending.pop(done[0])
                try:
                    results[index] = ray.get(done[0])
                except ray.exceptions.RayError as exc:  # the actor died: record, replace it, keep going
                    results[index] = JobResult(jobs[index], "failed", error=f"ray task failed: {exc}")
                    actors.remove(actor)
                    actor = actor_class.remote(self.fresh)
                    actors.append(actor)
                if progress:
                    progress(results[index])
                if queue:
                    index = queue.pop()
                    pending[actor.run.remote(jobs[index])] = (index, actor)
            return results
        finally:
            try:
                ray.get([actor.close.remote() for actor in actors], timeout=60)
            except ray.exceptions.RayError:
                pass
            for actor in actors:
                ray.kill(actor)
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
        "startup_s": round(r.startup_s, 2),
    } for r in results])
    if summary_path is not None:
        summary_path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(summary_path, frame)
    if interrupted is not None:
        raise SweepInterrupted(frame) from None
    return frame
