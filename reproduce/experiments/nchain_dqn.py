"""``nchain-dqn``: keras-rl's DQNAgent on NChain-v0, compared with the exact Q* and the optimum.

One-hot input (:class:`reproduce.adapters.OneHotProcessor`), a small MLP, epsilon-greedy
with linear annealing, SequentialMemory replay and a hard-updated target network, gamma 0.95
(the discount Q* is computed at). Truncation-aware, because NChain never terminates: every
episode ends by the 1000-step time limit, which keras-rl2 would otherwise treat as terminal.
Writes ``q_table.csv`` (the network's Q-values per state) and reports max |Q - Q*|, the greedy
policy, its exact expected return and the regret against the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.errors import ConfigError
from reproduce.experiments.nchain_keras import q_heatmaps
from reproduce.kerasrl.config import DQNConfig, DQNRunConfig, PolicyConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import ENV_ID, POSITIVE, nested, option
from reproduce.runs import RunDir

NCHAIN_DQN = DQNConfig(
    hidden=(32,), activation="relu", memory_limit=20_000, window_length=1,
    policy=PolicyConfig("linear-annealed-eps", value_max=1.0, value_min=0.1, nb_steps=10_000),
    test_policy=PolicyConfig("greedy"),
    nb_steps_warmup=500, target_model_update=100, optimizer="adam", learning_rate=1e-3,
    train_interval=1, batch_size=32, gamma=0.95, fast=True, truncation_aware=True,
)


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """DQN on NChain-v0 (1000-step episodes)."""

    env: str = option("NChain-v0", "gymnasium env id (Discrete observations: one-hot input)", check=ENV_ID)
    steps: int = option(30_000, "training steps", check=POSITIVE)
    eval_episodes: int = option(10, "greedy 1000-step test episodes", check=POSITIVE)
    check_every: int = 3_000
    """steps between greedy checks (the learning curve)"""
    check_episodes: int = 5
    """greedy 1000-step episodes per check"""
    dqn: DQNConfig = nested(lambda: NCHAIN_DQN)


def check(config: Config) -> None:
    import gymnasium as gym

    space = gym.spec(config.env).make().observation_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ConfigError(f"nchain-dqn needs a Discrete-observation env (one-hot input), but {config.env} "
                          f"observes {space}; pass --env NChain-v0")


def processor(env):
    from reproduce.adapters import OneHotProcessor

    return OneHotProcessor(int(env.observation_space.n))


def q_table(agent, run):
    """The agent's Q-values on every one-hot NChain state, written to ``q_table.csv``."""
    import numpy as np
    import pandas as pd

    from reproduce.runs import write_csv

    n = agent.processor.inner.n if hasattr(agent.processor, "inner") else agent.processor.n
    q = agent.compute_batch_q_values([[np.eye(n, dtype=np.float32)[s]] for s in range(n)])
    write_csv(run.file(RunDir.Q_TABLE),
              pd.DataFrame({"state": range(n), "q_forward": q[:, 0], "q_backward": q[:, 1]}))
    return q


def against_optimum(q, gamma: float) -> dict:
    """The greedy policy of ``q``, its exact expected return, the regret and max |Q - Q*| (5-state chain)."""
    import numpy as np

    from reproduce.envs import episode_return, policy_string, solve_nchain

    policy = np.argmax(q, axis=1)
    out = {"policy": policy_string(policy)}
    if len(q) == 5:
        best = solve_nchain(gamma=gamma)
        expected = episode_return(policy)
        out.update(max_abs_q_error=float(np.abs(q - best.q).max()), expected_return=expected,
                   optimal_return=best.optimal_return, regret=best.optimal_return - expected,
                   all_forward=bool((policy == 0).all()))
    return out


def q_against_optimum(agent, run, config) -> dict:
    """After training: ``q_table.csv`` and the network's Q against Q*, policy and regret."""
    return against_optimum(q_table(agent, run), config.dqn.gamma)


EXPERIMENT = kerasrl_experiment(
    "nchain-dqn", "keras-rl DQNAgent on NChain (one-hot, eps annealing, replay, target net) vs Q*", Config,
    Report("keras-rl DQNAgent", table="optimum", figures=(q_heatmaps,)),
    hooks=Hooks(processor_for=processor, after_training=q_against_optimum), check=check,
)
