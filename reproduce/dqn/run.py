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
import threadpoolctl

from reproduce.adapters import KerasRLEnv
from reproduce.dqn.builders import build_agent, check_env_id, validate
from reproduce.dqn.config import DQNConfig, PolicyConfig
from reproduce.dqn.training import Progress, SolveCheck, evaluate
from reproduce.runs import ConfigError, RunDir, to_jsonable, write_csv, write_json
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
    checkpoint_every: int = 10_000
    """steps between checkpoints in RUN_DIR/checkpoints (the last 2 are kept, plus one at the end)"""
    dqn: DQNConfig = field(default_factory=DQNConfig)
    """the agent (see reproduce.dqn.config.DQNConfig)"""

    def with_seed(self, seed: int):
        return dataclasses.replace(self, seed=seed)


def validate_run(config: RunConfig) -> RunConfig:
    check_env_id(config.env)
    if config.steps <= 0:
        raise ConfigError(f"--steps must be a positive integer, got {config.steps}; pass e.g. --steps 50000")
    if config.checkpoint_every <= 0:
        raise ConfigError(f"--checkpoint-every must be a positive integer, got {config.checkpoint_every}")
    if config.eval_episodes <= 0 or config.check_every < 0:
        raise ConfigError("eval_episodes must be >= 1 and check_every >= 0; fix the config")
    validate(config.dqn)
    return config


def seed_everything(seed: int) -> None:
    """Fresh graph, a single-threaded session and BLAS (fast for tiny nets, deterministic), all RNGs seeded.

    numpy's BLAS would otherwise start a thread per core for the agent's numpy forward passes:
    pure overhead for these matrix sizes, and oversubscription when runs share the CPU.
    """
    threadpoolctl.threadpool_limits(1, user_api="blas")
    tf.compat.v1.keras.backend.clear_session()
    random.seed(seed)
    np.random.seed(seed)
    tf.compat.v1.set_random_seed(seed)
    session_config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    tf.compat.v1.keras.backend.set_session(
        tf.compat.v1.Session(graph=tf.compat.v1.get_default_graph(), config=session_config))


def config_from_dict(cls, data: dict):
    """Rebuild a run config (``cls``) from its JSON form (``config.json`` or a checkpoint's config)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in fields}
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


def make_env(config: RunConfig) -> KerasRLEnv:
    return KerasRLEnv(gym.make(config.env), seed=config.seed)


def make_agent(config: RunConfig, env: KerasRLEnv, processor=None):
    input_shape = (processor.n,) if hasattr(processor, "n") else tuple(env.observation_space.shape)
    return build_agent(config.dqn, int(env.action_space.n), input_shape, processor=processor)


def train_and_evaluate(experiment: str, config: RunConfig, run_dir: Path, processor=None, verbose=True,
                       resume: bool = False, extra=None):
    """Train (or, with ``resume``, continue from the newest good checkpoint) and evaluate.

    ``extra(agent) -> dict`` adds experiment-specific numbers to ``summary.json``. Returns
    ``(agent, summary dict)`` with the files written.
    """
    from callbacks import CheckpointError, load_rewards, resume_from, training_callbacks

    validate_run(config)
    run = RunDir(run_dir, experiment, config, config.seed)
    run_dir = run.path
    if resume:
        run.reopen()
    else:
        run.start()
    t0 = time.perf_counter()  # times include building the agent (as the SB3 benchmark's do)
    seed_everything(config.seed)
    env = make_env(config)
    agent = make_agent(config, env, processor)
    state = None
    if resume:
        try:
            state = resume_from(run_dir / "checkpoints", agent, env)
        except CheckpointError as exc:
            raise ConfigError(f"cannot resume {run_dir}: {exc}") from None
    threshold = gym.spec(config.env).reward_threshold
    callbacks = training_callbacks(
        run_dir, resume=state, every_steps=config.checkpoint_every, keep_last=2, keep_best_by=None,
        save_memory=True, config={"experiment": experiment, **to_jsonable(config)}, manifest=run.manifest,
    )
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
        "env_id": config.env, "eval_episodes": len(episodes), "eval_mean": mean, "eval_ci_low": low,
        "eval_ci_high": high, "eval_min": float(min(returns)), "reward_threshold": threshold,
        "solved": bool(solved), "steps_to_solve": steps_to_solve, "time_to_solve_s": time_to_solve,
        "steps_trained": steps_trained, "train_episodes": len(load_rewards(run.file("episodes.csv"))),
        "checks": check.checks if check else 0, "wall_time_s": wall,
        "resumed_from_step": state.step if state else None,
        "truncation_aware": config.dqn.truncation_aware, "agent": type(agent).__name__,
    }
    if extra is not None:
        summary.update(extra(agent))
    write_json(run.file("summary.json"), summary)
    run.finish(wall_time_s=wall)
    return agent, summary


def load_run_config(experiment: str, cls, run_dir):
    """``--resume RUN_DIR``: the run's own config, from its ``config.json``."""
    import json

    data = json.loads((Path(run_dir) / "config.json").read_text())
    if data.get("experiment") != experiment:
        raise ConfigError(f"{run_dir} is a run of {data.get('experiment')!r}, not {experiment!r}; "
                          f"resume it with `reproduce run {data.get('experiment')} --resume {run_dir}`")
    return config_from_dict(cls, data)


def add_arguments(parser, defaults: RunConfig) -> None:
    """The options every DQN experiment takes (besides the CLI's --seed/--seeds/--out)."""
    parser.add_argument("--steps", type=int, default=defaults.steps,
                        help=f"training steps (default {defaults.steps})")
    parser.add_argument("--env", default=defaults.env, help=f"gymnasium env id (default {defaults.env})")
    parser.add_argument("--policy", default=None,
                        help=f"training policy name (default {defaults.dqn.policy.name})")
    parser.add_argument("--eval-episodes", type=int, default=defaults.eval_episodes,
                        help=f"greedy test episodes (default {defaults.eval_episodes})")
    parser.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every,
                        help=f"steps between checkpoints (default {defaults.checkpoint_every})")
    parser.add_argument("--truncation-aware", action=argparse.BooleanOptionalAction,
                        default=defaults.dqn.truncation_aware,
                        help="bootstrap through time-limit truncations "
                             f"(default {defaults.dqn.truncation_aware})")


def config_from_args(defaults: RunConfig, args) -> RunConfig:
    dqn = defaults.dqn.replace(truncation_aware=args.truncation_aware)
    if args.policy is not None:
        dqn = dqn.replace(policy=dataclasses.replace(dqn.policy, name=args.policy))
    config = dataclasses.replace(defaults, steps=args.steps, env=args.env, seed=args.seed,
                                 eval_episodes=args.eval_episodes, checkpoint_every=args.checkpoint_every,
                                 dqn=dqn)
    return validate_run(config)


def evaluation_hooks(cls, processor_for=None):
    """``build_agent(config)`` and ``make_env(config)`` from a checkpoint's config dict, for
    ``reproduce evaluate`` / :func:`reproduce.evaluate.load_agent`."""

    def build(data: dict):
        config = config_from_dict(cls, data)
        seed_everything(config.seed)
        env = make_env(config)
        return make_agent(config, env, processor_for(env) if processor_for else None)

    def env(data: dict):
        return make_env(config_from_dict(cls, data))

    return build, env


def short(summary: dict) -> dict:
    """The few numbers the CLI prints per seed."""
    keys = ("eval_mean", "solved", "steps_to_solve", "time_to_solve_s", "policy", "max_abs_q_error",
            "regret", "wall_time_s")
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items() if k in keys}


def experiment_protocol(name: str, cls, processor_for=None, extra_for=None):
    """The module functions of a DQN experiment (see :mod:`reproduce.experiments`), in this order:
    ``add_arguments, config_from_args, run, resume, build_agent, make_env``.

    ``processor_for(env)`` gives the agent's processor; ``extra_for(run_dir, config)`` gives the
    ``extra(agent) -> dict`` hook of :func:`train_and_evaluate`.
    """

    def add_arguments_(parser):
        add_arguments(parser, cls())

    def config_from_args_(args):
        return config_from_args(cls(), args)

    def train(config, run_dir, resume=False):
        processor = processor_for(gym.make(config.env)) if processor_for else None
        extra = extra_for(run_dir, config) if extra_for else None
        summary = train_and_evaluate(name, config, Path(run_dir), processor, resume=resume, extra=extra)[1]
        return short(summary)

    def run(config, run_dir) -> dict:
        return train(config, run_dir)

    def resume(run_dir) -> dict:
        return train(load_run_config(name, cls, run_dir), run_dir, resume=True)

    build_agent, make_env_ = evaluation_hooks(cls, processor_for)
    return add_arguments_, config_from_args_, run, resume, build_agent, make_env_
