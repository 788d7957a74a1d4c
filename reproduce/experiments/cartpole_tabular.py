"""CartPole's handwritten baseline: eps-greedy Q-learning on a bucketed state (CartPole-v1).

Buckets and hyperparameters are documented in :mod:`reproduce.tabular.cartpole`. Trains
for ``episodes`` episodes (``episodes.csv``, Monitor format), then plays 100 greedy test
episodes (``eval.csv``); ``summary.json`` has the eval mean with its 95% t-interval and
``solved`` (eval mean >= 475, CartPole-v1's threshold). Same seed, same ``r``/``l``
columns and ``eval.csv``; only the wall-clock ``t`` column and the ``t_start`` header of
``episodes.csv`` differ between runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reproduce.runs import ConfigError, RunDir, write_csv, write_json

DESCRIPTION = "CartPole-v1: eps-greedy Q-learning on a bucketed state (handwritten baseline)"
NAME = "cartpole-tabular"
SOLVED_AT = 475.0


@dataclass(frozen=True)
class Config:
    """Training length and seed; the buckets and schedules are the classic tutorial's."""

    episodes: int = 400  #: training episodes
    eval_episodes: int = 100  #: greedy test episodes after training
    gamma: float = 0.99  #: discount
    seed: int = 0  #: seeds the agent's draws and the env (eval uses seed + 10000)


def add_arguments(parser) -> None:
    parser.add_argument("--episodes", default="400", help="training episodes (default 400)")


def config_from_args(args) -> Config:
    text = args.episodes
    try:
        episodes = int(str(text))
    except ValueError:
        episodes = 0
    if episodes <= 0:
        raise ConfigError(f"--episodes expects a positive integer, got {text!r}; e.g. --episodes 400")
    return Config(episodes=episodes, seed=args.seed)


def run(config: Config, run_dir: Path) -> dict:
    import gymnasium as gym
    from tqdm import tqdm

    from callbacks.monitor import MonitorWriter
    from reproduce.stats import mean_ci
    from reproduce.tabular import cartpole

    rd = RunDir(run_dir, NAME, config, config.seed).start()
    t0 = time.perf_counter()
    agent = cartpole.BucketQAgent(cartpole.Buckets(), gamma=config.gamma, seed=config.seed)
    env = gym.make(cartpole.ENV_ID)
    with MonitorWriter(rd.file("episodes.csv"), metadata={"env_id": cartpole.ENV_ID}) as log, \
            tqdm(total=config.episodes, unit="episode", delay=2.0) as bar:
        def on_episode(t, total, length):
            log.write(total, length)
            bar.update(1)

        cartpole.train(agent, env, config.episodes, config.seed, on_episode)
    env.close()
    env = gym.make(cartpole.ENV_ID)
    results = cartpole.evaluate(agent, env, config.eval_episodes, config.seed + 10_000)
    env.close()
    wall = time.perf_counter() - t0
    evals = pd.DataFrame([(i, r, n) for i, (r, n) in enumerate(results)], columns=["episode", "r", "l"])
    write_csv(rd.file("eval.csv"), evals)
    mean, low, high = mean_ci(evals["r"])
    train = pd.read_csv(rd.file("episodes.csv"), skiprows=1)
    summary = {
        "env_id": cartpole.ENV_ID, "episodes": config.episodes, "seed": config.seed,
        "eval_episodes": config.eval_episodes, "eval_mean": mean, "eval_ci_low": low, "eval_ci_high": high,
        "eval_min": float(evals["r"].min()), "solved": bool(mean >= SOLVED_AT), "solved_at": SOLVED_AT,
        "train_last100_mean": float(train["r"].tail(100).mean()), "train_steps": int(train["l"].sum()),
        "buckets": "x:1 x_dot:1 theta:6 (+-12 deg) theta_dot:3 (+-50 deg/s)",
        "wall_time_s": wall,
    }
    write_json(rd.file("summary.json"), summary)
    rd.finish(wall_time_s=wall)
    return {k: summary[k] for k in ("eval_mean", "solved", "wall_time_s")}
