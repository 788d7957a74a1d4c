"""Reload a trained keras-rl agent from a checkpoint and evaluate it greedily.

``load_agent(path)`` rebuilds the agent from the checkpoint's own config (through a builder
``config -> compiled agent``) and loads its full state; ``evaluate(agent, env, episodes,
seed)`` runs greedy test episodes and returns one row per episode; ``reproduce evaluate
RUN_DIR_OR_CHECKPOINT`` does both, prints mean ± 95% CI and writes the rows as CSV next to
the checkpoint.

Builders are looked up from the checkpoint config's ``experiment``: the experiment module's
``build_agent(config: dict) -> compiled agent`` and ``make_env(config: dict) -> keras-rl env``.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd

from reproduce.runs import ConfigError, write_csv
from reproduce.stats import mean_ci


def _builders(config: dict | None):
    """``(build_agent, make_env)`` of the checkpoint's experiment module, or a one-line ConfigError."""
    from reproduce import experiments

    if not isinstance(config, dict):
        raise ConfigError("the checkpoint has no config to rebuild its agent from; "
                          "pass builder= to load_agent")
    name = config.get("experiment")
    module = experiments.get(name) if name in experiments.EXPERIMENTS else None
    build_agent, make_env = getattr(module, "build_agent", None), getattr(module, "make_env", None)
    if not (callable(build_agent) and callable(make_env)):
        raise ConfigError(
            f"experiment {name!r} defines no build_agent(config) and make_env(config) to rebuild its "
            f"checkpoints; evaluate a checkpoint of an experiment that does, or call "
            f"reproduce.evaluate.load_agent(path, builder=...) from Python"
        )
    return build_agent, make_env


def load_agent(path, builder=None, env=None):
    """A ready keras-rl agent from a checkpoint (directory, or run directory: newest good one).

    ``builder(config) -> compiled agent`` rebuilds it from the checkpoint's config; default:
    looked up from the config's experiment. With ``env``, the checkpoint must match it.
    Raises ``callbacks.CheckpointError`` subclasses for bad or mismatched checkpoints.
    """
    from callbacks import agent_state
    from callbacks.resume import load_checkpoint

    ckpt, state, arrays = load_checkpoint(path)
    if builder is None:
        builder = _builders(state.get("config"))[0]
    if env is not None and state.get("env"):
        agent_state.check_env(state["env"], env)
    agent = builder(state.get("config"))
    agent_state.restore_agent(agent, state, arrays)
    agent.checkpoint_path = ckpt
    return agent


def evaluate(agent, env, episodes: int = 10, seed: int = 0,
             nb_max_episode_steps: int | None = None) -> pd.DataFrame:
    """Greedy test episodes (the agent's ``test_policy``): columns ``episode, r, l``."""
    from rl.callbacks import Callback

    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ConfigError(f"episodes must be a positive integer, got {episodes!r}; pass e.g. --episodes 10")
    rows = []

    class Record(Callback):
        def on_episode_end(self, episode, logs=None):
            rows.append({"episode": int(episode), "r": float(logs["episode_reward"]),
                         "l": int(logs["nb_steps"])})

    random.seed(seed)
    np.random.seed(seed)
    if callable(getattr(env, "seed", None)):
        env.seed(seed)
    agent.test(env, nb_episodes=episodes, visualize=False, verbose=0, callbacks=[Record()],
               nb_max_episode_steps=nb_max_episode_steps)
    return pd.DataFrame(rows, columns=["episode", "r", "l"])


def summarize(frame: pd.DataFrame) -> dict:
    mean, low, high = mean_ci(frame["r"])
    return {"episodes": len(frame), "mean_reward": mean, "ci95_low": low, "ci95_high": high,
            "mean_length": float(frame["l"].mean())}


def main(path, episodes: int = 10, seed: int = 0) -> int:
    """``reproduce evaluate``: load, evaluate, print mean ± CI, write the CSV next to the checkpoint."""
    from callbacks.store import CheckpointError

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"no run directory or checkpoint at {path}; "
                          f"pass a run directory or a ckpt_<step>_steps directory")
    try:
        from callbacks.resume import load_checkpoint

        ckpt, state, _ = load_checkpoint(path)
        build_agent, make_env = _builders(state.get("config"))
        env = make_env(state["config"])
        agent = load_agent(ckpt, builder=build_agent, env=env)
    except CheckpointError as exc:
        raise ConfigError(str(exc)) from None
    frame = evaluate(agent, env, episodes=episodes, seed=seed)
    out = ckpt.parent / f"eval_{ckpt.name}_seed{seed}.csv"
    write_csv(out, frame)
    s = summarize(frame)
    half = (s["ci95_high"] - s["ci95_low"]) / 2
    print(f"{ckpt}: mean reward {s['mean_reward']:.2f} ± {half:.2f} (95% CI [{s['ci95_low']:.2f}, "
          f"{s['ci95_high']:.2f}]) over {s['episodes']} greedy episodes, seed {seed} -> {out}")
    return 0
