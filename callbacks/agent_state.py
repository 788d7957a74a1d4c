"""Capture and restore the full state of a keras-rl agent as plain arrays plus JSON.

What is captured: online and target weights, the optimizer's weights (the real optimizer
inside keras-rl's ``AdditionalUpdatesOptimizer`` for soft target updates), the global step,
the policy's schedule position, optionally the replay memory (``SequentialMemory``'s
deques, with each element's scalar type so replayed batches are bit-identical), the Python
``random`` and numpy global RNG states, TensorFlow's graph seed, and the env's RNGs and
plain attributes (so an episode can continue exactly where it stopped).
"""

from __future__ import annotations

import random
from collections import deque

import numpy as np

from callbacks.store import CheckpointError, CheckpointFormatError, CheckpointMismatchError

# Scalar types a replay memory holds, by name: restored with the same type so numpy's
# dtype promotion (float32 vs float64 batches) is the same after a reload.
_SCALAR_TYPES = {
    "float": float, "int": int, "bool": bool, "float32": np.float32, "float64": np.float64,
    "int64": np.int64, "int32": np.int32, "bool_": np.bool_, "uint8": np.uint8,
}
_MEMORY_FIELDS = (
    "observations", "actions", "rewards", "terminals", "recent_observations", "recent_terminals",
)


# ---------------------------------------------------------------- weights and optimizer
def real_optimizer(agent):
    """The optimizer that holds the slots (unwraps keras-rl's AdditionalUpdatesOptimizer)."""
    optimizer = agent.trainable_model.optimizer
    return getattr(optimizer, "optimizer", optimizer)


def build_optimizer_slots(agent) -> None:
    """Create the optimizer's slot variables now (graph mode creates them lazily on first train)."""
    model = agent.trainable_model
    if getattr(model, "train_function", None) is None:
        model._make_train_function()


def _weights(prefix: str, values: list) -> dict[str, np.ndarray]:
    return {f"{prefix}/{i:03d}": np.asarray(v) for i, v in enumerate(values)}


def _collect(arrays: dict, prefix: str) -> list[np.ndarray]:
    keys = sorted(k for k in arrays if k.startswith(prefix + "/"))
    return [arrays[k] for k in keys]


def _check_shapes(what: str, saved: list[np.ndarray], current: list[np.ndarray]):
    got = [tuple(a.shape) for a in saved]
    want = [tuple(np.shape(a)) for a in current]
    if got != want:
        raise CheckpointMismatchError(
            f"the checkpoint's {what} has shapes {got}, but this agent's {what} has {want}: "
            f"it was saved from a model of another shape; rebuild the agent with the checkpoint's config"
        )


# ---------------------------------------------------------------- memory
def _pack_sequence(values) -> tuple[np.ndarray, list[str] | None]:
    """A deque as one array; scalars also return their type names for an exact restore."""
    values = list(values)
    if not values:
        return np.zeros((0,)), []
    if all(np.isscalar(v) or isinstance(v, np.generic) for v in values):
        kinds = [type(v).__name__ for v in values]
        unknown = sorted(set(kinds) - set(_SCALAR_TYPES))
        if unknown:
            raise TypeError(f"cannot checkpoint memory values of type {unknown}")
        return np.asarray(values, dtype=np.float64 if any("float" in k for k in kinds) else np.int64), kinds
    return np.stack([np.asarray(v) for v in values]), None


def _unpack_sequence(array: np.ndarray, kinds: list[str] | None) -> list:
    if kinds is None:
        return [array[i] for i in range(len(array))]
    if len(kinds) != len(array):
        raise CheckpointFormatError(f"memory has {len(array)} values but {len(kinds)} type names")
    return [_SCALAR_TYPES[k](v.item()) for k, v in zip(kinds, array)]


def capture_memory(memory) -> tuple[dict, dict]:
    state, arrays = {"class": type(memory).__name__, "types": {}}, {}
    for field in _MEMORY_FIELDS:
        array, kinds = _pack_sequence(getattr(memory, field))
        arrays[f"memory/{field}"] = array
        state["types"][field] = kinds
    return state, arrays


def restore_memory(memory, state: dict, arrays: dict) -> None:
    if type(memory).__name__ != state.get("class"):
        raise CheckpointMismatchError(
            f"the checkpoint holds a {state.get('class')} replay memory, "
            f"this agent has {type(memory).__name__}"
        )
    for field in _MEMORY_FIELDS:
        current = getattr(memory, field)
        values = _unpack_sequence(arrays[f"memory/{field}"], state["types"].get(field))
        if current.maxlen is not None and len(values) > current.maxlen:
            raise CheckpointMismatchError(
                f"the checkpoint's memory holds {len(values)} {field}, more than this memory's limit "
                f"{current.maxlen}; rebuild the agent with the checkpoint's config"
            )
        setattr(memory, field, deque(values, maxlen=current.maxlen))


# ---------------------------------------------------------------- RNGs
def capture_rng() -> tuple[dict, dict]:
    import tensorflow as tf

    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": {"version": version, "gauss_next": gauss},
        "numpy": {"name": name, "pos": int(pos), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached)},
        "tf_graph_seed": tf.compat.v1.get_default_graph().seed,
    }
    arrays = {"rng/python": np.asarray(internal, dtype=np.int64),
              "rng/numpy": np.asarray(keys, dtype=np.uint32)}
    return state, arrays


def restore_rng(state: dict, arrays: dict) -> None:
    py, nps = state["python"], state["numpy"]
    random.setstate((py["version"], tuple(int(x) for x in arrays["rng/python"]), py["gauss_next"]))
    np.random.set_state(
        (nps["name"], arrays["rng/numpy"], nps["pos"], nps["has_gauss"], nps["cached_gaussian"])
    )


# ---------------------------------------------------------------- env
def env_id(env) -> str | None:
    for obj in (env, getattr(env, "env", None), getattr(env, "unwrapped", None)):
        spec = getattr(obj, "spec", None)
        if spec is not None and getattr(spec, "id", None):
            return spec.id
    return None


def _env_layers(env):
    """The gymnasium env chain under a keras-rl adapter: outer wrapper first, unwrapped last."""
    layer = getattr(env, "env", None)
    while layer is not None:
        yield layer
        if not hasattr(layer, "unwrapped") or layer is layer.unwrapped:
            break
        layer = getattr(layer, "env", None)


def _plain(value, allow_none: bool):
    if value is None:
        return allow_none
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


def capture_env(env, observation=None) -> tuple[dict, dict]:
    """Env id, spaces, RNG states and plain attributes of every layer; the last raw observation."""
    state = {"id": env_id(env), "observation_space": repr(env.observation_space),
             "action_space": repr(env.action_space), "rng": {}, "attrs": []}
    arrays = {}
    unwrapped = getattr(env, "unwrapped", None)
    for name, obj in (("env", unwrapped), ("action_space", env.action_space),
                      ("observation_space", env.observation_space)):
        rng = getattr(obj, "np_random", None)
        if rng is not None:
            state["rng"][name] = rng.bit_generator.state
    for index, layer in enumerate(_env_layers(env)):
        attrs = {}
        for key, value in vars(layer).items():
            if not _plain(value, allow_none=layer is unwrapped) or key == "_np_random":
                continue
            if isinstance(value, np.ndarray):
                arrays[f"env/{index}/{key}"] = value
                attrs[key] = {"array": True}
            else:
                attrs[key] = {"value": value.item() if isinstance(value, np.generic) else value,
                              "type": type(value).__name__}
        state["attrs"].append({"class": type(layer).__name__, "values": attrs})
    if observation is not None:
        arrays["env/observation"] = np.asarray(observation)
    return state, arrays


def check_env(state: dict, env) -> None:
    saved, current = state.get("id"), env_id(env)
    if saved and current and saved != current:
        raise CheckpointMismatchError(
            f"the checkpoint was saved on env {saved!r}, but this env is {current!r}; "
            f"resume or evaluate it with {saved!r}"
        )
    for space in ("observation_space", "action_space"):
        if state.get(space) != repr(getattr(env, space)):
            raise CheckpointMismatchError(
                f"the checkpoint's {space} is {state.get(space)}, this env's is {getattr(env, space)}; "
                f"use the env the checkpoint was saved on"
            )


def restore_env(env, state: dict, arrays: dict) -> None:
    """Put the env's RNGs and attributes back (the episode in progress continues from here)."""
    check_env(state, env)
    if callable(getattr(env, "seed", None)):
        env.seed(None)  # drop a seed pending from construction: the RNG state below replaces it
    unwrapped = getattr(env, "unwrapped", None)
    for name, obj in (("env", unwrapped), ("action_space", env.action_space),
                      ("observation_space", env.observation_space)):
        if name in state["rng"]:
            obj.np_random.bit_generator.state = state["rng"][name]
    layers = list(_env_layers(env))
    if [layer_state["class"] for layer_state in state["attrs"]] != [type(x).__name__ for x in layers]:
        raise CheckpointMismatchError(
            f"the checkpoint's env wrappers are {[s['class'] for s in state['attrs']]}, this env has "
            f"{[type(x).__name__ for x in layers]}; build the env the same way"
        )
    for index, (layer, layer_state) in enumerate(zip(layers, state["attrs"])):
        for key, spec in layer_state["values"].items():
            if spec.get("array"):
                value = arrays[f"env/{index}/{key}"].copy()
            elif spec["type"] in _SCALAR_TYPES:
                value = _SCALAR_TYPES[spec["type"]](spec["value"])
            else:
                value = spec["value"]
            setattr(layer, key, value)


def saved_observation(arrays: dict):
    obs = arrays.get("env/observation")
    if obs is None:
        return None
    return obs[()] if obs.ndim == 0 else obs.copy()


# ---------------------------------------------------------------- policy
def current_eps(agent):
    """The exploration rate the training policy uses now (None if it has none)."""
    policy = getattr(agent, "policy", None)
    if policy is None:
        return None
    if callable(getattr(policy, "get_current_value", None)):
        training = agent.training
        agent.training = True
        try:
            return float(policy.get_current_value())
        finally:
            agent.training = training
    eps = getattr(policy, "eps", None)
    return None if eps is None else float(eps)


# ---------------------------------------------------------------- the whole agent
def capture_agent(agent, save_memory: bool = False) -> tuple[dict, dict]:
    """Weights, optimizer, step, policy position and (optionally) memory: ``(state, arrays)``."""
    arrays = {}
    arrays.update(_weights("online", agent.model.get_weights()))
    arrays.update(_weights("target", agent.target_model.get_weights()))
    optimizer = real_optimizer(agent)
    arrays.update(_weights("optimizer", optimizer.get_weights()))
    state = {
        "kind": "keras-rl",
        "agent_class": type(agent).__name__,
        "agent_step": int(agent.step),
        "policy": {"class": type(agent.policy).__name__, "eps": current_eps(agent)},
        "optimizer": {"class": type(optimizer).__name__, "n_weights": len(optimizer.get_weights())},
        "memory": None,
    }
    if save_memory:
        memory_state, memory_arrays = capture_memory(agent.memory)
        state["memory"] = memory_state
        arrays.update(memory_arrays)
    return state, arrays


def restore_agent(agent, state: dict, arrays: dict) -> None:
    """Load weights, optimizer state and (if saved) memory into a compiled agent of the same shape."""
    if state.get("kind") != "keras-rl":
        raise CheckpointFormatError(
            f"this checkpoint holds {state.get('kind')!r} state, not a keras-rl agent"
        )
    if state.get("agent_class") != type(agent).__name__:
        raise CheckpointMismatchError(
            f"the checkpoint holds a {state.get('agent_class')}, the agent given is a {type(agent).__name__}"
        )
    if not getattr(agent, "compiled", False):
        raise CheckpointError("compile the agent before loading a checkpoint into it (agent.compile(...))")
    online, target = _collect(arrays, "online"), _collect(arrays, "target")
    _check_shapes("online weights", online, agent.model.get_weights())
    _check_shapes("target weights", target, agent.target_model.get_weights())
    build_optimizer_slots(agent)
    optimizer = real_optimizer(agent)
    saved_opt = _collect(arrays, "optimizer")
    if saved_opt:
        _check_shapes("optimizer state", saved_opt, optimizer.get_weights())
    agent.model.set_weights(online)
    agent.target_model.set_weights(target)
    if saved_opt:
        optimizer.set_weights(saved_opt)
    if state.get("memory") is not None:
        restore_memory(agent.memory, state["memory"], arrays)
    agent.step = int(state["agent_step"])
