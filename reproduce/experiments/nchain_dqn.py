"""``nchain-dqn``: keras-rl's DQNAgent on NChain-v0, compared with the exact Q* and the optimum.

One-hot input (:class:`reproduce.adapters.OneHotProcessor`), a small MLP, epsilon-greedy
with linear annealing, SequentialMemory replay and a hard-updated target network, gamma 0.95
(the discount Q* is computed at). Truncation-aware, because NChain never terminates: every
episode ends by the 1000-step time limit, which keras-rl2 would otherwise treat as terminal.
Writes ``q_table.csv`` (the network's Q-values per state) and reports max |Q - Q*|, the greedy
policy, its exact expected return and the regret against the optimum 3663.69.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reproduce.adapters import OneHotProcessor
from reproduce.dqn import run as dqn_run
from reproduce.dqn.config import DQNConfig, PolicyConfig
from reproduce.envs import episode_return, policy_string, solve
from reproduce.runs import ConfigError, write_csv

DESCRIPTION = "keras-rl DQNAgent on NChain (one-hot, eps annealing, replay, target net) vs Q*"

NCHAIN_DQN = DQNConfig(
    hidden=(32,), activation="relu", memory_limit=20_000, window_length=1,
    policy=PolicyConfig("linear-annealed-eps", value_max=1.0, value_min=0.1, nb_steps=10_000),
    test_policy=PolicyConfig("greedy"),
    nb_steps_warmup=500, target_model_update=100, optimizer="adam", learning_rate=1e-3,
    train_interval=1, batch_size=32, gamma=0.95, fast=True, truncation_aware=True,
)


@dataclass(frozen=True)
class Config(dqn_run.RunConfig):
    """DQN on NChain-v0 (1000-step episodes)."""

    env: str = "NChain-v0"
    """gymnasium env id (a Discrete-observation env such as NChain-v0)"""
    steps: int = 30_000
    """training steps"""
    eval_episodes: int = 10
    """greedy 1000-step test episodes"""
    dqn: DQNConfig = field(default_factory=lambda: NCHAIN_DQN)
    """the agent"""


def _processor(env) -> OneHotProcessor:
    return OneHotProcessor(int(env.observation_space.n))


def _q_against_optimum(run_dir, config):
    """After training: ``q_table.csv`` and the network's Q against Q*, policy and regret."""

    def extra(agent) -> dict:
        n = agent.processor.inner.n if hasattr(agent.processor, "inner") else agent.processor.n
        q = agent.compute_batch_q_values([[np.eye(n, dtype=np.float32)[s]] for s in range(n)])
        write_csv(Path(run_dir) / "q_table.csv",
                  pd.DataFrame({"state": range(n), "q_forward": q[:, 0], "q_backward": q[:, 1]}))
        policy = np.argmax(q, axis=1)
        out = {"policy": policy_string(policy)}
        if n == 5:
            best = solve(gamma=config.dqn.gamma)
            expected = episode_return(policy)
            out.update(max_abs_q_error=float(np.abs(q - best.q).max()), expected_return=expected,
                       optimal_return=best.optimal_return, regret=best.optimal_return - expected,
                       all_forward=bool((policy == 0).all()))
        return out

    return extra


add_arguments, _config_from_args, run, resume, build_agent, make_env = dqn_run.experiment_protocol(
    "nchain-dqn", Config, processor_for=_processor, extra_for=_q_against_optimum)


def config_from_args(args) -> Config:
    import gymnasium as gym

    config = _config_from_args(args)
    space = gym.make(config.env).observation_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ConfigError(f"nchain-dqn needs a Discrete-observation env (one-hot input), but {config.env} "
                          f"observes {space}; pass --env NChain-v0")
    return config
