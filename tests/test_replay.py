"""ReplayMirror draws exactly the batches keras-rl's SequentialMemory.sample draws."""

import random
from collections import deque

import numpy as np
import pytest
from rl.memory import SequentialMemory

from reproduce.kerasrl.agent import TRUNCATED, experience_arrays
from reproduce.kerasrl.replay import ReplayMirror


@pytest.fixture(autouse=True)
def stock_sample(monkeypatch):
    """keras-rl's own ``SequentialMemory.sample`` (the fast path serves it from a mirror too), so
    the comparison is against keras-rl, not the mirror against itself."""
    monkeypatch.setenv("REPRODUCE_KERAS_RL_FAST", "0")


def _fill(memory, mirror, steps, rng, shape=(4,)):
    for _ in range(steps):
        obs = rng.normal(size=shape).astype(np.float32) if shape else int(rng.integers(5))
        end = [False, True, TRUNCATED][int(rng.choice(3, p=[0.8, 0.1, 0.1]))]
        action, reward = int(rng.integers(2)), float(rng.normal())
        memory.append(obs, action, reward, end)
        if mirror is not None:
            mirror.append(obs, action, reward, end)


def _assert_same_batches(memory, mirror, batch_size, draws=20):
    for k in range(draws):
        random.seed(k)
        np.random.seed(k)
        want = experience_arrays(memory.sample(batch_size))
        random.seed(k)
        np.random.seed(k)
        got = mirror.sample(batch_size)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
            assert a.shape == b.shape


@pytest.mark.parametrize("limit, steps", [(1000, 300), (50, 333)])  # partly full; wrapped many times
def test_mirror_samples_the_memorys_batches(limit, steps):
    memory = SequentialMemory(limit=limit, window_length=1)
    mirror = ReplayMirror(memory)
    _fill(memory, mirror, steps, np.random.default_rng(0))
    assert mirror.in_sync()
    _assert_same_batches(memory, mirror, 32)


@pytest.mark.filterwarnings("ignore:Not enough entries")
def test_mirror_matches_with_replacement_draws_and_integer_observations():
    memory = SequentialMemory(limit=100, window_length=1)
    mirror = ReplayMirror(memory)
    _fill(memory, mirror, 12, np.random.default_rng(1), shape=())
    _assert_same_batches(memory, mirror, 32)  # 32 > 10 entries: keras-rl's with-replacement branch


def test_mirror_rebuilds_after_the_memory_is_restored():
    memory = SequentialMemory(limit=80, window_length=1)
    mirror = ReplayMirror(memory)
    _fill(memory, mirror, 100, np.random.default_rng(2))
    other = SequentialMemory(limit=80, window_length=1)
    _fill(other, None, 150, np.random.default_rng(3))
    for field in ("observations", "actions", "rewards", "terminals"):  # what a checkpoint restore does
        setattr(memory, field, deque(getattr(other, field), maxlen=80))
    assert not mirror.in_sync()
    mirror.rebuild()
    assert mirror.in_sync()
    _assert_same_batches(memory, mirror, 16)


def test_only_window_length_one_sequential_memories_are_mirrored():
    assert isinstance(ReplayMirror.of(SequentialMemory(limit=10, window_length=1)), ReplayMirror)
    assert ReplayMirror.of(SequentialMemory(limit=10, window_length=4)) is None
