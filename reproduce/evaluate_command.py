"""Reload a trained keras-rl agent from a checkpoint and evaluate it greedily (``reproduce evaluate``).

``load_agent(path)`` rebuilds the agent from the checkpoint's own config, through its
experiment's ``load_agent``, and loads its full state. ``reproduce evaluate RUN_DIR`` plays
the run's own greedy test episodes by default (its ``eval_episodes``, at
:func:`reproduce.evaluation.eval_seed` of its seed), through the one evaluator, so a finished
run's numbers come out exactly as in its ``eval.csv``.
"""

from __future__ import annotations

from pathlib import Path

from reproduce.errors import ConfigError
from reproduce.runs import write_csv


def _experiment(config: dict | None):
    """The checkpoint's experiment, if it can rebuild its agents; else a one-line ConfigError."""
    from reproduce import experiments

    if not isinstance(config, dict) or not config.get("experiment"):
        raise ConfigError("this checkpoint was not written by `reproduce run` (it names no experiment), so "
                          "the command line cannot rebuild its agent; rebuild the agent in your own script "
                          "and load the checkpoint there with callbacks.resume_from (docs/callbacks.md)")
    experiment = experiments.get(config.get("experiment"))
    if experiment.load_agent is None or experiment.make_env is None:
        raise ConfigError(f"this run of {experiment.name!r} has no checkpointed agent to evaluate (it is "
                          f"not a keras-rl run); its results are in the run directory itself (summary.json "
                          f"and its CSV files)")
    return experiment


def _run_experiment(path: Path):
    """A run directory's experiment, checked before any checkpoint is read (a tabular run has no agent)."""
    from reproduce.runs import RunDir, read_json

    if path.is_dir() and RunDir(path).config_json.exists():
        config = read_json(RunDir(path).config_json)
        if config.get("experiment"):
            _experiment(config)


def load_agent(path, builder=None, env=None):
    """A ready keras-rl agent from a checkpoint (directory, or run directory: newest good one).

    ``builder(config) -> compiled agent`` rebuilds it from the checkpoint's config; default:
    its experiment's. With ``env``, the checkpoint must match it. Raises
    ``callbacks.CheckpointError`` subclasses for bad or mismatched checkpoints.
    """
    from callbacks import agent_state
    from callbacks.resume import load_checkpoint

    ckpt, state, arrays = load_checkpoint(path)
    if builder is None:
        builder = _experiment(state.get("config")).load_agent
    if env is not None and state.get("env"):
        agent_state.check_env(state["env"], env)
    agent = builder(state.get("config"))
    agent_state.restore_agent(agent, state, arrays)
    agent.checkpoint_path = ckpt
    return agent


def check_belongs(ckpt: Path, state: dict) -> None:
    """A checkpoint inside a run directory must be that run's: same experiment and config (so the same agent
    type, built the same way); else one ``ConfigError`` naming what differs."""
    from reproduce.runs import RunDir, differences, read_json

    run_dir = ckpt.parent.parent
    if not RunDir(run_dir).config_json.exists():
        return  # a checkpoint on its own: its config is all there is
    run_config = read_json(RunDir(run_dir).config_json)
    saved = state.get("config")
    if saved != run_config:
        what = differences(run_config, saved) if isinstance(saved, dict) else "it has no config"
        raise ConfigError(f"{ckpt} does not belong to the run in {run_dir} ({what}; 'there' is the run, "
                          f"'here' the checkpoint); evaluate a checkpoint of that run")


def main(path, episodes: int | None = None, seed: int | None = None) -> int:
    """Load, evaluate, print mean ± CI, write the episodes as CSV next to the checkpoint."""
    import pandas as pd

    from callbacks.resume import load_checkpoint
    from callbacks.store import CheckpointError
    from reproduce.evaluation import eval_seed, keras_rl_episodes
    from reproduce.stats import mean_ci

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"no run directory or checkpoint at {path}; pass a run directory or a "
                          f"ckpt_<step>_steps directory")
    _run_experiment(path)
    try:
        ckpt, state, _ = load_checkpoint(path)
        check_belongs(ckpt, state)
        experiment = _experiment(state.get("config"))
        config = state["config"]
        env = experiment.make_env(config)
        agent = load_agent(ckpt, builder=experiment.load_agent, env=env)
    except CheckpointError as exc:
        raise ConfigError(str(exc)) from None
    episodes = int(config.get("eval_episodes", 10)) if episodes is None else episodes
    seed = eval_seed(int(config.get("seed", 0))) if seed is None else seed
    results = keras_rl_episodes(agent, config["env"], episodes, seed)
    frame = pd.DataFrame([(i, r, n) for i, (r, n) in enumerate(results)], columns=["episode", "r", "l"])
    out = ckpt.parent / f"eval_{ckpt.name}_seed{seed}.csv"
    write_csv(out, frame)
    mean, low, high = mean_ci(frame["r"])
    print(f"{ckpt}: mean reward {mean:.2f} (95% CI [{low:.2f}, {high:.2f}]) over {episodes} greedy "
          f"episodes, reset seeds {seed}..{seed + episodes - 1} -> {out}")
    return 0
