"""CartPole's handwritten baseline: eps-greedy Q-learning on a bucketed state (CartPole-v1).

Buckets and hyperparameters are documented in :mod:`reproduce.tabular.cartpole`. Trains
for ``episodes`` episodes (``episodes.csv``, Monitor format), then plays 100 greedy test
episodes (``eval.csv``, through the one greedy evaluator: :mod:`reproduce.evaluation`);
``summary.json`` has the eval mean with its 95% t-interval and ``solved`` (eval mean >= the
env's reward threshold, 475 for CartPole-v1). Same seed, same ``r``/``l``
columns and ``eval.csv``; only the wall-clock ``t`` column and the ``t_start`` header of
``episodes.csv`` differ between runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Experiment, Report, RunContext
from reproduce.options import POSITIVE, option
from reproduce.runs import RunDir

NAME = "cartpole-tabular"


@dataclass(frozen=True)
class Config:
    """Training length and seed; the buckets and schedules are the classic tutorial's."""

    episodes: int = option(400, "training episodes", check=POSITIVE)
    eval_episodes: int = option(100, "greedy test episodes after training", check=POSITIVE)
    gamma: float = 0.99  #: discount
    seed: int = 0  #: seeds the agent's draws and the env (eval: reproduce.evaluation.eval_seed)


def run(config: Config, run_dir: Path) -> dict:
    import gymnasium as gym
    import pandas as pd
    from tqdm import tqdm

    from callbacks.monitor import MonitorWriter
    from reproduce.evaluation import eval_seed
    from reproduce.tabular import cartpole

    run = RunContext(NAME, config, run_dir)
    agent = cartpole.BucketQAgent(cartpole.Buckets(), gamma=config.gamma, seed=config.seed)
    env = gym.make(cartpole.ENV_ID)
    with MonitorWriter(run.file(RunDir.EPISODES), metadata={"env_id": cartpole.ENV_ID}) as log, \
            tqdm(total=config.episodes, unit="episode", delay=2.0) as bar:
        def on_episode(t, total, length):
            log.write(total, length)
            bar.update(1)

        cartpole.train(agent, env, config.episodes, config.seed, on_episode)
    env.close()
    results = cartpole.evaluate(agent, config.eval_episodes, eval_seed(config.seed))
    wall = run.elapsed()
    run.evaluate([r for r, _ in results], [n for _, n in results], cartpole.ENV_ID)
    train = pd.read_csv(run.file(RunDir.EPISODES), skiprows=1)
    return run.finish(
        eval_min=float(min(r for r, _ in results)), episodes=config.episodes, seed=config.seed,
        solved_at=gym.spec(cartpole.ENV_ID).reward_threshold,
        train_last100_mean=float(train["r"].tail(100).mean()), train_steps=int(train["l"].sum()),
        env_steps=int(train["l"].sum()), buckets="x:1 x_dot:1 theta:6 (+-12 deg) theta_dot:3 (+-50 deg/s)",
        wall_time_s=wall)


EXPERIMENT = Experiment(
    NAME, "CartPole-v1: eps-greedy Q-learning on a bucketed state (handwritten baseline)", Config, run,
    Report("tabular eps-greedy Q (bucketed)", table="solve"),
)
