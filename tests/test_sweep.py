"""Seed sweeps: local pool vs sequential, failures recorded, reruns skip complete seeds, Ray."""

import subprocess
import sys

import pandas as pd
import pytest

from reproduce.errors import ConfigError
from reproduce.sweep import Job, LocalExecutor, RayExecutor, make_executor, run_job, sweep

ARGS = ("--rounds", "3", "--episodes", "5")


def jobs(root, seeds=(0, 1)):
    return [Job("nchain-tabular", s, root / f"seed{s}", ARGS) for s in seeds]


def rounds(root, seed):
    return (root / f"seed{seed}" / "rounds.csv").read_bytes()


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    root = tmp_path_factory.mktemp("sequential")
    for job in jobs(root):
        assert run_job(job).status == "complete"
    return root


def test_local_pool_equals_sequential_run(sequential, tmp_path):
    frame = sweep(jobs(tmp_path), LocalExecutor(2), tmp_path / "sweep_summary.csv")
    assert frame.status.tolist() == ["complete"] * 2
    for seed in range(2):
        assert rounds(tmp_path, seed) == rounds(sequential, seed)
    assert pd.read_csv(tmp_path / "sweep_summary.csv").status.tolist() == ["complete"] * 2


def test_failing_seed_is_recorded_others_complete_and_rerun_retries_only_it(tmp_path):
    bad = Job("nchain-tabular", 1, tmp_path / "seed1", ("--rounds", "0"))
    good = jobs(tmp_path, seeds=(0, 2))
    frame = sweep([good[0], bad, good[1]], LocalExecutor(2))
    assert frame.status.tolist() == ["complete", "failed", "complete"]
    assert "--rounds" in frame.error[1]
    assert not (tmp_path / "seed1").exists()
    rerun = sweep(jobs(tmp_path, seeds=(0, 1, 2)), LocalExecutor(2))
    assert rerun.status.tolist() == ["skipped", "complete", "skipped"]


def test_unknown_executor_and_bad_workers():
    with pytest.raises(ConfigError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(ConfigError, match="--workers must be >= 1"):
        LocalExecutor(0)


def test_missing_ray_gives_install_hint():
    code = ("import sys; sys.modules['ray'] = None\n"
            "from reproduce.sweep import RayExecutor\n"
            "RayExecutor()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "pip install -e '.[ray]'" in result.stderr.strip().splitlines()[-1]


def test_ray_sweep_equals_sequential(sequential, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        frame = sweep(jobs(tmp_path), RayExecutor())
    finally:
        ray.shutdown()
    assert frame.status.tolist() == ["complete"] * 2
    for seed in range(2):
        assert rounds(tmp_path, seed) == rounds(sequential, seed)


def test_job_with_a_finished_checkpoint_resumes(tmp_path):
    job = Job("nchain-dqn", 3, tmp_path / "seed3", ("--steps", "900"))
    assert "--resume" not in job.command()
    (tmp_path / "seed3" / "checkpoints" / "ckpt_000000500_steps").mkdir(parents=True)
    assert "--resume" not in job.command()  # a save that never finished is not a checkpoint
    (tmp_path / "seed3" / "checkpoints" / "ckpt_000000500_steps" / "COMPLETE").write_text("{}")
    assert job.command()[-3:] == ["nchain-dqn", "--resume", str(tmp_path / "seed3")]


def test_job_of_an_experiment_without_resume_reruns(tmp_path):
    job = Job("nchain-tabular", 0, tmp_path / "seed0", ARGS)
    (tmp_path / "seed0" / "checkpoints" / "ckpt_000000500_steps").mkdir(parents=True)
    (tmp_path / "seed0" / "checkpoints" / "ckpt_000000500_steps" / "COMPLETE").write_text("{}")
    assert "--resume" not in job.command()


def test_fresh_processes_on_request(monkeypatch):
    """Warm workers by default; REPRODUCE_FRESH_PROCESSES=1 (or fresh=True) runs a process per job."""
    monkeypatch.delenv("REPRODUCE_FRESH_PROCESSES", raising=False)
    assert not LocalExecutor(2).fresh and not make_executor("local").fresh
    monkeypatch.setenv("REPRODUCE_FRESH_PROCESSES", "1")
    assert LocalExecutor(2).fresh and make_executor("local").fresh
    monkeypatch.setenv("REPRODUCE_FRESH_PROCESSES", "0")
    assert not LocalExecutor(2).fresh and LocalExecutor(2, fresh=True).fresh
