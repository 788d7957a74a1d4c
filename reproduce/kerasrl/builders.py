"""Builders: a compiled keras-rl ``DQNAgent`` from a :class:`DQNConfig`, one real keras-rl object each.

Every builder returns the keras-rl (or tf.keras) object a keras-rl user would write by hand;
:func:`build_agent` accepts the user's own ``model``, ``memory``, ``policy``, ``test_policy``,
``processor`` or ``optimizer`` in place of the configured ones.
"""

from __future__ import annotations

import difflib
import math

import tensorflow as tf
from rl.agents import DQNAgent
from rl.memory import SequentialMemory
from rl.policy import BoltzmannQPolicy, EpsGreedyQPolicy, GreedyQPolicy, LinearAnnealedPolicy

from reproduce.errors import ConfigError
from reproduce.kerasrl.agent import FastDQNAgent
from reproduce.kerasrl.config import POLICIES, DQNConfig, PolicyConfig


def check_policy(spec: PolicyConfig) -> PolicyConfig:
    if spec.name not in POLICIES:
        close = difflib.get_close_matches(spec.name, POLICIES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown policy {spec.name!r}{hint}; expected one of {', '.join(POLICIES)}")
    return spec


def build_policy(spec: PolicyConfig):
    """The keras-rl policy object named by ``spec.name``."""
    check_policy(spec)
    if spec.name == "eps-greedy":
        return EpsGreedyQPolicy(eps=spec.eps)
    if spec.name == "boltzmann":
        return BoltzmannQPolicy(tau=spec.tau, clip=tuple(spec.clip))
    if spec.name == "greedy":
        return GreedyQPolicy()
    return LinearAnnealedPolicy(EpsGreedyQPolicy(), attr="eps", value_max=spec.value_max,
                                value_min=spec.value_min, value_test=spec.value_test,
                                nb_steps=spec.nb_steps)


def dense_initializers(init: str, fan_in: int) -> dict:
    """Dense kwargs for ``init``: ``keras`` (Keras's defaults) or ``torch`` (PyTorch's nn.Linear
    default, which SB3 uses: kernel and bias uniform in +-1/sqrt(fan_in))."""
    if init == "keras":
        return {}
    if init == "torch":
        bound = fan_in ** -0.5
        return {"kernel_initializer": tf.keras.initializers.RandomUniform(-bound, bound),
                "bias_initializer": tf.keras.initializers.RandomUniform(-bound, bound)}
    raise ConfigError(f"unknown init {init!r}; expected 'keras' or 'torch'")


def build_model(input_shape: tuple[int, ...], nb_actions: int, config: DQNConfig) -> tf.keras.Model:
    """keras-rl's example model: Flatten(window + obs shape), Dense(hidden...), Dense(nb_actions, linear)."""
    layers = [tf.keras.layers.Flatten(input_shape=(config.window_length, *input_shape))]
    fan_in = config.window_length * math.prod(input_shape)
    for units in config.hidden:
        layers.append(tf.keras.layers.Dense(units, activation=config.activation,
                                            **dense_initializers(config.init, fan_in)))
        fan_in = units
    layers.append(tf.keras.layers.Dense(nb_actions, activation="linear",
                                        **dense_initializers(config.init, fan_in)))
    return tf.keras.Sequential(layers)


def build_memory(config: DQNConfig) -> SequentialMemory:
    return SequentialMemory(limit=config.memory_limit, window_length=config.window_length)


def build_optimizer(config: DQNConfig):
    try:
        cls = tf.keras.optimizers.get(config.optimizer).__class__
    except ValueError:
        raise ConfigError(f"unknown optimizer {config.optimizer!r}; expected a tf.keras optimizer name "
                          f"such as 'adam', 'rmsprop' or 'sgd'") from None
    clip = {} if config.global_clipnorm is None else {"global_clipnorm": config.global_clipnorm}
    return cls(learning_rate=config.learning_rate, **clip)


def agent_class(config: DQNConfig) -> type[DQNAgent]:
    """FastDQNAgent when the config asks for it (or for what only it does), else keras-rl's DQNAgent."""
    if config.fast or config.truncation_aware:
        return FastDQNAgent
    if not config.repeat_updates_at_episode_end:
        raise ConfigError("repeat_updates_at_episode_end=False needs FastDQNAgent (keras-rl's DQNAgent "
                          "always repeats them); set fast=True")
    if config.gradient_steps != 1:
        raise ConfigError(f"gradient_steps={config.gradient_steps} needs FastDQNAgent (keras-rl's DQNAgent "
                          f"does one gradient step per train_interval); set fast=True or gradient_steps=1")
    return DQNAgent


def build_agent(config: DQNConfig, nb_actions: int, input_shape: tuple[int, ...], *, model=None,
                memory=None, policy=None, test_policy=None, processor=None, optimizer=None) -> DQNAgent:
    """A compiled ``DQNAgent`` (``FastDQNAgent`` if ``config.fast`` or ``config.truncation_aware``)."""
    if model is None:
        model = build_model(input_shape, nb_actions, config)
    out = tuple(model.output.shape)
    if out != (None, nb_actions):
        raise ConfigError(f"the model's output shape is {out} but the env has {nb_actions} actions; "
                          f"end the model in Dense({nb_actions}, activation='linear')")
    if config.dueling_type not in ("avg", "max", "naive"):
        raise ConfigError(f"unknown dueling_type {config.dueling_type!r}; expected avg, max or naive")
    kwargs = dict(
        model=model, nb_actions=nb_actions,
        memory=memory if memory is not None else build_memory(config),
        policy=policy if policy is not None else build_policy(config.policy),
        test_policy=test_policy if test_policy is not None else build_policy(config.test_policy),
        processor=processor, enable_double_dqn=config.enable_double_dqn,
        enable_dueling_network=config.enable_dueling_network, dueling_type=config.dueling_type,
        target_model_update=config.target_model_update, nb_steps_warmup=config.nb_steps_warmup,
        train_interval=config.train_interval, batch_size=config.batch_size, gamma=config.gamma,
        delta_clip=config.delta_clip,
    )
    if agent_class(config) is FastDQNAgent:
        agent = FastDQNAgent(truncation_aware=config.truncation_aware, gradient_steps=config.gradient_steps,
                             repeat_updates_at_episode_end=config.repeat_updates_at_episode_end, **kwargs)
    else:
        agent = DQNAgent(**kwargs)
    # The dueling head is keras-rl's own Lambda layer; compile clones it, which tf-keras's safe
    # mode refuses for Python lambdas. It is our code, not a loaded file: allow it here.
    from tf_keras.src.saving.serialization_lib import SafeModeScope

    with SafeModeScope(safe_mode=not config.enable_dueling_network):
        agent.compile(optimizer if optimizer is not None else build_optimizer(config))
    return agent


def validate(config: DQNConfig) -> DQNConfig:
    """Check names and ranges without building anything (bad input writes nothing)."""
    check_policy(config.policy)
    check_policy(config.test_policy)
    build_optimizer(config)
    dense_initializers(config.init, 1)
    positive = {"memory_limit": config.memory_limit, "window_length": config.window_length,
                "train_interval": config.train_interval, "gradient_steps": config.gradient_steps,
                "batch_size": config.batch_size}
    for name, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {value}; pass a value >= 1")
    agent_class(config)
    if not 0 <= config.gamma <= 1:
        raise ConfigError(f"gamma must be in [0, 1], got {config.gamma}; pass e.g. 0.99")
    return config
