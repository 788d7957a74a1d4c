"""What a checkpoint holds for each keras-rl agent type: one table of "state parts".

:data:`AGENT_PARTS` maps an agent type to its parts; every part knows how to capture one
piece of the agent as JSON plus arrays (under ``"<key>/..."`` in ``arrays.npz``), how to
check that a checkpoint's piece fits the agent (before anything is changed) and how to
restore it. Parts marked ``episode`` hold state that keras-rl's ``fit`` clears at an
episode's start (``agent.reset_states()``); a resume that continues an interrupted episode
puts them back again after that reset.

A subclass uses its nearest listed base's parts (``FastDQNAgent`` is a ``DQNAgent``); a new
agent type is supported by adding an entry to the table.
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from callbacks.store import CheckpointFormatError, CheckpointMismatchError, UnsupportedAgentError

# Scalar types a memory holds, by name: restored with the same type so numpy's dtype
# promotion (float32 vs float64 batches) is the same after a reload.
SCALAR_TYPES = {
    "float": float, "int": int, "bool": bool, "float32": np.float32, "float64": np.float64,
    "int64": np.int64, "int32": np.int32, "bool_": np.bool_, "uint8": np.uint8,
}
# Memory class -> the sequences it keeps (deques, or lists for an episode in progress).
MEMORY_FIELDS = {
    "SequentialMemory": ("observations", "actions", "rewards", "terminals",
                         "recent_observations", "recent_terminals"),
    "EpisodeParameterMemory": ("params", "total_rewards", "intermediate_rewards",
                               "recent_observations", "recent_terminals"),
}


# ---------------------------------------------------------------- packing sequences and scalars
def pack_sequence(values) -> tuple[np.ndarray, list[str] | None]:
    """A deque or list as one array; scalars also return their type names for an exact restore."""
    values = list(values)
    if not values:
        return np.zeros((0,)), []
    if all(np.isscalar(v) or isinstance(v, np.generic) for v in values):
        kinds = [type(v).__name__ for v in values]
        unknown = sorted(set(kinds) - set(SCALAR_TYPES))
        if unknown:
            raise TypeError(f"cannot checkpoint sequence values of type {unknown}")
        return np.asarray(values, dtype=np.float64 if any("float" in k for k in kinds) else np.int64), kinds
    return np.stack([np.asarray(v) for v in values]), None


def unpack_sequence(array: np.ndarray, kinds: list[str] | None) -> list:
    if kinds is None:
        return [array[i] for i in range(len(array))]
    if len(kinds) != len(array):
        raise CheckpointFormatError(f"a saved sequence has {len(array)} values but {len(kinds)} type names")
    return [SCALAR_TYPES[k](v.item()) for k, v in zip(kinds, array)]


def pack_scalar(value) -> dict:
    return {"value": value.item() if isinstance(value, np.generic) else value, "type": type(value).__name__}


def unpack_scalar(spec: dict):
    return SCALAR_TYPES[spec["type"]](spec["value"]) if spec["type"] in SCALAR_TYPES else spec["value"]


def _numbered(prefix: str, values) -> dict[str, np.ndarray]:
    return {f"{prefix}/{i:03d}": np.asarray(v) for i, v in enumerate(values)}


def _collect(arrays: dict, prefix: str) -> list[np.ndarray]:
    return [arrays[k] for k in sorted(k for k in arrays if k.startswith(prefix + "/"))]


def check_shapes(what: str, saved: list[np.ndarray], current: list) -> None:
    got = [tuple(a.shape) for a in saved]
    want = [tuple(np.shape(a)) for a in current]
    if got != want:
        raise CheckpointMismatchError(
            f"the checkpoint's {what} has shapes {got}, but this agent's {what} has {want}: "
            f"it was saved from a model of another shape; rebuild the agent with the checkpoint's config"
        )


# ---------------------------------------------------------------- parts
@dataclasses.dataclass(frozen=True)
class Part:
    """One piece of an agent's state, stored as ``state["parts"][key]`` and arrays ``key/...``."""

    key: str
    episode = False  # re-applied after fit's reset_states when an interrupted episode continues

    def capture(self, agent, save_memory: bool) -> tuple[object, dict]:
        raise NotImplementedError

    def check(self, agent, state, arrays: dict) -> None:
        """Raise :class:`CheckpointMismatchError` if the saved piece does not fit ``agent``."""

    def restore(self, agent, state, arrays: dict) -> None:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class ModelWeights(Part):
    """The weights of the Keras model at ``agent.<attr>``."""

    attr: str

    def capture(self, agent, save_memory):
        weights = getattr(agent, self.attr).get_weights()
        return {"attr": self.attr, "n_weights": len(weights)}, _numbered(self.key, weights)

    def check(self, agent, state, arrays):
        current = getattr(agent, self.attr).get_weights()
        check_shapes(f"{self.attr} weights", _collect(arrays, self.key), current)

    def restore(self, agent, state, arrays):
        getattr(agent, self.attr).set_weights(_collect(arrays, self.key))


def unwrap_optimizer(optimizer):
    """The optimizer that holds the slots (unwraps keras-rl's ``AdditionalUpdatesOptimizer``)."""
    return getattr(optimizer, "optimizer", optimizer)


@dataclasses.dataclass(frozen=True)
class OptimizerSlots(Part):
    """The optimizer state (iterations, moments) of ``agent.<attr>``: a compiled model or an optimizer."""

    attr: str

    def optimizer(self, agent, build: bool = False):
        owner = getattr(agent, self.attr)
        if hasattr(owner, "train_on_batch"):  # a compiled Keras model
            if build and getattr(owner, "train_function", None) is None:
                owner._make_train_function()  # graph mode creates the slots lazily, on the first train step
            owner = owner.optimizer
        return unwrap_optimizer(owner)

    def capture(self, agent, save_memory):
        optimizer = self.optimizer(agent)
        weights = optimizer.get_weights()
        return {"class": type(optimizer).__name__, "n_weights": len(weights)}, _numbered(self.key, weights)

    def check(self, agent, state, arrays):
        saved = _collect(arrays, self.key)
        if saved:
            current = self.optimizer(agent, build=True).get_weights()
            check_shapes(f"{self.attr} optimizer state", saved, current)

    def restore(self, agent, state, arrays):
        saved = _collect(arrays, self.key)
        if saved:
            self.optimizer(agent, build=True).set_weights(saved)


def _memory_fields(memory) -> tuple[str, ...]:
    for cls in type(memory).__mro__:
        if cls.__name__ in MEMORY_FIELDS:
            return MEMORY_FIELDS[cls.__name__]
    raise UnsupportedAgentError(
        f"cannot checkpoint a {type(memory).__name__} memory; supported memories: {', '.join(MEMORY_FIELDS)}"
    )


def _restore_sequence(owner, field: str, values: list, what: str) -> None:
    current = getattr(owner, field)
    if isinstance(current, list):
        setattr(owner, field, list(values))
        return
    maxlen = current.maxlen if current is not None else None
    if maxlen is not None and len(values) > maxlen:
        raise CheckpointMismatchError(
            f"the checkpoint's {what} holds {len(values)} {field}, more than this agent's limit {maxlen}; "
            f"rebuild the agent with the checkpoint's config"
        )
    setattr(owner, field, deque(values, maxlen=maxlen))  # a new deque: mirrors of the old one resync


@dataclasses.dataclass(frozen=True)
class Memory(Part):
    """``agent.memory``'s sequences (replay transitions, or CEM's episode parameters and returns).

    Saved when the checkpoint is asked to (``save_memory``), or always with ``always=True``.
    """

    always: bool = False

    def capture(self, agent, save_memory):
        if not (save_memory or self.always):
            return None, {}
        memory = agent.memory
        state, arrays = {"class": type(memory).__name__, "types": {}}, {}
        for field in _memory_fields(memory):
            arrays[f"{self.key}/{field}"], state["types"][field] = pack_sequence(getattr(memory, field))
        return state, arrays

    def check(self, agent, state, arrays):
        if state is None:
            return
        if type(agent.memory).__name__ != state.get("class"):
            raise CheckpointMismatchError(
                f"the checkpoint holds a {state.get('class')} memory, "
                f"this agent has {type(agent.memory).__name__}"
            )
        for field in _memory_fields(agent.memory):
            current = getattr(agent.memory, field)
            n = len(arrays[f"{self.key}/{field}"])
            if getattr(current, "maxlen", None) is not None and n > current.maxlen:
                raise CheckpointMismatchError(
                    f"the checkpoint's memory holds {n} {field}, more than this memory's limit "
                    f"{current.maxlen}; rebuild the agent with the checkpoint's config"
                )

    def restore(self, agent, state, arrays):
        if state is None:
            return
        for field in _memory_fields(agent.memory):
            values = unpack_sequence(arrays[f"{self.key}/{field}"], state["types"].get(field))
            _restore_sequence(agent.memory, field, values, "memory")


@dataclasses.dataclass(frozen=True)
class Window(Part):
    """Short per-episode deques on the agent itself (SARSA's last two observations, actions, rewards)."""

    fields: tuple[str, ...]
    episode = True

    def capture(self, agent, save_memory):
        state, arrays = {"types": {}, "present": {}}, {}
        for field in self.fields:
            values = getattr(agent, field)
            state["present"][field] = values is not None
            arrays[f"{self.key}/{field}"], state["types"][field] = pack_sequence(values or ())
        return state, arrays

    def restore(self, agent, state, arrays):
        for field in self.fields if state is not None else ():
            if not state["present"].get(field):
                continue
            if getattr(agent, field) is None:  # a fresh agent: keras-rl makes these at the first reset
                agent.reset_states()
            values = unpack_sequence(arrays[f"{self.key}/{field}"], state["types"].get(field))
            _restore_sequence(agent, field, values, "agent's episode window")


@dataclasses.dataclass(frozen=True)
class RandomProcess(Part):
    """``agent.random_process`` (exploration noise): its annealing counter and, for OU, its last value."""

    fields = ("n_steps", "x_prev")
    episode = True

    def capture(self, agent, save_memory):
        process = agent.random_process
        if process is None:
            return None, {}
        state, arrays = {"class": type(process).__name__, "values": {}}, {}
        for field in self.fields:
            if hasattr(process, field):
                value = getattr(process, field)
                if isinstance(value, np.ndarray):
                    arrays[f"{self.key}/{field}"] = value
                    state["values"][field] = {"array": True}
                else:
                    state["values"][field] = pack_scalar(value)
        return state, arrays

    def check(self, agent, state, arrays):
        current = agent.random_process
        saved_class = None if state is None else state.get("class")
        current_class = None if current is None else type(current).__name__
        if saved_class != current_class:
            raise CheckpointMismatchError(
                f"the checkpoint's random process is {saved_class}, this agent's is {current_class}; "
                f"rebuild the agent with the checkpoint's config"
            )

    def restore(self, agent, state, arrays):
        if state is None:
            return
        for field, spec in state["values"].items():
            value = arrays[f"{self.key}/{field}"].copy() if spec.get("array") else unpack_scalar(spec)
            setattr(agent.random_process, field, value)


@dataclasses.dataclass(frozen=True)
class CEMSearch(Part):
    """CEM's search state: the parameter distribution (mean, std), the best parameters seen and
    the episode counter that paces its updates."""

    def capture(self, agent, save_memory):
        n = agent.num_weights
        best_reward, best_params = agent.best_seen
        arrays = {f"{self.key}/mean": agent.theta[:n], f"{self.key}/std": agent.theta[n:],
                  f"{self.key}/best_params": np.asarray(best_params)}
        return {"episode": int(agent.episode), "best_reward": pack_scalar(best_reward)}, arrays

    def check(self, agent, state, arrays):
        saved = [arrays[f"{self.key}/{name}"] for name in ("mean", "std", "best_params")]
        check_shapes("CEM parameter distribution", saved, [np.zeros(agent.num_weights)] * 3)

    def restore(self, agent, state, arrays):
        agent.theta = np.concatenate([arrays[f"{self.key}/mean"], arrays[f"{self.key}/std"]])
        agent.best_seen = (unpack_scalar(state["best_reward"]), arrays[f"{self.key}/best_params"].copy())
        agent.episode = int(state["episode"])


@dataclasses.dataclass(frozen=True)
class Settings(Part):
    """Plain settings that must match (e.g. double/dueling DQN): checked, never restored."""

    attrs: tuple[str, ...]

    def capture(self, agent, save_memory):
        return {name: pack_scalar(getattr(agent, name, None)) for name in self.attrs}, {}

    def check(self, agent, state, arrays):
        for name in self.attrs if state is not None else ():
            saved, current = unpack_scalar(state[name]), getattr(agent, name, None)
            if saved != current:
                raise CheckpointMismatchError(
                    f"the checkpoint's agent has {name}={saved!r}, this agent has {name}={current!r}; "
                    f"build the agent with the checkpoint's config"
                )

    def restore(self, agent, state, arrays):
        pass


# ---------------------------------------------------------------- the table
AGENT_PARTS: dict[str, tuple[Part, ...]] = {
    "DQNAgent": (
        Settings("dqn", ("enable_double_dqn", "enable_dueling_network", "dueling_type")),
        ModelWeights("online", "model"), ModelWeights("target", "target_model"),
        OptimizerSlots("optimizer", "trainable_model"), Memory("memory"),
    ),
    "SARSAAgent": (
        ModelWeights("online", "model"), OptimizerSlots("optimizer", "trainable_model"),
        Window("window", ("observations", "actions", "rewards")),
    ),
    "CEMAgent": (ModelWeights("online", "model"), CEMSearch("cem"), Memory("memory", always=True)),
    "DDPGAgent": (
        ModelWeights("actor", "actor"), ModelWeights("critic", "critic"),
        ModelWeights("target_actor", "target_actor"), ModelWeights("target_critic", "target_critic"),
        OptimizerSlots("actor_optimizer", "actor_optimizer"), OptimizerSlots("critic_optimizer", "critic"),
        RandomProcess("random_process"), Memory("memory"),
    ),
    "NAFAgent": (
        ModelWeights("V", "V_model"), ModelWeights("L", "L_model"), ModelWeights("mu", "mu_model"),
        ModelWeights("target_V", "target_V_model"), OptimizerSlots("optimizer", "combined_model"),
        RandomProcess("random_process"), Memory("memory"),
    ),
}


def agent_type(agent) -> str:
    """The table entry for ``agent``: its class or nearest listed base class."""
    for cls in type(agent).__mro__:
        if cls.__name__ in AGENT_PARTS:
            return cls.__name__
    raise UnsupportedAgentError(
        f"cannot checkpoint a {type(agent).__name__}: checkpoints support {', '.join(AGENT_PARTS)} "
        f"and their subclasses"
    )


def parts_for(agent) -> tuple[Part, ...]:
    return AGENT_PARTS[agent_type(agent)]


__all__ = ["AGENT_PARTS", "Part", "agent_type", "parts_for", "unwrap_optimizer"]
