"""Checkpoint files in one process: full state, corrupt and hostile inputs, retention, evaluate.

DESIGN.md §5 points 2, 5, 6, 7, 8. One short real training run (module fixture) provides
the checkpoints; every damaged copy must raise the expected ``CheckpointError`` subclass
with a message naming the problem.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import warnings
from pathlib import Path

import checkpoint_worker  # registered by tests/conftest.py
import numpy as np
import pytest

import callbacks
from callbacks import agent_state, resume_from
from callbacks.checkpoint import Checkpoint
from callbacks.store import (
    CheckpointCorruptError,
    CheckpointError,
    CheckpointFormatError,
    CheckpointIncompleteError,
    CheckpointMismatchError,
    CheckpointWriteError,
    list_checkpoints,
    load_arrays_state,
    read_checkpoint,
    save_arrays_state,
)

WORKER = Path(__file__).resolve().parent / "checkpoint_worker.py"




def train(run_dir, steps=100, resume=None, **overrides):
    w = checkpoint_worker
    config = w.default_config(target=0.01, **overrides)  # soft updates: the wrapped optimizer path
    w.seed_everything(config["seed"])
    env, agent = w.make_env(config), w.build_agent(config)
    state = resume_from(run_dir, agent, env) if resume else None
    cbs = callbacks.training_callbacks(run_dir, resume=state, every_steps=25, keep_last=None,
                                       keep_best_by=None, save_memory=True, config=config, tensorboard=True)
    agent.fit(env, nb_steps=steps, callbacks=cbs, verbose=0)
    return agent, env


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    train(path, steps=100)
    return path


def ckpt(run_dir, step):
    return run_dir / "checkpoints" / f"ckpt_{step:09d}_steps"


def resign(path: Path):
    """Rewrite COMPLETE to match the parts as they are now (reaches the layer behind the checksums)."""
    marker = json.loads((path / "COMPLETE").read_text())
    for part in ("state.json", "arrays.npz"):
        data = (path / part).read_bytes()
        marker["files"][part] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (path / "COMPLETE").write_text(json.dumps(marker))


def test_full_state_survives(run_dir):
    w = checkpoint_worker
    state, arrays = read_checkpoint(ckpt(run_dir, 75))
    assert state["step"] == 75 and state["episode"] == 1 and state["episode_in_progress"]["steps"] == 35
    assert state["policy"]["eps"] == pytest.approx(1.0 - 0.9 * 75 / 200)
    config = state["config"]
    env, agent = w.make_env(config), w.build_agent(config)
    resumed = resume_from(ckpt(run_dir, 75), agent, env)
    opt = agent_state.real_optimizer(agent).get_weights()
    assert type(agent.trainable_model.optimizer).__name__ == "AdditionalUpdatesOptimizer"
    assert len(opt) == 9 and int(opt[0]) > 0
    for i, value in enumerate(opt):
        assert np.array_equal(value, arrays[f"optimizer/{i:03d}"])
    assert len(agent.memory.observations) == 75 + 1  # + the extra end-of-episode transition
    assert np.array_equal(np.stack(list(agent.memory.observations)), arrays["memory/observations"])
    assert [type(r).__name__ for r in agent.memory.rewards] == state["parts"]["memory"]["types"]["rewards"]
    random.seed(99)
    np.random.seed(99)
    cb = resumed.callback()
    cb.set_model(agent)
    cb._set_env(env)
    cb.on_episode_begin(0)
    assert agent.step == 75 and agent_state.current_eps(agent) == state["policy"]["eps"]
    assert np.array_equal(np.random.get_state()[1], arrays["rng/numpy"])
    assert random.getstate()[1] == tuple(int(x) for x in arrays["rng/python"])
    assert env.unwrapped.np_random.bit_generator.state == state["env"]["rng"]["env"]
    assert env.env._elapsed_steps == 35
    saved_state = agent_state.decode(state["env"]["attrs"][-1]["values"]["state"], arrays)
    assert np.array_equal(np.asarray(env.unwrapped.state), np.asarray(saved_state))
    assert int(env.reset()) == int(arrays["env/observation"])  # the episode continues, no real reset


def test_training_continues_and_tensorboard(run_dir, tmp_path):
    import tensorflow as tf

    shutil.copytree(run_dir, tmp_path / "run")
    agent, _ = train(tmp_path / "run", steps=130, resume=True)
    assert agent.step == 130
    assert [p.name for p in list_checkpoints(tmp_path / "run" / "checkpoints")][-2:] == [
        "ckpt_000000125_steps", "ckpt_000000130_steps"]
    tags = set()
    for event_file in (tmp_path / "run" / "tensorboard").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(v.tag for v in event.summary.value)
    assert {"episode/reward", "episode/length", "train/loss", "train/mean_q", "train/eps"} <= tags


def write_npy(path):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    path.write_bytes(buffer.getvalue())


CORRUPTIONS = {
    # name: (damage(path), expected error, words the message must hold)
    "zero-byte arrays": (lambda p: (p / "arrays.npz").write_bytes(b""), CheckpointCorruptError, "0 bytes"),
    "truncated arrays": (lambda p: (p / "arrays.npz").write_bytes((p / "arrays.npz").read_bytes()[:500]),
                         CheckpointCorruptError, "damaged"),
    "random-bytes arrays": (lambda p: (p / "arrays.npz").write_bytes(os.urandom(4096)),
                            CheckpointCorruptError, "damaged"),
    "zero-byte state": (lambda p: (p / "state.json").write_bytes(b""), CheckpointCorruptError, "0 bytes"),
    "no marker": (lambda p: (p / "COMPLETE").unlink(), CheckpointIncompleteError, "did not finish"),
    "random-bytes marker": (lambda p: (p / "COMPLETE").write_bytes(os.urandom(64)), CheckpointCorruptError,
                            "not valid JSON"),
    "truncated arrays, re-signed": (
        lambda p: ((p / "arrays.npz").write_bytes((p / "arrays.npz").read_bytes()[:500]), resign(p)),
        CheckpointCorruptError, "not a readable .npz"),
    "random bytes, re-signed": (lambda p: ((p / "arrays.npz").write_bytes(os.urandom(4096)), resign(p)),
                                CheckpointCorruptError, "not a readable .npz"),
    "zero-byte state, re-signed": (lambda p: ((p / "state.json").write_bytes(b""), resign(p)),
                                   CheckpointCorruptError, "not valid JSON"),
    "wrong format state, re-signed": (
        lambda p: ((p / "state.json").write_text(json.dumps({"format": "sb3-zip"})), resign(p)),
        CheckpointFormatError, "not a keras-rl-reproduce-checkpoint"),
    "npy instead of npz, re-signed": (lambda p: (write_npy(p / "arrays.npz"), resign(p)),
                                      CheckpointFormatError, "single .npy"),
    "future version": (lambda p: (p / "COMPLETE").write_text(json.dumps(
        {**json.loads((p / "COMPLETE").read_text()), "version": 99})), CheckpointFormatError, "version 99"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_checkpoint_raises_typed_error(run_dir, tmp_path, name):
    damage, error, words = CORRUPTIONS[name]
    path = tmp_path / ckpt(run_dir, 100).name
    shutil.copytree(ckpt(run_dir, 100), path)
    damage(path)
    with pytest.raises(error, match=words) as info:
        read_checkpoint(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "weights.h5").write_bytes(os.urandom(100))
    with pytest.raises(CheckpointFormatError, match="is a file, not a checkpoint"):
        read_checkpoint(tmp_path / "weights.h5")
    with pytest.raises(callbacks.CheckpointNotFoundError, match="no checkpoint under"):
        callbacks.load_checkpoint(tmp_path)


def test_pickle_payload_is_never_loaded(run_dir, tmp_path):
    sentinel = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {sentinel}",))

    path = tmp_path / "ckpt_000000100_steps"
    shutil.copytree(ckpt(run_dir, 100), path)
    arrays = dict(np.load(path / "arrays.npz"))
    arrays["online/000"] = np.array([Payload()], dtype=object)
    np.savez(path / "arrays.npz", **arrays)  # np.savez pickles object arrays
    resign(path)
    with pytest.raises(CheckpointFormatError, match="pickled object array"):
        read_checkpoint(path)
    w = checkpoint_worker
    with pytest.raises(CheckpointFormatError):
        resume_from(path, w.build_agent(w.default_config()), w.make_env(w.default_config()))
    assert not sentinel.exists()


def test_other_env_and_other_shape_are_refused(run_dir):
    w = checkpoint_worker
    config = w.default_config()
    words = "saved on env 'NChain-v0', but this env is 'CartPole-v1'"
    with pytest.raises(CheckpointMismatchError, match=words):
        resume_from(run_dir, w.build_agent(config), w.make_env(w.default_config(env="cartpole")))
    agent = w.build_agent(w.default_config(hidden=32))
    before = [x.copy() for x in agent.model.get_weights()]
    with pytest.raises(CheckpointMismatchError, match="model of another shape"):
        resume_from(run_dir, agent, w.make_env(config))
    assert all(np.array_equal(a, b) for a, b in zip(before, agent.model.get_weights()))  # untouched


def test_newest_corrupt_falls_back_with_warning(run_dir, tmp_path):
    w = checkpoint_worker
    shutil.copytree(run_dir, tmp_path / "run")
    (ckpt(tmp_path / "run", 100) / "arrays.npz").write_bytes(b"")
    config = w.default_config()
    with pytest.warns(UserWarning, match="skipping bad checkpoint ckpt_000000100_steps"):
        state = resume_from(tmp_path / "run", w.build_agent(config), w.make_env(config))
    assert state.step == 75 and state.path.name == "ckpt_000000075_steps"


def test_crash_during_rename_leaves_previous_and_no_partial(run_dir, tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    save_arrays_state(folder, 10, {"q": np.zeros((5, 2))}, {"note": "first"})
    real_replace = os.replace

    def crash(src, dst):
        if Path(dst).name.startswith("ckpt_"):
            raise OSError("injected crash between writing the parts and renaming into place")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    expected = "step 20 .*: injected crash .* the last good checkpoint is"
    with pytest.raises(CheckpointWriteError, match=expected):
        save_arrays_state(folder, 20, {"q": np.ones((5, 2))})
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == ["ckpt_000000010_steps"]
    state, arrays = load_arrays_state(folder)
    assert state["note"] == "first" and state["kind"] == "arrays" and not arrays["q"].any()


def test_tabular_tables_round_trip_and_overwrite(tmp_path):
    q = np.random.default_rng(0).normal(size=(5, 2))
    save_arrays_state(tmp_path, 7, {"q_table": q}, {"episode": 3})
    save_arrays_state(tmp_path, 7, {"q_table": q * 2}, {"episode": 4})  # same step again: replaced
    state, arrays = load_arrays_state(tmp_path / "ckpt_000000007_steps" / "state.json")
    assert state["episode"] == 4 and np.array_equal(arrays["q_table"], q * 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt_000000007_steps"]
    with pytest.raises(TypeError, match="dtype object"):
        save_arrays_state(tmp_path, 8, {"bad": np.array([{}], dtype=object)})


def test_retention_keeps_last_k_and_best(tmp_path):
    w = checkpoint_worker
    config = w.default_config()
    w.seed_everything(0)
    env, agent = w.make_env(config), w.build_agent(config)
    logger = callbacks.RewardLogger(tmp_path / "episodes.csv")
    cp = Checkpoint(tmp_path / "ck", every_steps=10, keep_last=2, keep_best_by="episode_reward")
    agent.fit(env, nb_steps=100, callbacks=[logger, cp], verbose=0)
    rewards = callbacks.load_rewards(tmp_path / "episodes.csv")["r"].tolist()
    assert len(rewards) == 2  # episodes end at steps 40 and 80
    best = 40 if rewards[0] > rewards[1] else 80  # metric = last finished episode's reward; ties: earliest
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == sorted(
        f"ckpt_{s:09d}_steps" for s in {best, 90, 100})
    assert callbacks.best_checkpoint(tmp_path / "ck").name == f"ckpt_{best:09d}_steps"


def test_every_episodes_schedule(tmp_path):
    w = checkpoint_worker
    config = w.default_config()
    env, agent = w.make_env(config), w.build_agent(config)
    agent.fit(env, nb_steps=100, verbose=0, callbacks=[Checkpoint(tmp_path, every_episodes=1)])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt_000000040_steps", "ckpt_000000080_steps", "ckpt_000000100_steps"]
    assert read_checkpoint(tmp_path / "ckpt_000000080_steps")[0]["episode_in_progress"] is None


@pytest.mark.parametrize("kwargs, words", [
    ({"every_steps": 0}, "every_steps must be a positive integer"),
    ({"every_steps": -5}, "every_steps must be a positive integer"),
    ({"every_steps": 2.5}, "every_steps must be a positive integer"),
    ({"keep_last": 0}, "keep_last must be a positive integer"),
    ({"keep_best_by": "accuracy"}, "keep_best_by must be one of"),
    ({"best_mode": "up"}, "best_mode must be 'max' or 'min'"),
])
def test_bad_checkpoint_arguments(tmp_path, kwargs, words):
    with pytest.raises(ValueError, match=words):
        Checkpoint(tmp_path / "never", **kwargs)
    assert not (tmp_path / "never").exists()


def error_lines(proc):
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def test_evaluate_api_and_cli_errors(run_dir, cli, tmp_path):
    from reproduce.evaluate_command import load_agent
    from reproduce.evaluation import keras_rl_episodes

    w = checkpoint_worker
    agent = load_agent(run_dir, builder=w.build_agent)
    assert agent.step == 100
    episodes = keras_rl_episodes(agent, "NChain-v0", 3, seed=5)
    assert [length for _, length in episodes] == [1000, 1000, 1000]
    assert all(0 <= r <= 10 * 1000 for r, _ in episodes)  # NChain pays 0, 2 or 10 a step
    assert keras_rl_episodes(agent, "NChain-v0", 3, seed=5) == episodes  # same seeds, same episodes
    missing = cli("evaluate", tmp_path / "nope")
    assert missing.returncode == 2
    assert error_lines(missing) == [f"error: no run directory or checkpoint at {tmp_path / 'nope'}; "
                                    f"pass a run directory or a ckpt_<step>_steps directory"]
    unknown = cli("evaluate", run_dir)  # its config names experiment 'test-dqn': no builder registered
    assert unknown.returncode == 2
    assert "unknown experiment 'test-dqn'" in unknown.stderr
    assert len(error_lines(unknown)) == 1
    bad = cli("evaluate", run_dir, "--episodes", "0")
    assert bad.returncode == 2 and "expected a positive integer" in bad.stderr
    assert not list(run_dir.glob("checkpoints/eval_*"))


def test_no_warnings_from_a_clean_resume(run_dir):
    w = checkpoint_worker
    config = w.default_config()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        resume_from(run_dir, w.build_agent(config), w.make_env(config))
    with pytest.raises(CheckpointError):
        missing = run_dir / "checkpoints" / "ckpt_000000999_steps"
        resume_from(missing, w.build_agent(config), w.make_env(config))
