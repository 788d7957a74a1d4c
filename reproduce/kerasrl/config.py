"""Typed configs for keras-rl's ``DQNAgent``: one field per keras-rl argument, named as keras-rl names it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from reproduce.contract import Source
from reproduce.options import ENV_ID, POSITIVE, nested, option

POLICIES = ("eps-greedy", "boltzmann", "linear-annealed-eps", "greedy")

KERAS_RL = Source("keras-rl examples", "Matthias Plappert et al.",
                  "https://github.com/keras-rl/keras-rl/tree/master/examples")
"""The keras-rl examples (dqn_cartpole.py, duel_dqn_cartpole.py, sarsa_cartpole.py, cem_cartpole.py,
ddpg_pendulum.py, naf_pendulum.py) that the keras-rl experiments reproduce."""


@dataclass(frozen=True)
class PolicyConfig:
    """A keras-rl Q-policy by name, with the arguments that name uses."""

    name: str = option("eps-greedy", "training policy", choices=POLICIES, flag="--policy")
    """one of ``eps-greedy`` (EpsGreedyQPolicy), ``boltzmann`` (BoltzmannQPolicy),
    ``linear-annealed-eps`` (LinearAnnealedPolicy over EpsGreedyQPolicy), ``greedy`` (GreedyQPolicy)"""
    eps: float = 0.1
    """EpsGreedyQPolicy(eps=...)"""
    tau: float = 1.0
    """BoltzmannQPolicy(tau=...)"""
    clip: tuple[float, float] = (-500.0, 500.0)
    """BoltzmannQPolicy(clip=...)"""
    value_max: float = 1.0
    """LinearAnnealedPolicy(value_max=...): eps at step 0"""
    value_min: float = 0.05
    """LinearAnnealedPolicy(value_min=...): eps after ``nb_steps``"""
    value_test: float = 0.0
    """LinearAnnealedPolicy(value_test=...): eps while testing"""
    nb_steps: int = 10_000
    """LinearAnnealedPolicy(nb_steps=...): steps to anneal over"""


@dataclass(frozen=True)
class DQNConfig:
    """Everything :func:`reproduce.kerasrl.builders.build_agent` needs to assemble a compiled DQNAgent."""

    hidden: tuple[int, ...] = (16, 16, 16)
    """Dense layer sizes after Flatten (the model ends in Dense(nb_actions, linear))"""
    activation: str = "relu"
    """activation of the hidden Dense layers"""
    init: str = "keras"
    """Dense initializers: ``keras`` (glorot-uniform kernels, zero biases) or ``torch`` (PyTorch's
    nn.Linear default, as in SB3: kernels and biases uniform in +-1/sqrt(fan_in))"""
    memory_limit: int = 50_000
    """SequentialMemory(limit=...)"""
    window_length: int = 1
    """SequentialMemory(window_length=...): observations stacked per state"""
    policy: PolicyConfig = nested(lambda: PolicyConfig("boltzmann"))
    """training policy"""
    test_policy: PolicyConfig = field(default_factory=lambda: PolicyConfig("greedy"))
    """test (evaluation) policy"""
    enable_double_dqn: bool = False
    """DQNAgent(enable_double_dqn=...)"""
    enable_dueling_network: bool = False
    """DQNAgent(enable_dueling_network=...)"""
    dueling_type: str = "avg"
    """DQNAgent(dueling_type=...): avg, max or naive"""
    target_model_update: float = 1e-2
    """DQNAgent(target_model_update=...): < 1 soft update rate, >= 1 hard update every N steps"""
    optimizer: str = "adam"
    """tf.keras.optimizers name, e.g. adam, rmsprop, sgd"""
    learning_rate: float = 1e-3
    """optimizer learning rate"""
    global_clipnorm: float | None = None
    """optimizer(global_clipnorm=...): clip the gradient's global norm (SB3's max_grad_norm); None: off"""
    nb_steps_warmup: int = 10
    """DQNAgent(nb_steps_warmup=...): steps before the first gradient step"""
    train_interval: int = 1
    """DQNAgent(train_interval=...): env steps per gradient step"""
    gradient_steps: int = 1
    """gradient steps every ``train_interval`` env steps (SB3's ``gradient_steps``; keras-rl's
    DQNAgent does one, so values above 1 need ``fast=True``)"""
    batch_size: int = 32
    """DQNAgent(batch_size=...)"""
    gamma: float = 0.99
    """DQNAgent(gamma=...): discount"""
    delta_clip: float = float("inf")
    """DQNAgent(delta_clip=...): Huber loss threshold (inf: squared error)"""
    fast: bool = False
    """use FastDQNAgent (same update, faster per-step path) instead of keras-rl's DQNAgent"""
    truncation_aware: bool = option(False, "bootstrap through time-limit truncations")
    """bootstrap through time-limit truncations instead of treating them as terminal"""
    repeat_updates_at_episode_end: bool = True
    """keras-rl2's fit repeats the training and target sync due at the step after an episode end
    (its extra backward sees the same step counter); False runs them once (needs FastDQNAgent)"""

    def replace(self, **changes) -> DQNConfig:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class RunConfig:
    """Fields every keras-rl run shares (experiments subclass it to change defaults)."""

    env: str = option("CartPole-v1", "gymnasium env id", check=ENV_ID)
    steps: int = option(50_000, "training steps (keras-rl fit nb_steps)", check=POSITIVE)
    seed: int = 0
    """seeds python random, numpy, TensorFlow and the env"""
    eval_episodes: int = option(100, "greedy test episodes at the end (and to confirm a solve)",
                                check=POSITIVE)
    check_every: int = 0
    """steps between greedy checks, each a row of ``eval_curve.csv`` (0: none)"""
    check_episodes: int = 10
    """greedy episodes in each check (and before a full confirm of a solve)"""
    stop_when_solved: bool = False
    """end training once a check passes and ``eval_episodes`` greedy episodes confirm the solve"""
    checkpoint_every: int = option(10_000, "steps between checkpoints (the last 2 kept, plus one at the end)",
                                   check=POSITIVE)
    tensorboard: bool = option(False, "also write TensorBoard event files to RUN_DIR/tensorboard")


@dataclass(frozen=True)
class DQNRunConfig(RunConfig):
    """A run of a DQN agent built from a :class:`DQNConfig`."""

    dqn: DQNConfig = nested(DQNConfig)
    """the agent (see DQNConfig)"""


def config_from_dict(cls, data: dict):
    """Rebuild a run config (``cls``) from its JSON form (``config.json`` or a checkpoint's config)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in fields}
    if "dqn" in fields:
        dqn = dict(values.get("dqn", {}))
        for key in ("policy", "test_policy"):
            if isinstance(dqn.get(key), dict):
                policy = dict(dqn[key])
                if "clip" in policy:
                    policy["clip"] = tuple(policy["clip"])
                dqn[key] = PolicyConfig(**policy)
        if "hidden" in dqn:
            dqn["hidden"] = tuple(dqn["hidden"])
        values["dqn"] = DQNConfig(**dqn)
    return cls(**values)
