"""Checkpoints across processes (DESIGN.md §5, points 1, 3, 4, 5, 10).

A straight 300-step run is the reference. Against it: a reload in a fresh process, a run
split in two at a mid-episode step, a run SIGKILLed five times at random steps and resumed
each time, and a run killed inside a save. Small real DQN agents on NChain (40-step
episodes), hard target updates, CPU, op determinism (the worker sets it).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import checkpoint_worker  # registered by tests/conftest.py
import numpy as np
import pytest

from callbacks import load_rewards
from callbacks.reward_logger import rows_text
from callbacks.store import list_checkpoints, newest_good, read_checkpoint

WORKER = Path(__file__).resolve().parent / "checkpoint_worker.py"
TOTAL, EVERY = 300, 50
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")


def worker(*args, timeout=120, check=True):
    proc = subprocess.run([sys.executable, str(WORKER), *map(str, args)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=ENV, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"worker {args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc




def final_state(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """300 steps in one go, stdin closed (saving must never prompt or block)."""
    run_dir = tmp_path_factory.mktemp("straight")
    proc = worker("train", run_dir, "--steps", TOTAL, "--every", EVERY, timeout=90)
    assert final_state(proc.stdout) == {"final_step": TOTAL}
    return run_dir


def arrays_of(run_dir: Path, step: int) -> dict:
    return read_checkpoint(run_dir / "checkpoints" / f"ckpt_{step:09d}_steps")[1]


def assert_same_training(a: Path, b: Path, step: int):
    arr_a, arr_b = arrays_of(a, step), arrays_of(b, step)
    assert sorted(arr_a) == sorted(arr_b)
    for key in arr_a:
        if key.startswith(("online/", "target/", "optimizer/", "memory/")):
            assert np.array_equal(arr_a[key], arr_b[key]), key
    assert rows_text(a / "episodes.csv") == rows_text(b / "episodes.csv")  # every column but t


def test_schedule_names_and_stdin_closed(straight):
    names = sorted(p.name for p in (straight / "checkpoints").iterdir())
    assert names == [f"ckpt_{s:09d}_steps" for s in range(EVERY, TOTAL + 1, EVERY)]
    for path in list_checkpoints(straight / "checkpoints"):
        assert sorted(p.name for p in path.iterdir()) == ["COMPLETE", "arrays.npz", "state.json"]


def test_round_trip_in_fresh_process(straight, tmp_path):
    from reproduce.evaluate_command import load_agent

    w = checkpoint_worker
    ckpt = straight / "checkpoints" / f"ckpt_{TOTAL:09d}_steps"
    probed = json.loads(worker("probe", ckpt).stdout.strip().splitlines()[-1])
    saved = arrays_of(straight, TOTAL)
    online = [saved[k] for k in sorted(saved) if k.startswith("online/")]
    target = [saved[k] for k in sorted(saved) if k.startswith("target/")]
    optimizer = [saved[k] for k in sorted(saved) if k.startswith("optimizer/")]
    probed_all = probed["online"] + probed["target"] + probed["optimizer"]
    for got, want in zip(probed_all, online + target + optimizer):
        assert np.array_equal(np.asarray(got, dtype=want.dtype), want)
    assert probed["step"] == TOTAL
    agent = load_agent(ckpt, builder=w.build_agent)  # and again here: same Q-values, same greedy actions
    q = agent.compute_batch_q_values([[o] for o in w.FIXED_NCHAIN_OBS])
    assert np.array_equal(q, np.asarray(probed["q"], dtype=q.dtype))
    assert q.argmax(axis=1).tolist() == probed["actions"]
    # training continues from the reloaded state
    agent.fit(w.make_env(w.default_config()), nb_steps=30, verbose=0)
    assert agent.step == 30
    assert not all(np.array_equal(a, b) for a, b in zip(agent.model.get_weights(), online))


def test_resume_equivalence_mid_episode(straight, tmp_path):
    half = TOTAL // 2  # 150: mid-episode (episodes are 40 steps)
    worker("train", tmp_path, "--steps", half, "--every", EVERY)
    state, _ = read_checkpoint(tmp_path / "checkpoints" / f"ckpt_{half:09d}_steps")
    assert state["episode_in_progress"]["steps"] == half % 40
    worker("train", tmp_path, "--steps", TOTAL, "--every", EVERY, "--resume")
    assert_same_training(straight, tmp_path, TOTAL)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        f"ckpt_{s:09d}_steps" for s in range(EVERY, TOTAL + 1, EVERY)
    ]


def test_sigkill_five_times_then_resume(straight, tmp_path):
    rng = random.Random(1234)
    kills = []
    for low, high in ((55, 100), (100, 150), (150, 200), (200, 250), (250, 295)):
        target = rng.randint(low, high)
        proc = subprocess.Popen([sys.executable, str(WORKER), "train", str(tmp_path), "--steps", str(TOTAL),
                                 "--every", str(EVERY), "--resume", "--progress"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                text=True, env=ENV)
        reached = None
        for line in proc.stdout:
            if line.startswith("step ") and int(line.split()[1]) >= target:
                reached = int(line.split()[1])
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        kills.append((target, reached))
    assert len(kills) == 5 and all(reached is not None for _, reached in kills), kills
    proc = worker("train", tmp_path, "--steps", TOTAL, "--every", EVERY, "--resume")
    assert final_state(proc.stdout) == {"final_step": TOTAL}
    log = load_rewards(tmp_path / "episodes.csv")
    assert log["episode"].tolist() == list(range(len(log)))  # every episode exactly once, in order
    assert log["total_steps"].is_monotonic_increasing and log["total_steps"].iloc[-1] == TOTAL - TOTAL % 40
    text = (tmp_path / "episodes.csv").read_text()
    assert text.count("#{") == 1 and text.count("\nr,l,t,") == 1
    assert_same_training(straight, tmp_path, TOTAL)  # and it is the very same training as without kills


def test_kill_inside_a_save_keeps_the_previous_checkpoint(tmp_path):
    proc = worker("train", tmp_path, "--steps", 200, "--every", EVERY, "--crash-on-save", 3, check=False)
    assert proc.returncode == 17, proc.stderr[-2000:]
    folder = tmp_path / "checkpoints"
    assert [p.name for p in list_checkpoints(folder)] == ["ckpt_000000050_steps", "ckpt_000000100_steps"]
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".ckpt_000000150_steps.")
    assert leftovers[0].endswith(".tmp")
    path, state, _ = newest_good(folder)
    assert path.name == "ckpt_000000100_steps" and state["step"] == 100
