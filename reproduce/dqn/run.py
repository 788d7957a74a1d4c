"""One DQN run, shared by the ``nchain-dqn`` and ``cartpole-*`` experiments.

Seeds everything, builds the env and the agent from the config, trains with the episode
log, the progress bar and (optionally) stop-once-solved checks, evaluates greedily and writes
``episodes.csv``, ``eval.csv`` and ``summary.json`` into the run directory.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import tensorflow as tf

from reproduce.adapters import KerasRLEnv
from reproduce.dqn.builders import build_agent, check_env_id, validate
from reproduce.dqn.config import DQNConfig
from reproduce.dqn.training import EpisodeLog, Progress, SolveCheck, evaluate
from reproduce.runs import ConfigError, RunDir, write_csv, write_json
from reproduce.stats import mean_ci

EVAL_SEED_BASE = 1_000_000
# tf-keras's graph-mode train function and keras-rl's tiny warm-up phase warn on every run.
warnings.filterwarnings("ignore", message=".*state_updates.*")
warnings.filterwarnings("ignore", message="Not enough entries to sample without replacement")


@dataclass(frozen=True)
class RunConfig:
    """Fields every DQN experiment shares (experiments subclass it to change defaults)."""

    env: str = "CartPole-v1"
    """gymnasium env id"""
    steps: int = 50_000
    """training steps (keras-rl fit nb_steps)"""
    seed: int = 0
    """seeds python random, numpy, TensorFlow and the env"""
    eval_episodes: int = 100
    """greedy test episodes at the end (and to confirm a solve)"""
    check_every: int = 0
    """steps between stop-once-solved checks (0: no checks, train all steps)"""
    check_episodes: int = 10
    """greedy episodes in each cheap check before the full confirm"""
    dqn: DQNConfig = field(default_factory=DQNConfig)
    """the agent (see reproduce.dqn.config.DQNConfig)"""

    def with_seed(self, seed: int):
        return dataclasses.replace(self, seed=seed)


def validate_run(config: RunConfig) -> RunConfig:
    check_env_id(config.env)
    if config.steps <= 0:
        raise ConfigError(f"--steps must be a positive integer, got {config.steps}; pass e.g. --steps 50000")
    if config.eval_episodes <= 0 or config.check_every < 0:
        raise ConfigError("eval_episodes must be >= 1 and check_every >= 0; fix the config")
    validate(config.dqn)
    return config


def seed_everything(seed: int) -> None:
    """Fresh graph and a single-threaded session (fast for tiny nets, deterministic), all RNGs seeded."""
    tf.compat.v1.keras.backend.clear_session()
    random.seed(seed)
    np.random.seed(seed)
    tf.compat.v1.set_random_seed(seed)
    session_config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    tf.compat.v1.keras.backend.set_session(
        tf.compat.v1.Session(graph=tf.compat.v1.get_default_graph(), config=session_config))


def train_and_evaluate(experiment: str, config: RunConfig, run_dir: Path, processor=None, verbose=True):
    """Train and evaluate; returns ``(agent, summary dict)`` with the files written."""
    validate_run(config)
    run = RunDir(run_dir, experiment, config, config.seed).start()
    seed_everything(config.seed)
    env = KerasRLEnv(gym.make(config.env), seed=config.seed)
    input_shape = (processor.n,) if hasattr(processor, "n") else tuple(env.observation_space.shape)
    agent = build_agent(config.dqn, int(env.action_space.n), input_shape, processor=processor)
    spec = gym.spec(config.env)
    threshold = spec.reward_threshold
    t0 = time.perf_counter()
    log = EpisodeLog(run.file("episodes.csv"), metadata={"env_id": config.env, "experiment": experiment})
    callbacks = [log]
    if verbose:
        callbacks.append(Progress(config.steps, f"{experiment} seed {config.seed}"))
    check = None
    if config.check_every and threshold is not None:
        check = SolveCheck(config.env, threshold, config.check_every, config.check_episodes,
                           config.eval_episodes, EVAL_SEED_BASE + 1000 * config.seed, t0)
        callbacks.append(check)
    agent.fit(env, nb_steps=config.steps, verbose=0, callbacks=callbacks)
    steps_trained = int(agent.step)
    if check is not None and check.eval is not None:
        episodes = check.eval
    else:
        episodes = evaluate(agent, config.env, config.eval_episodes, EVAL_SEED_BASE + 1000 * config.seed)
    wall = time.perf_counter() - t0
    returns = [r for r, _ in episodes]
    mean, low, high = mean_ci(returns)
    write_csv(run.file("eval.csv"), pd.DataFrame(
        {"episode": range(len(episodes)), "r": returns, "l": [n for _, n in episodes]}))
    solved = threshold is not None and mean >= threshold
    if check is not None and check.solved_at is not None:
        steps_to_solve, time_to_solve = check.solved_at
    else:
        steps_to_solve, time_to_solve = (steps_trained, wall) if solved else (None, None)
    summary = {
        "env": config.env, "eval_episodes": len(episodes), "eval_mean": mean, "eval_ci_low": low,
        "eval_ci_high": high, "eval_min": float(min(returns)), "reward_threshold": threshold,
        "solved": bool(solved), "steps_to_solve": steps_to_solve, "time_to_solve_s": time_to_solve,
        "steps_trained": steps_trained, "train_episodes": len(log.rewards),
        "checks": check.checks if check else 0, "wall_time_s": wall,
        "truncation_aware": config.dqn.truncation_aware, "agent": type(agent).__name__,
    }
    write_json(run.file("summary.json"), summary)
    run.finish(wall_time_s=wall)
    return agent, summary


def add_arguments(parser, defaults: RunConfig) -> None:
    """The options every DQN experiment takes (besides the CLI's --seed/--seeds/--out)."""
    parser.add_argument("--steps", type=int, default=defaults.steps,
                        help=f"training steps (default {defaults.steps})")
    parser.add_argument("--env", default=defaults.env, help=f"gymnasium env id (default {defaults.env})")
    parser.add_argument("--policy", default=None,
                        help=f"training policy name (default {defaults.dqn.policy.name})")
    parser.add_argument("--eval-episodes", type=int, default=defaults.eval_episodes,
                        help=f"greedy test episodes (default {defaults.eval_episodes})")
    parser.add_argument("--truncation-aware", action=argparse.BooleanOptionalAction,
                        default=defaults.dqn.truncation_aware,
                        help="bootstrap through time-limit truncations "
                             f"(default {defaults.dqn.truncation_aware})")


def config_from_args(defaults: RunConfig, args) -> RunConfig:
    dqn = defaults.dqn.replace(truncation_aware=args.truncation_aware)
    if args.policy is not None:
        dqn = dqn.replace(policy=dataclasses.replace(dqn.policy, name=args.policy))
    config = dataclasses.replace(defaults, steps=args.steps, env=args.env, seed=args.seed,
                                 eval_episodes=args.eval_episodes, dqn=dqn)
    return validate_run(config)


def short(summary: dict) -> dict:
    """The few numbers the CLI prints per seed."""
    keys = ("eval_mean", "solved", "steps_to_solve", "time_to_solve_s", "wall_time_s")
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in summary.items() if k in keys}
