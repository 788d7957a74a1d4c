"""Capture and restore the full state of a keras-rl agent as plain arrays plus JSON.

The agent itself is captured part by part, as :data:`callbacks.parts.AGENT_PARTS` lists for
its type (weights, optimizers, memory, exploration noise, CEM's search state, ...). Around
it: the global step, the policy's schedule position, the Python ``random`` and numpy global
RNG states, TensorFlow's graph seed, and the env's RNGs and state: its own ``get_state()`` /
``set_state()`` when it has them, else its plain attributes (so an episode can continue exactly
where it stopped; see :func:`capture_env`). Nothing is ever pickled.
"""

from __future__ import annotations

import random

import numpy as np

from callbacks.parts import SCALAR_TYPES, Memory, agent_type, parts_for, unwrap_optimizer
from callbacks.store import CheckpointError, CheckpointFormatError, CheckpointMismatchError


def real_optimizer(agent):
    """The optimizer that holds the slots of ``agent.trainable_model`` (DQN, SARSA)."""
    return unwrap_optimizer(agent.trainable_model.optimizer)


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
    """The env chain keras-rl steps: under an adapter (``env.env``) its wrappers, outer first, down to
    the unwrapped env; a custom env passed to keras-rl directly is its own only layer."""
    layer = getattr(env, "env", None) or env
    while layer is not None:
        yield layer
        if not hasattr(layer, "unwrapped") or layer is layer.unwrapped:
            break
        layer = getattr(layer, "env", None)


def _existing_rng(obj):
    """``obj``'s numpy Generator if it has one already; reading gymnasium's ``np_random`` property
    would create (and so save) an unseeded one, different in every process."""
    if obj is None:
        return None
    rng = obj._np_random if hasattr(obj, "_np_random") else getattr(obj, "np_random", None)
    return rng if isinstance(rng, np.random.Generator) else None


class NotPlainError(TypeError):
    """A value a checkpoint cannot hold without pickle."""


def encode(value, key: str, arrays: dict) -> dict:
    """``value`` as JSON, its arrays under ``key...`` in ``arrays``: numbers, strings, None, numpy
    arrays and scalars, numpy and Python RNGs, and lists, tuples, sets and str-keyed dicts of these.
    Anything else raises :class:`NotPlainError` (nothing is ever pickled)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"v": value}
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return {"scalar": value.dtype.str, "v": value.item()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufcSU":
        arrays[key] = value
        return {"array": key}
    if isinstance(value, np.random.Generator):
        return {"generator": value.bit_generator.state}
    if isinstance(value, np.random.RandomState):
        state = value.get_state(legacy=False)
        arrays[key] = state["state"]["key"]
        return {"random_state": {"pos": int(state["state"]["pos"]), "has_gauss": int(state["has_gauss"]),
                                 "gauss": float(state["gauss"])}, "array": key}
    if isinstance(value, random.Random):
        version, internal, gauss = value.getstate()
        arrays[key] = np.asarray(internal, dtype=np.int64)
        return {"random": [version, gauss], "array": key}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        return {type(value).__name__: [encode(v, f"{key}/{i}", arrays) for i, v in enumerate(items)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, f"{key}/{k}", arrays) for k, v in value.items()}}
    raise NotPlainError(type(value).__name__)


def decode(node: dict, arrays: dict, current=None):
    """The value :func:`encode` wrote; an RNG is restored into ``current`` when it is one of the same kind."""
    if "generator" in node:
        rng = current if isinstance(current, np.random.Generator) else np.random.Generator(
            getattr(np.random, node["generator"]["bit_generator"])())
        rng.bit_generator.state = node["generator"]
        return rng
    if "random_state" in node:
        rng = current if isinstance(current, np.random.RandomState) else np.random.RandomState()
        extra = node["random_state"]
        rng.set_state(("MT19937", arrays[node["array"]], extra["pos"], extra["has_gauss"], extra["gauss"]))
        return rng
    if "random" in node:
        rng = current if isinstance(current, random.Random) else random.Random()
        version, gauss = node["random"]
        rng.setstate((version, tuple(int(x) for x in arrays[node["array"]]), gauss))
        return rng
    if "array" in node:
        return arrays[node["array"]].copy()
    if "scalar" in node:
        return np.dtype(node["scalar"]).type(node["v"])
    if "dict" in node:
        return {k: decode(v, arrays) for k, v in node["dict"].items()}
    for kind, cls in (("list", list), ("tuple", tuple), ("set", set), ("frozenset", frozenset)):
        if kind in node:
            return cls(decode(v, arrays) for v in node[kind])
    return node["v"]


def _static(value) -> bool:
    """Attributes that are no episode state: spaces, specs, envs (layers), functions, classes, modules."""
    import types

    import gymnasium as gym
    from gymnasium.envs.registration import EnvSpec

    return isinstance(value, (gym.Space, gym.Env, EnvSpec, type, types.ModuleType)) or callable(value)


def _known(layer) -> bool:
    """gymnasium's and this package's envs keep their episode state in plain attributes."""
    return type(layer).__module__.split(".")[0] in ("gymnasium", "reproduce")


def has_state_protocol(layer) -> bool:
    """The env's own ``get_state() -> dict`` and ``set_state(dict)`` (see :func:`capture_env`)."""
    return callable(getattr(layer, "get_state", None)) and callable(getattr(layer, "set_state", None))


def _capture_layer(layer, index: int, arrays: dict) -> tuple[dict, list[str]]:
    """One layer's state (format 2) and the names of attributes it could not hold."""
    name = type(layer).__name__
    if has_state_protocol(layer):
        values = layer.get_state()
        if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
            raise CheckpointError(f"{name}.get_state() must return a dict with str keys, got "
                                  f"{type(values).__name__}")
        encoded = {}
        for key, value in values.items():
            try:
                encoded[key] = encode(value, f"env/{index}/{key}", arrays)
            except NotPlainError as exc:
                raise CheckpointError(
                    f"{name}.get_state()[{key!r}] is a {exc}, which a checkpoint cannot hold without "
                    f"pickle; return numbers, strings, numpy arrays, RNGs, or lists and dicts of them"
                ) from None
        return {"class": name, "format": 2, "protocol": True, "values": encoded}, []
    encoded, skipped = {}, []
    for key, value in vars(layer).items():
        if key == "_np_random":
            continue
        try:
            encoded[key] = encode(value, f"env/{index}/{key}", arrays)
        except NotPlainError:
            if not _static(value):
                skipped.append(key)
    unrestorable = [] if _known(layer) else [f"{name}.{key}" for key in skipped]
    return {"class": name, "format": 2, "values": encoded}, unrestorable


def capture_env(env, observation=None) -> tuple[dict, dict]:
    """Env id, spaces, RNG states and the state of every layer; the last raw observation.

    A layer with ``get_state()``/``set_state(state)`` is saved through them (``get_state`` returns
    a dict of numbers, strings, numpy arrays, RNGs, or lists and dicts of them). Any other layer
    is saved attribute by attribute, the same kinds of values (never pickle). An env of your own
    (not gymnasium's, not this package's) with an attribute that is none of these (a DataFrame,
    an object) is marked not ``restorable``: resuming it mid-episode starts a new episode.
    """
    state = {"id": env_id(env), "observation_space": repr(env.observation_space),
             "action_space": repr(env.action_space), "rng": {}, "attrs": []}
    arrays = {}
    layers = list(_env_layers(env))
    for name, obj in (("env", layers[-1]), ("action_space", env.action_space),
                      ("observation_space", env.observation_space)):
        rng = _existing_rng(obj)
        if rng is not None:
            state["rng"][name] = rng.bit_generator.state
    unrestorable = []
    for index, layer in enumerate(layers):
        layer_state, missing = _capture_layer(layer, index, arrays)
        state["attrs"].append(layer_state)
        unrestorable += missing
    state["restorable"] = not unrestorable
    state["unrestorable"] = unrestorable
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
    """Put the env's RNGs and state back (the episode in progress continues from here)."""
    check_env(state, env)
    layers = list(_env_layers(env))
    if [layer_state["class"] for layer_state in state["attrs"]] != [type(x).__name__ for x in layers]:
        raise CheckpointMismatchError(
            f"the checkpoint's env wrappers are {[s['class'] for s in state['attrs']]}, this env has "
            f"{[type(x).__name__ for x in layers]}; build the env the same way"
        )
    if callable(getattr(env, "seed", None)):
        env.seed(None)  # drop a seed pending from construction: the RNG state below replaces it
    old_format = not all(s.get("format") == 2 for s in state["attrs"])
    unwrapped = getattr(env, "unwrapped", None) if old_format else layers[-1]
    for name, obj in (("env", unwrapped), ("action_space", env.action_space),
                      ("observation_space", env.observation_space)):
        if name in state["rng"]:
            obj.np_random.bit_generator.state = state["rng"][name]
    for index, (layer, layer_state) in enumerate(zip(layers, state["attrs"])):
        if layer_state.get("format") == 2:
            values = {key: decode(node, arrays, current=getattr(layer, key, None))
                      for key, node in layer_state["values"].items()}
            if layer_state.get("protocol"):
                layer.set_state(values)
            else:
                for key, value in values.items():
                    setattr(layer, key, value)
            continue
        for key, spec in layer_state["values"].items():  # written before format 2
            if spec.get("array"):
                value = arrays[f"env/{index}/{key}"].copy()
            elif spec["type"] in SCALAR_TYPES:
                value = SCALAR_TYPES[spec["type"]](spec["value"])
            else:
                value = spec["value"]
            setattr(layer, key, value)


def env_restorable(state: dict) -> bool:
    """Whether a checkpoint's env state can be put back (always, for checkpoints written before the flag)."""
    return bool(state.get("restorable", True))


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
    """Every state part of ``agent`` (see :mod:`callbacks.parts`) plus its step: ``(state, arrays)``.

    Raises :class:`callbacks.store.UnsupportedAgentError` for an agent type the table lacks.
    """
    parts = parts_for(agent)
    state = {
        "kind": "keras-rl",
        "agent_class": type(agent).__name__,
        "agent_type": agent_type(agent),
        "agent_step": int(agent.step),
        "policy": _policy_info(agent),
        "parts": {},
    }
    arrays = {}
    for part in parts:
        part_state, part_arrays = part.capture(agent, save_memory)
        state["parts"][part.key] = part_state
        arrays.update(part_arrays)
    return state, arrays


def _policy_info(agent) -> dict | None:
    policy = getattr(agent, "policy", None)
    return None if policy is None else {"class": type(policy).__name__, "eps": current_eps(agent)}


def _saved_parts(state: dict) -> dict:
    parts = state.get("parts")
    if parts is None:  # written before the parts table: a DQN checkpoint with these at the top level
        parts = {"online": {}, "target": {}, "optimizer": state.get("optimizer"),
                 "memory": state.get("memory")}
    return parts


def restore_agent(agent, state: dict, arrays: dict) -> None:
    """Load every saved part into a compiled agent of the same type and shape.

    Everything is checked before anything is changed: a checkpoint of another agent type or
    network shape raises :class:`CheckpointMismatchError` and leaves the agent as it was.
    """
    if state.get("kind") != "keras-rl":
        raise CheckpointFormatError(
            f"this checkpoint holds {state.get('kind')!r} state, not a keras-rl agent"
        )
    parts = parts_for(agent)
    saved_type = state.get("agent_type") or state.get("agent_class")
    if saved_type != agent_type(agent) and state.get("agent_class") != type(agent).__name__:
        raise CheckpointMismatchError(
            f"the checkpoint holds a {state.get('agent_class')}, the agent given is a "
            f"{type(agent).__name__}; build a {state.get('agent_class')} to load it"
        )
    if not getattr(agent, "compiled", False):
        raise CheckpointError("compile the agent before loading a checkpoint into it (agent.compile(...))")
    saved = _saved_parts(state)
    for part in parts:
        if part.key in saved:
            part.check(agent, saved[part.key], arrays)
    for part in parts:
        if part.key in saved:
            part.restore(agent, saved[part.key], arrays)
    agent.step = int(state["agent_step"])


def missing_memory(agent, state: dict) -> str | None:
    """Why resuming ``agent`` from ``state`` would fail for want of its replay memory (None if it would not).

    A checkpoint saved with ``save_memory=False`` holds no memory; an agent past its warm-up then
    trains on an empty memory ("not enough entries in the memory").
    """
    if state.get("agent_type", state.get("agent_class")) != agent_type(agent):
        return None  # another agent type: restore_agent says so
    saved = _saved_parts(state)
    for part in parts_for(agent):
        if isinstance(part, Memory) and not part.always and saved.get(part.key) is None:
            warmups = [int(getattr(agent, n)) for n in ("nb_steps_warmup", "nb_steps_warmup_critic",
                                                         "nb_steps_warmup_actor") if hasattr(agent, n)]
            warmup = min(warmups, default=0)
            if int(state.get("agent_step", state.get("step", 0))) >= warmup:
                return (f"it holds no replay memory (saved with save_memory=False), and "
                        f"{type(agent).__name__} trains from its memory after step {warmup}")
    return None


def continue_episode(agent, state: dict, arrays: dict) -> None:
    """Put back the parts keras-rl's ``fit`` cleared when it (re)started the interrupted episode."""
    saved = _saved_parts(state)
    for part in parts_for(agent):
        if part.episode and saved.get(part.key) is not None:
            part.restore(agent, saved[part.key], arrays)
