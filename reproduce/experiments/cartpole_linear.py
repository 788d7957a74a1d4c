"""``cartpole-linear``: seed 000's handwritten linear baseline, Q-learning on RBF features.

The Lazy Programmer's recipe: one ``SGDRegressor`` per action on scikit-learn ``RBFSampler``
features of the scaled state,
TD(0) updates with ``partial_fit``, eps decayed per episode (:mod:`reproduce.tabular.linear`
documents every choice). CartPole-v1 by default, ``--env MountainCar-v0`` for the course's other
env; then greedy test episodes through the one evaluator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from reproduce.contract import Experiment, Report
from reproduce.options import POSITIVE, option
from reproduce.runs import RunDir

NAME = "cartpole-linear"
ENVS = ("CartPole-v1", "MountainCar-v0")


@dataclass(frozen=True)
class Config:
    """Training episodes on CartPole-v1 (or MountainCar-v0), then greedy test episodes."""

    env: str = option("CartPole-v1", "gymnasium env id the course's recipe covers", choices=ENVS)
    episodes: int = option(200, "training episodes", check=POSITIVE)
    eval_episodes: int = option(100, "greedy test episodes after training", check=POSITIVE)
    seed: int = 0
    """seeds the state sampler, the features, the regressors, the eps draws and the env"""


def run(config: Config, run_dir) -> dict:
    import gymnasium as gym
    import pandas as pd

    from callbacks.monitor import MonitorWriter
    from reproduce.evaluation import eval_seed
    from reproduce.runs import write_csv, write_json
    from reproduce.stats import mean_ci
    from reproduce.tabular import linear

    rd = RunDir(run_dir, NAME, config, config.seed).start()
    start = time.perf_counter()
    env = gym.make(config.env)
    agent = linear.make_agent(env, linear.default_config(config.env), config.seed)
    with MonitorWriter(rd.episodes, metadata={"env_id": config.env}) as log:
        linear.train(agent, env, config.episodes, config.seed, lambda t, r, n: log.write(r, n))
    env.close()
    results = linear.evaluate(agent, config.env, config.eval_episodes, eval_seed(config.seed))
    returns = [r for r, _ in results]
    lengths = [n for _, n in results]
    write_csv(rd.eval, pd.DataFrame({"episode": range(len(results)), "r": returns, "l": lengths}))
    mean, low, high = mean_ci(returns)
    threshold = gym.spec(config.env).reward_threshold
    train = pd.read_csv(rd.episodes, skiprows=1)
    summary = {
        "env_id": config.env, "episodes": config.episodes, "eval_episodes": len(returns), "eval_mean": mean,
        "eval_ci_low": low, "eval_ci_high": high, "solved": bool(threshold is not None and mean >= threshold),
        "env_steps": int(train["l"].sum()), "wall_time_s": time.perf_counter() - start,
    }
    write_json(rd.summary, summary)
    rd.finish(wall_time_s=summary["wall_time_s"])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()
            if k in ("eval_mean", "solved", "wall_time_s")}


EXPERIMENT = Experiment(
    NAME, "seed 000's linear baseline: Q-learning, RBF features, one SGDRegressor per action", Config, run,
    Report("linear Q on RBF features (handwritten)"),
    differences=("the course's CartPole-v0 with a -200 failure reward and its hand-written SGD become "
                 "CartPole-v1's own rewards and scikit-learn's SGDRegressor (reproduce/tabular/linear.py)",),
)
