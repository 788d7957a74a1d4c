"""A speed feature, not a fix: keras-rl's ``SequentialMemory.sample`` served from a ring-buffer mirror.

keras-rl2 1.0.5's ``SequentialMemory.sample`` reads its ``collections.deque`` objects one element
at a time, and a deque index costs time proportional to the distance from its nearer end: with
a 50,000-entry memory a 32-transition batch costs 0.3-0.4 ms per gradient step
(``bench/replay_sampling.py``). Installed, ``sample`` on a memory of exactly
``SequentialMemory`` (any ``window_length``) is served by a
:class:`~reproduce.kerasrl.replay.ReplayMirror` attached to the memory: the same
``sample_batch_indexes`` calls in the same order, the same redraws, the same ``Experience``
list holding the very objects the deques hold. ``append`` feeds the mirror as it feeds the
deques; a mirror whose deques were replaced (a checkpoint restore) or changed behind ``append``
rebuilds itself on the next ``sample``. Training is bit-identical (``tests/test_fast_replay.py``).

:mod:`reproduce.fast_session`'s ``install`` installs it (``fast-path`` in
``compat.ACTIVE_FIXES``); ``REPRODUCE_KERAS_RL_FAST=0`` (read at each ``sample``) turns it off.
Delete when keras-rl's memory indexes in O(1).
"""

from __future__ import annotations

import functools

from reproduce.fast_session import fast_path_enabled

MIRROR_ATTR = "_reproduce_mirror"  # on the memory instance: its ReplayMirror, made at the first sample


def mirror_of(memory):
    """The memory's up-to-date mirror (made or rebuilt now if needed)."""
    from reproduce.kerasrl.replay import ReplayMirror

    mirror = memory.__dict__.get(MIRROR_ATTR)
    if mirror is None:
        mirror = memory.__dict__[MIRROR_ATTR] = ReplayMirror(memory, arrays=False)
    elif not mirror.in_sync():
        mirror.rebuild()
    return mirror


def install() -> str:
    """Wrap ``SequentialMemory.sample`` and ``append``; the words ``fast_session``'s line adds."""
    from rl.memory import SequentialMemory

    original_sample, original_append = SequentialMemory.sample, SequentialMemory.append
    if getattr(original_sample, "_reproduce_fast_replay", False):
        return "SequentialMemory.sample from a mirror"

    @functools.wraps(original_sample)
    def sample(self, batch_size, batch_idxs=None):
        if (type(self) is not SequentialMemory or not getattr(self.observations, "maxlen", None)
                or not fast_path_enabled()):
            return original_sample(self, batch_size, batch_idxs)
        return mirror_of(self).experiences(batch_size, batch_idxs)

    @functools.wraps(original_append)
    def append(self, observation, action, reward, terminal, training=True):
        original_append(self, observation, action, reward, terminal, training=training)
        mirror = self.__dict__.get(MIRROR_ATTR)
        if training and mirror is not None:
            mirror.append(observation, action, reward, terminal)

    sample._reproduce_fast_replay = True
    SequentialMemory.sample, SequentialMemory.append = sample, append
    return "SequentialMemory.sample from a mirror"
