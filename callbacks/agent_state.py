"""Capture and restore the full state of a keras-rl agent as plain arrays plus JSON.

The agent itself is captured part by part, as :data:`callbacks.parts.AGENT_PARTS` lists for
its type (weights, optimizers, memory, exploration noise, CEM's search state, ...). Around
it: the global step, the policy's schedule position, the Python ``random`` and numpy global
RNG states, TensorFlow's graph seed, and the env's RNGs and plain attributes (so an episode
can continue exactly where it stopped).
"""

from __future__ import annotations

import random

import numpy as np

from callbacks.parts import SCALAR_TYPES, agent_type, parts_for, unwrap_optimizer
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


def _existing_rng(obj):
    """``obj``'s numpy Generator if it has one already; reading gymnasium's ``np_random`` property
    would create (and so save) an unseeded one, different in every process."""
    if obj is None:
        return None
    if hasattr(obj, "_np_random"):
        return obj._np_random
    return getattr(obj, "np_random", None)


def capture_env(env, observation=None) -> tuple[dict, dict]:
    """Env id, spaces, RNG states and plain attributes of every layer; the last raw observation."""
    state = {"id": env_id(env), "observation_space": repr(env.observation_space),
             "action_space": repr(env.action_space), "rng": {}, "attrs": []}
    arrays = {}
    unwrapped = getattr(env, "unwrapped", None)
    for name, obj in (("env", unwrapped), ("action_space", env.action_space),
                      ("observation_space", env.observation_space)):
        rng = _existing_rng(obj)
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
            elif spec["type"] in SCALAR_TYPES:
                value = SCALAR_TYPES[spec["type"]](spec["value"])
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


def continue_episode(agent, state: dict, arrays: dict) -> None:
    """Put back the parts keras-rl's ``fit`` cleared when it (re)started the interrupted episode."""
    saved = _saved_parts(state)
    for part in parts_for(agent):
        if part.episode and saved.get(part.key) is not None:
            part.restore(agent, saved[part.key], arrays)
