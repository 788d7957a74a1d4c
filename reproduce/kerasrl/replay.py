"""``ReplayMirror``: a ring-buffer copy of keras-rl's ``SequentialMemory`` sampling the same batches, fast.

keras-rl2 1.0.5 keeps its replay memory in ``collections.deque`` objects and ``sample`` reads them
one element at a time; a deque index costs time proportional to the distance from its nearest
end, so a 64-transition batch from a 50k-entry memory costs about 0.6 ms
(``bench/dqn_step_speed.py``), paid on every gradient step. The mirror keeps the same entries
in ring buffers (Python lists holding the very objects the deques hold, and for
``FastDQNAgent`` numpy arrays too) and draws the batch indexes with keras-rl's own
``sample_batch_indexes`` in the same order as ``SequentialMemory.sample`` (including its
redraws of transitions that start an episode), so for the same random state it returns exactly
the batch the memory would: only faster. :meth:`ReplayMirror.experiences` is
``memory.sample``'s list of ``Experience`` (any ``window_length``; :mod:`reproduce.fast_replay`
serves stock agents with it), :meth:`ReplayMirror.sample` the same batch as arrays
(``window_length=1``, ``FastDQNAgent``).

The ``SequentialMemory`` stays the agent's memory (checkpoints, user code and keras-rl read
it); the mirror rebuilds itself from it when its deques were replaced (a checkpoint restore).
"""

from __future__ import annotations

import copy

import numpy as np
import rl.memory as rl_memory
from rl.memory import Experience, SequentialMemory

FIELDS = ("observations", "actions", "rewards", "terminals")


class ReplayMirror:
    """Ring buffers holding what a ``SequentialMemory`` holds, in the same order.

    ``arrays``: also keep numpy copies (``observations``, ``actions``, ``rewards``,
    ``terminals``) for :meth:`sample`; only for ``window_length=1`` and array-like observations.
    """

    def __init__(self, memory: SequentialMemory, arrays: bool = True):
        self.memory = memory
        self.with_arrays = arrays
        self.rebuild()

    @classmethod
    def of(cls, memory) -> ReplayMirror | None:
        """An array mirror of ``memory``, or None for memories it cannot mirror (sample those directly)."""
        if type(memory) is SequentialMemory and memory.window_length == 1 and memory.observations.maxlen:
            return cls(memory)
        return None

    def rebuild(self) -> None:
        """Copy the memory's current contents (also after its deques were replaced)."""
        memory = self.memory
        self._sources = tuple(getattr(memory, field) for field in FIELDS)
        self.limit = memory.observations.maxlen
        self.size = 0
        self.start = 0
        self.observations = self.actions = self.rewards = self.terminals = None
        if not self.with_arrays:  # the deques' order is the ring's order from start 0
            self._obs, self._act, self._rew, self._term = (list(source) for source in self._sources)
            self.size = len(self._obs)
            return
        self._obs, self._act, self._rew, self._term = [], [], [], []
        for entry in zip(*self._sources):
            self.append(*entry)

    def in_sync(self) -> bool:
        """Whether the mirror holds what the memory holds: the same deques, as many entries, the
        same first observation and the same last entry (cheap checks, each O(1))."""
        memory = self.memory
        sources = self._sources
        if (memory.observations is not sources[0] or memory.actions is not sources[1]
                or memory.rewards is not sources[2] or memory.terminals is not sources[3]):
            return False
        n = self.size
        if n != len(memory.observations):
            return False
        if n == 0:
            return True
        first, last = self.start, (self.start + n - 1) % self.limit
        return (memory.observations[0] is self._obs[first] and memory.observations[-1] is self._obs[last]
                and memory.actions[-1] is self._act[last] and memory.rewards[-1] is self._rew[last]
                and memory.terminals[-1] is self._term[last])

    def append(self, observation, action, reward, terminal) -> None:
        """Mirror one ``memory.append(observation, action, reward, terminal, training=True)``."""
        if self.size < self.limit:
            at = self.size
            self._obs.append(observation)
            self._act.append(action)
            self._rew.append(reward)
            self._term.append(terminal)
            self.size += 1
        else:
            at = self.start
            self._obs[at], self._act[at] = observation, action
            self._rew[at], self._term[at] = reward, terminal
            self.start = (at + 1) % self.limit
        if self.with_arrays:
            self._append_arrays(at, observation, action, reward, terminal)

    def _append_arrays(self, at, observation, action, reward, terminal) -> None:
        if self.observations is None:
            first = np.asarray(observation)
            self.observations = np.zeros((self.limit, *first.shape), dtype=first.dtype)
            self.actions = np.zeros(self.limit, dtype=np.int64)
            self.rewards = np.zeros(self.limit, dtype=np.float64)
            self.terminals = np.zeros(self.limit, dtype=np.int8)  # 0, 1 or TRUNCATED (2)
        self.observations[at] = observation
        self.actions[at] = action
        self.rewards[at] = reward
        self.terminals[at] = terminal

    def draw(self, batch_size: int, batch_idxs=None) -> list[int]:
        """The entry indexes ``SequentialMemory.sample`` uses (its ``idx``: transition ``idx - 1``
        to ``idx``), from the same ``sample_batch_indexes`` calls in the same order, with the same
        redraws of indexes whose previous entry ended an episode, and the same checks."""
        window = self.memory.window_length
        n = self.size
        assert n >= window + 2, "not enough entries in the memory"
        if batch_idxs is None:
            batch_idxs = rl_memory.sample_batch_indexes(window, n - 1, size=batch_size)
        if type(batch_idxs) is list and all(type(i) is int for i in batch_idxs):  # random.sample's
            idxs = [i + 1 for i in batch_idxs]
        else:
            idxs = (np.array(batch_idxs) + 1).tolist()
        assert min(idxs) >= window + 1
        assert max(idxs) < n
        assert len(idxs) == batch_size
        terminals, base, limit = self._term, self.start - 2, self.limit
        for i, idx in enumerate(idxs):  # in batch order, as the memory's loop redraws
            if terminals[(base + idx) % limit]:
                while terminals[(base + idx) % limit]:
                    idx = rl_memory.sample_batch_indexes(window + 1, n, size=1)[0]
                idxs[i] = int(idx)
        return idxs

    def experiences(self, batch_size: int, batch_idxs=None) -> list[Experience]:
        """``memory.sample(batch_size, batch_idxs)``: the same ``Experience`` list, holding the
        same objects (``state0``/``state1`` lists of the stored observations, or for
        ``window_length > 1`` built exactly as keras-rl builds them)."""
        idxs = self.draw(batch_size, batch_idxs)
        if self.memory.window_length > 1:
            return [self._stacked(idx) for idx in idxs]
        obs, act, rew, term = self._obs, self._act, self._rew, self._term
        base, limit = self.start - 1, self.limit
        new = tuple.__new__
        return [new(Experience, ([obs[j]], act[j], rew[j], [obs[(j + 1) % limit]], term[j]))
                for j in [(base + idx) % limit for idx in idxs]]

    def _stacked(self, idx: int) -> Experience:
        """One experience of a ``window_length > 1`` memory: ``SequentialMemory.sample``'s loop body."""
        memory = self.memory
        obs, start, limit = self._obs, self.start, self.limit
        state0 = [obs[(start + idx - 1) % limit]]
        for offset in range(0, memory.window_length - 1):
            current_idx = idx - 2 - offset
            assert current_idx >= 1
            if self._term[(start + current_idx - 1) % limit] and not memory.ignore_episode_boundaries:
                break  # the previous observation ended an episode: don't leak into it
            state0.insert(0, obs[(start + current_idx) % limit])
        while len(state0) < memory.window_length:
            state0.insert(0, rl_memory.zeroed_observation(state0[0]))
        j = (start + idx - 1) % limit
        state1 = [copy.deepcopy(x) for x in state0[1:]]
        state1.append(obs[(start + idx) % limit])
        return Experience(state0, self._act[j], self._rew[j], state1, self._term[j])

    def sample(self, batch_size: int):
        """``memory.sample(batch_size)`` as arrays: ``state0, actions, rewards, state1, terminal1``.

        ``state0``/``state1`` have shape ``(batch_size, 1, *observation_shape)`` like the memory's
        experiences; the random draws are exactly those ``SequentialMemory.sample`` makes.
        """
        assert self.with_arrays and self.memory.window_length == 1, "array batches need window_length=1"
        idxs = np.array(self.draw(batch_size))
        before = (self.start + idxs - 1) % self.limit
        after = (self.start + idxs) % self.limit
        return (self.observations[before][:, None], self.actions[before], self.rewards[before],
                self.observations[after][:, None], self.terminals[before])
