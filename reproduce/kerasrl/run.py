"""One keras-rl run, shared by every keras-rl experiment (DQN, SARSA, CEM, DDPG, NAF).

Seeds everything, builds the env and the agent (``build(config, env, processor)``; DQN's is
:func:`make_agent`), trains with the package's callbacks (episode log, checkpoints), a progress
bar and periodic greedy checks (the learning curve; optionally stop once solved), evaluates
greedily and writes ``episodes.csv``, ``eval_curve.csv``, ``eval.csv`` and ``summary.json``.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import tensorflow as tf
import threadpoolctl

from reproduce.adapters import KerasRLEnv
from reproduce.contract import RunContext
from reproduce.errors import ConfigError
from reproduce.evaluation import eval_seed, keras_rl_episodes
from reproduce.kerasrl.builders import build_agent, validate
from reproduce.kerasrl.config import DQNRunConfig, RunConfig, config_from_dict
from reproduce.kerasrl.experiment import Hooks
from reproduce.kerasrl.training import Progress, SolveCheck, StopTraining, solve_snapshot
from reproduce.runs import RunDir, interrupts, recording_interrupts, to_jsonable

# tf-keras's graph-mode train function and keras-rl's tiny warm-up phase warn on every run.
warnings.filterwarnings("ignore", message=".*state_updates.*")
warnings.filterwarnings("ignore", message="Not enough entries to sample without replacement")


def validate_run(config: RunConfig) -> RunConfig:
    """The option checks (also for configs built in Python), then the agent's own."""
    from reproduce import options

    options.validate(config)
    if isinstance(config, DQNRunConfig):
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


def make_env(config: RunConfig) -> KerasRLEnv:
    return KerasRLEnv(gym.make(config.env), seed=config.seed)


def make_agent(config: DQNRunConfig, env: KerasRLEnv, processor=None):
    """DQN's ``build``: the compiled agent its :class:`DQNConfig` describes."""
    input_shape = (processor.n,) if hasattr(processor, "n") else tuple(env.observation_space.shape)
    return build_agent(config.dqn, int(env.action_space.n), input_shape, processor=processor)


def train_and_evaluate(experiment: str, config: RunConfig, run_dir: Path, hooks: Hooks = Hooks(),
                       verbose=True, resume: bool = False):
    """Train (or, with ``resume``, continue from the newest good checkpoint) and evaluate.

    Returns ``(agent, the RunContext)`` with the files written (``run.summary`` is the summary).
    """
    from callbacks import (
        Checkpoint,
        CheckpointError,
        CheckpointWriteError,
        load_rewards,
        resume_from,
        training_callbacks,
    )

    validate_run(config)
    build = hooks.build or make_agent
    processor = hooks.processor_for(gym.make(config.env)) if hooks.processor_for else None
    run = RunContext(experiment, config, run_dir, resume=resume)  # times include building the agent
    seed_everything(config.seed)
    env = make_env(config)
    agent = build(config, env, processor)
    state = None
    if resume:
        try:
            state = resume_from(run.file(RunDir.CHECKPOINTS), agent, env)
        except CheckpointError as exc:
            raise ConfigError(f"cannot resume {run_dir}: {exc}") from None
    threshold = gym.spec(config.env).reward_threshold
    try:
        callbacks = training_callbacks(
            run.path, resume=state, every_steps=config.checkpoint_every, keep_last=2, keep_best_by=None,
            save_memory=True, config={"experiment": experiment, **to_jsonable(config)},
            manifest=run.dir.manifest, resume_hint=f"reproduce run {experiment} --resume {run.path}",
            tensorboard=config.tensorboard,
        )
    except CheckpointError as exc:  # e.g. another run's checkpoints in the directory: one line
        raise ConfigError(str(exc)) from None
    if verbose:
        callbacks.append(Progress(config.steps, f"{experiment} seed {config.seed}"))
    check = None
    if config.check_every:
        main = next(c for c in callbacks if isinstance(c, Checkpoint))
        snapshot = solve_snapshot(run.file(SOLVED_CHECKPOINTS), main, main.config, main.manifest, state)
        check = SolveCheck(config.env, threshold, config.check_every, config.check_episodes,
                           config.eval_episodes, eval_seed(config.seed), run.t0, stop=config.stop_when_solved,
                           curve_path=run.file(RunDir.EVAL_CURVE), resumed_step=state.step if state else 0,
                           on_solve=None if config.stop_when_solved else snapshot.request)
        callbacks += [check] if config.stop_when_solved else [check, snapshot]
    try:
        fit(agent, env, config.steps, callbacks)
    except CheckpointWriteError as exc:  # a full disk: one line naming the last good checkpoint and the fix
        raise ConfigError(str(exc)) from None
    steps_trained = int(agent.step)
    stopped = config.stop_when_solved and check is not None and check.solve_eval is not None
    if stopped:  # early stopping: the final agent is the solving one, its confirm episodes its evaluation
        episodes = check.solve_eval
    else:  # the final agent, on the same reset seeds as the checks' confirm episodes
        episodes = keras_rl_episodes(agent, config.env, config.eval_episodes, eval_seed(config.seed))
    wall = run.elapsed()
    summary = run.evaluate([r for r, _ in episodes], [n for _, n in episodes], config.env,
                           threshold=threshold)
    solved = bool(summary.solved)
    if check is not None and check.solved_at is not None:
        steps_to_solve, time_to_solve = check.solved_at
    else:
        steps_to_solve, time_to_solve = (steps_trained, wall) if solved else (None, None)
    first = check.solve_eval if check is not None else None
    values = {
        "eval_min": float(min(r for r, _ in episodes)), "solved": solved,
        "solved_during_training": bool(solved or first is not None),
        "solve_eval_mean": float(np.mean([r for r, _ in first])) if first else None,
        "stopped_when_solved": bool(stopped), "steps_to_solve": steps_to_solve,
        "time_to_solve_s": time_to_solve, "steps_trained": steps_trained, "env_steps": steps_trained,
        "train_episodes": len(load_rewards(run.file(RunDir.EPISODES))),
        "checks": check.checks if check else 0, "wall_time_s": wall,
        "resumed_from_step": state.step if state else None, "agent": type(agent).__name__,
    }
    if isinstance(config, DQNRunConfig):
        values["truncation_aware"] = config.dqn.truncation_aware
    if hooks.after_training is not None:
        values.update(hooks.after_training(agent, run, config))
    run.finish(**values)
    return agent, run


def fit(agent, env, steps: int, callbacks: list) -> None:
    """keras-rl's ``fit``, with Ctrl-C and early stopping told apart.

    ``fit`` swallows ``KeyboardInterrupt`` and returns as if done; here a Ctrl-C is recorded, the end
    checkpoint (which would hold a half-finished step) is not saved, and ``KeyboardInterrupt`` is raised
    again once ``fit`` returns, so the run ends interrupted, resumable from its last periodic checkpoint
    (exactly, as after a SIGKILL). :class:`StopTraining` (solved) ends training normally.
    """
    from callbacks import Checkpoint

    def no_end_save():
        for callback in callbacks:
            if isinstance(callback, Checkpoint):
                callback.save_at_end = False

    before = interrupts()
    try:
        with recording_interrupts(no_end_save):
            agent.fit(env, nb_steps=steps, verbose=0, callbacks=callbacks)
    except StopTraining:
        for callback in callbacks:
            callback.on_train_end(logs={"did_abort": False})
    if interrupts() > before:
        raise KeyboardInterrupt


def load_run_config(experiment: str, cls, run_dir):
    """``--resume RUN_DIR``: the run's own config, from its ``config.json``."""
    from reproduce import options

    data = RunDir(run_dir).read_config()
    if data.get("experiment") != experiment:
        raise ConfigError(f"{run_dir} is a run of {data.get('experiment')!r}, not {experiment!r}; "
                          f"resume it with `reproduce run {data.get('experiment')} --resume {run_dir}`")
    options.from_json(cls, data, f"{RunDir(run_dir).config_json}")  # types, choices, unknown keys
    return config_from_dict(cls, data)


def agent_for(cls, data: dict, hooks: Hooks = Hooks()):
    """A compiled agent rebuilt from a checkpoint's config dict (``reproduce evaluate``)."""
    config = config_from_dict(cls, data)
    seed_everything(config.seed)
    env = make_env(config)
    return (hooks.build or make_agent)(config, env, hooks.processor_for(env) if hooks.processor_for else None)


def env_for(cls, data: dict):
    return make_env(config_from_dict(cls, data))


SOLVED_CHECKPOINTS = "checkpoints_solved"  # the agent at its first solve (periodic-check runs that go on)
PRINTED = ("eval_mean", "solved", "steps_to_solve", "time_to_solve_s", "policy", "max_abs_q_error", "regret",
           "wall_time_s")  # the few numbers the CLI prints per seed


def train(name: str, config: RunConfig, run_dir, hooks: Hooks = Hooks(), resume=False) -> dict:
    """Run (or resume) one keras-rl experiment; the short summary the CLI prints."""
    return train_and_evaluate(name, config, Path(run_dir), hooks, resume=resume)[1].printed(PRINTED)
