"""Warm workers: every output byte equal to a fresh process's, and a failing or killed job harms no other.

Three experiments (keras-rl's DQN, the numba tabular tournament, the tutorial's Keras Q-network, which
seeds through ``tf.keras.utils.set_random_seed``) run in one worker, DQN twice with others between, and
each run directory is compared file by file with a fresh process's run of the same command in the same
directory. Excluded, and only these: the timing fields (:data:`TIMING` keys in JSON files, the ``t``
column and ``t_start`` header of ``episodes.csv``, and ``COMPLETE``'s hash of the checkpoint's
``state.json``, which holds the manifest's start time; ``state.json`` itself is compared without its
timing keys), and ``git_revision`` (other commits may land between the two runs).
"""

from __future__ import annotations

import io
import json
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from reproduce.sweep import Job, WarmWorker, run_job

TIMING = {"started", "finished", "wall_time_s", "train_time_s", "jit_load_s", "time_to_solve_s", "t_start",
          "git_revision"}
JOBS = {
    "cartpole-dqn": ("--steps", "300", "--eval-episodes", "2"),
    "nchain-tabular": ("--rounds", "5", "--episodes", "20"),
    "nchain-keras": ("--episodes", "3"),
}
ORDER = ["nchain-keras", "cartpole-dqn", "nchain-tabular", "cartpole-dqn"]  # a repeat, others between

CRASH = '''
"""An experiment that fails as asked: raise, or end its process (os._exit, SIGKILL)."""
import os
import signal
from dataclasses import dataclass

from reproduce.contract import Experiment, Report, RunContext
from reproduce.options import option


@dataclass(frozen=True)
class Config:
    seed: int = 0
    how: str = option("raise", "how to fail", choices=("raise", "exit", "kill"))


def run(config, run_dir):
    RunContext("crash", config, run_dir)
    if config.how == "raise":
        raise RuntimeError("the crash experiment raised")
    if config.how == "exit":
        os._exit(3)
    os.kill(os.getpid(), signal.SIGKILL)


EXPERIMENT = Experiment("crash", "fails as asked", Config, run, Report("crash", table="solve"))
'''


def strip(data):
    if isinstance(data, dict):
        return {k: strip(v) for k, v in data.items() if k not in TIMING}
    if isinstance(data, list):
        return [strip(v) for v in data]
    return data


def content(path: Path):
    """A file's bytes, or for the files that hold timing, its content without the timing fields."""
    if path.name == "COMPLETE":
        data = json.loads(path.read_text())
        data["files"].pop("state.json")
        return data
    if path.suffix == ".json":
        return strip(json.loads(path.read_text()))
    if path.name == "episodes.csv":
        header, rest = path.read_text().split("\n", 1)
        return strip(json.loads(header[1:])), pd.read_csv(io.StringIO(rest)).drop(columns="t").to_csv()
    return path.read_bytes()


def files(run_dir: Path) -> dict[str, object]:
    return {p.relative_to(run_dir).as_posix(): content(p) for p in sorted(run_dir.rglob("*")) if p.is_file()}


def run_at(tmp: Path, name: str, worker: WarmWorker | None, keep: Path) -> str:
    """Run ``name``'s job in ``tmp/run`` (the same path every time), move its directory to ``keep``."""
    job = Job(name, 0, tmp / "run" / name, JOBS[name])
    result = run_job(job, worker)
    assert result.status == "complete", result.error
    shutil.move(job.out, keep)
    return result.status


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The crash experiment registered in every process started from this module (via sitecustomize)."""
    site = tmp_path_factory.mktemp("site")
    (site / "crash_experiment.py").write_text(textwrap.dedent(CRASH))
    (site / "sitecustomize.py").write_text("from reproduce import experiments\n"
                                           "experiments.REGISTRY['crash'] = 'crash_experiment'\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(site))
        yield site


@pytest.fixture(scope="module")
def fresh(site, tmp_path_factory):
    """Each job's outputs from a fresh process, run where the warm runs will run."""
    tmp = tmp_path_factory.mktemp("warm")
    for name in JOBS:
        run_at(tmp, name, None, tmp / f"fresh-{name}")
    return tmp


@pytest.fixture(scope="module")
def worker(site):
    worker = WarmWorker()
    yield worker
    worker.dispose()


def test_warm_runs_equal_fresh_processes_byte_for_byte(fresh, worker):
    pids = []
    for i, name in enumerate(ORDER):
        run_at(fresh, name, worker, fresh / f"warm{i}-{name}")
        pids.append(worker.proc.pid)
    assert len(set(pids)) == 1 and worker.jobs == len(ORDER)  # one process ran them all
    for i, name in enumerate(ORDER):
        want, got = files(fresh / f"fresh-{name}"), files(fresh / f"warm{i}-{name}")
        assert sorted(got) == sorted(want), name
        for path in want:
            assert got[path] == want[path], f"{name} (job {i}): {path} differs from a fresh process's"


def test_failed_and_killed_jobs_do_not_break_the_next(fresh, worker, tmp_path):
    good = Job("nchain-tabular", 0, fresh / "run" / "nchain-tabular", JOBS["nchain-tabular"])

    def next_job_is_right():
        result = run_job(good, worker)
        assert result.status == "complete", result.error
        assert files(good.out) == files(fresh / "fresh-nchain-tabular")
        shutil.rmtree(good.out)

    bad = run_job(Job("nchain-tabular", 0, tmp_path / "bad", ("--rounds", "0")), worker)
    assert bad.status == "failed" and "exit 2" in bad.error and "--rounds" in bad.error, bad.error
    assert not (tmp_path / "bad").exists()
    first = worker.proc.pid if worker.proc else None
    raised = run_job(Job("crash", 0, tmp_path / "raise", ("--how", "raise")), worker)
    assert raised.status == "failed"
    assert raised.error == "exit 1: RuntimeError: the crash experiment raised"
    assert worker.proc.pid == first and worker.retire  # a usage error kept the worker; this retires it
    next_job_is_right()
    assert worker.proc.pid != first  # on a new worker
    killed = run_job(Job("crash", 0, tmp_path / "kill", ("--how", "kill")), worker)
    assert killed.status == "failed" and killed.error.startswith("exit -9:"), killed.error
    assert worker.proc.poll() == -9  # the job ended its worker
    next_job_is_right()  # a new worker takes the next job
    ended = run_job(Job("crash", 0, tmp_path / "exit", ("--how", "exit")), worker)
    assert ended.status == "failed" and ended.error.startswith("exit 3:"), ended.error
