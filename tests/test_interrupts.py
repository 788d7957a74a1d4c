"""Ctrl-C is never "complete": real SIGINTs to real runs (keras-rl, tabular, linear) and to a sweep.

An interrupted run's manifest says ``interrupted``, the process exits 130 with one line saying how to go
on, and a keras-rl run resumed from its last periodic checkpoint equals an uninterrupted one, bit for bit.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from callbacks.reward_logger import rows_text
from callbacks.store import list_checkpoints, read_checkpoint

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
DQN = ("nchain-dqn", "--steps", "1000", "--checkpoint-every", "500", "--eval-episodes", "1")


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reproduce", *map(str, args)], cwd=ROOT, env=ENV,
                            text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def interrupt_when(proc: subprocess.Popen, ready, timeout: float = 240) -> tuple[int, list[str]]:
    """Send SIGINT once ``ready()`` holds; the exit code and stderr's non-empty lines."""
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, f"ended before the interrupt: {proc.communicate()[1][-2000:]}"
        assert time.time() < deadline, "not ready in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, [line.strip() for line in err.replace("\r", "\n").splitlines() if line.strip()]


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def rows(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_ctrl_c_on_a_kerasrl_run_is_interrupted_and_its_resume_is_exact(tmp_path):
    straight, cut = tmp_path / "straight", tmp_path / "cut"
    reference = start("run", *DQN, "--out", straight)
    proc = start("run", *DQN, "--out", cut)
    code, lines = interrupt_when(proc, lambda: any(cut.glob("checkpoints/ckpt_*_steps/COMPLETE")))
    assert code == 130, lines[-5:]
    assert lines[-1].startswith("interrupted: nchain-dqn seed 0") and "is marked interrupted" in lines[-1]
    assert f"reproduce run nchain-dqn --resume {cut}" in lines[-1]
    assert manifest(cut)["status"] == "interrupted"
    assert not (cut / "summary.json").exists() and not (cut / "eval.csv").exists()  # not evaluated
    steps = [int(p.name.split("_")[1]) for p in list_checkpoints(cut / "checkpoints")]
    assert steps and all(step % 500 == 0 for step in steps), steps  # no half-finished step saved at the end
    # a plain rerun does not silently start over: it points at --resume
    refused = subprocess.run([sys.executable, "-m", "reproduce", "run", *DQN, "--out", str(cut)], cwd=ROOT,
                             env=ENV, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "--resume" in refused.stderr.strip().splitlines()[-1]

    resumed = subprocess.run([sys.executable, "-m", "reproduce", "run", "nchain-dqn", "--resume", str(cut)],
                             cwd=ROOT, env=ENV, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert reference.wait(timeout=600) == 0, reference.stderr.read()[-2000:]
    assert manifest(cut)["status"] == "complete"
    assert (cut / "eval.csv").read_bytes() == (straight / "eval.csv").read_bytes()
    assert (cut / "q_table.csv").read_bytes() == (straight / "q_table.csv").read_bytes()
    assert rows_text(cut / "episodes.csv") == rows_text(straight / "episodes.csv")
    final = "checkpoints/ckpt_000001000_steps"
    a, b = read_checkpoint(cut / final)[1], read_checkpoint(straight / final)[1]
    assert sorted(a) == sorted(b)
    for key in a:
        assert np.array_equal(a[key], b[key], equal_nan=a[key].dtype.kind == "f"), key
    summary = json.loads((cut / "summary.json").read_text())
    assert summary["steps_trained"] == 1000 and summary["resumed_from_step"] in steps


def tabular_ready(run_dir: Path):
    return lambda: rows(run_dir / "episodes.csv") > 3


def test_ctrl_c_on_a_tabular_run(tmp_path):
    out = tmp_path / "run"
    proc = start("run", "cartpole-tabular", "--episodes", "1000000", "--out", out)
    code, lines = interrupt_when(proc, tabular_ready(out))
    assert code == 130, lines[-5:]
    assert lines[-1].startswith("interrupted: cartpole-tabular seed 0") and "start it over" in lines[-1]
    assert not any("Traceback" in line for line in lines)
    assert manifest(out)["status"] == "interrupted"
    assert not (out / "summary.json").exists()


def test_ctrl_c_on_a_sweep_leaves_no_seed_complete(tmp_path):
    out = tmp_path / "sweep"
    proc = start("sweep", "cartpole-tabular", "--seeds", "3", "--workers", "2", "--out", out, "--",
                 "--episodes", "1000000")
    code, lines = interrupt_when(proc, lambda: all(rows(out / f"seed{s}" / "episodes.csv") > 3
                                                   for s in (0, 1)))
    assert code == 130, lines[-5:]
    assert lines[-1].startswith("interrupted: sweep stopped by Ctrl-C") and "same command" in lines[-1]
    for seed in (0, 1):
        assert manifest(out / f"seed{seed}")["status"] == "interrupted"
    assert not (out / "seed2" / "manifest.json").exists()  # never started
    summary = pd.read_csv(out / "sweep_summary.csv")
    assert summary.status.tolist() == ["interrupted"] * 3


def test_early_stopping_has_its_own_exception():
    """StopTraining must not be a KeyboardInterrupt, or an early stop and a Ctrl-C look alike."""
    tree = ast.parse((ROOT / "reproduce" / "kerasrl" / "training.py").read_text())
    stop = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "StopTraining")
    assert [ast.unparse(base) for base in stop.bases] == ["Exception"]
