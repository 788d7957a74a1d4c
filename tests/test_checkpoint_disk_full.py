"""A full disk during a save: one-line CheckpointWriteError, no partial checkpoint, resume works.

ENOSPC is simulated by a ``np.savez`` that writes part of the archive and then fails as a full
disk does. After "space is freed", the run resumes from the last good checkpoint and ends
exactly where an uninterrupted run ends.
"""

from __future__ import annotations

import errno

import checkpoint_worker  # registered by tests/conftest.py
import numpy as np
import pytest

import callbacks
from callbacks.reward_logger import rows_text
from callbacks.store import CheckpointWriteError, list_checkpoints, read_checkpoint

TOTAL, EVERY = 150, 50


def train(run_dir, steps, resume=False, **callback_kwargs):
    w = checkpoint_worker
    config = w.default_config()
    w.seed_everything(config["seed"])
    env, agent = w.make_env(config), w.build_agent(config)
    state = callbacks.resume_from(run_dir, agent, env) if resume else None
    cbs = callbacks.training_callbacks(run_dir, resume=state, every_steps=EVERY, keep_last=None,
                                       save_memory=True, config=config, **callback_kwargs)
    agent.fit(env, nb_steps=steps, callbacks=cbs, verbose=0)
    return agent


def fill_disk_on_save(monkeypatch, n: int):
    """From the ``n``-th save on, the archive write runs out of space after 100 bytes."""
    real_savez, calls = np.savez, {"n": 0}

    def savez(file, *args, **kwds):
        calls["n"] += 1
        if calls["n"] < n:
            return real_savez(file, *args, **kwds)
        file.write(b"PK\x03\x04" + bytes(96))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", savez)


def test_disk_full_is_one_line_and_resume_continues(tmp_path, monkeypatch):
    train(tmp_path / "straight", TOTAL)
    run = tmp_path / "run"
    fill_disk_on_save(monkeypatch, n=2)  # the step-100 save
    with pytest.raises(CheckpointWriteError) as info:
        train(run, TOTAL)
    monkeypatch.undo()  # space freed
    folder = run / "checkpoints"
    message = str(info.value)
    assert message == (
        f"cannot save the checkpoint of step 100 in {folder}: [Errno 28] No space left on device; "
        f"the last good checkpoint is {folder / 'ckpt_000000050_steps'} (step 50); "
        f"free space, then resume with --resume {run}"
    )
    assert info.value.errno == errno.ENOSPC and info.value.step == 100 and info.value.__cause__ is None
    assert sorted(p.name for p in folder.iterdir()) == ["ckpt_000000050_steps"]  # no partial, no temp

    agent = train(run, TOTAL, resume=True)
    assert agent.step == TOTAL
    assert [p.name for p in list_checkpoints(folder)] == [f"ckpt_{s:09d}_steps" for s in (50, 100, 150)]
    _, got = read_checkpoint(folder / "ckpt_000000150_steps")
    _, want = read_checkpoint(tmp_path / "straight" / "checkpoints" / "ckpt_000000150_steps")
    for key in want:
        if key.startswith(("online/", "target/", "optimizer/", "memory/", "rng/")):
            assert np.array_equal(got[key], want[key]), key
    assert rows_text(run / "episodes.csv") == rows_text(tmp_path / "straight" / "episodes.csv")


def test_first_save_failing_says_there_is_nothing_to_resume(tmp_path, monkeypatch):
    fill_disk_on_save(monkeypatch, n=1)
    expected = (r"^cannot save the checkpoint of step 50 .*No space left on device; "
                r"no earlier checkpoint exists, so free space and start the run again$")
    with pytest.raises(CheckpointWriteError, match=expected):
        train(tmp_path, 60, resume_hint="unused here")
    assert list((tmp_path / "checkpoints").iterdir()) == []


def test_resume_hint_ends_the_message(tmp_path, monkeypatch):
    fill_disk_on_save(monkeypatch, n=2)
    with pytest.raises(CheckpointWriteError) as info:
        train(tmp_path, 110, resume_hint=f"reproduce run nchain-dqn --resume {tmp_path}")
    hint = f"reproduce run nchain-dqn --resume {tmp_path}"
    assert str(info.value).endswith(f"(step 50); free space, then {hint}")
    assert "\n" not in str(info.value)
