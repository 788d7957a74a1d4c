"""``ReplayMirror``: a numpy copy of a keras-rl ``SequentialMemory`` that samples the same batches, fast.

keras-rl2 1.0.5 keeps its replay memory in ``collections.deque`` objects and ``sample`` reads them
one element at a time; a deque index costs time proportional to the distance from its nearest
end, so a 64-transition batch from a 50k-entry memory costs about 0.6 ms
(``bench/dqn_step_speed.py``), paid on every gradient step. The mirror keeps the same entries
in numpy ring arrays and draws the batch indexes with keras-rl's own ``sample_batch_indexes``
in the same order as ``SequentialMemory.sample`` (including its redraws of transitions that
start an episode), so for the same random state it returns exactly the batch the memory
would: only faster.

The ``SequentialMemory`` stays the agent's memory (checkpoints, user code and keras-rl read
it); the mirror rebuilds itself from it when its deques were replaced (a checkpoint restore).
Only ``window_length=1`` is mirrored; other memories are sampled by keras-rl as usual.
"""

from __future__ import annotations

import numpy as np
from rl.memory import SequentialMemory, sample_batch_indexes


class ReplayMirror:
    """Numpy ring arrays holding what a ``SequentialMemory(window_length=1)`` holds."""

    def __init__(self, memory: SequentialMemory):
        self.memory = memory
        self.limit = memory.limit
        self._source = None
        self.rebuild()

    @classmethod
    def of(cls, memory) -> ReplayMirror | None:
        """A mirror of ``memory``, or None for memories it cannot mirror (sample those directly)."""
        if type(memory) is SequentialMemory and memory.window_length == 1:
            return cls(memory)
        return None

    def rebuild(self) -> None:
        """Copy the memory's current contents (also after its deques were replaced)."""
        memory = self.memory
        self._source = memory.observations
        self.size = 0
        self.start = 0
        self.observations = self.actions = self.rewards = self.terminals = None
        for entry in zip(memory.observations, memory.actions, memory.rewards, memory.terminals):
            self.append(*entry)

    def in_sync(self) -> bool:
        return self._source is self.memory.observations and self.size == self.memory.nb_entries

    def append(self, observation, action, reward, terminal) -> None:
        """Mirror one ``memory.append(observation, action, reward, terminal, training=True)``."""
        if self.observations is None:
            first = np.asarray(observation)
            self.observations = np.zeros((self.limit, *first.shape), dtype=first.dtype)
            self.actions = np.zeros(self.limit, dtype=np.int64)
            self.rewards = np.zeros(self.limit, dtype=np.float64)
            self.terminals = np.zeros(self.limit, dtype=np.int8)  # 0, 1 or TRUNCATED (2)
        at = (self.start + self.size) % self.limit
        self.observations[at] = observation
        self.actions[at] = action
        self.rewards[at] = reward
        self.terminals[at] = terminal
        if self.size < self.limit:
            self.size += 1
        else:
            self.start = (self.start + 1) % self.limit

    def sample(self, batch_size: int):
        """``memory.sample(batch_size)`` as arrays: ``state0, actions, rewards, state1, terminal1``.

        ``state0``/``state1`` have shape ``(batch_size, 1, *observation_shape)`` like the memory's
        experiences; the random draws are exactly those ``SequentialMemory.sample`` makes.
        """
        n = self.size
        assert n >= 3, "not enough entries in the memory"
        idxs = np.array(sample_batch_indexes(1, n - 1, size=batch_size)) + 1
        terminal = self.terminals
        slot = (self.start + idxs - 2) % self.limit
        for i in np.flatnonzero(terminal[slot]):  # in batch order, as the memory's loop redraws
            idx = idxs[i]
            while terminal[(self.start + idx - 2) % self.limit]:
                idx = sample_batch_indexes(2, n, size=1)[0]
            idxs[i] = idx
        before = (self.start + idxs - 1) % self.limit
        after = (self.start + idxs) % self.limit
        return (self.observations[before][:, None], self.actions[before], self.rewards[before],
                self.observations[after][:, None], self.terminals[before])
