"""``sb3-zoo-dqn``: Stable-Baselines3's DQN with rl-baselines3-zoo's CartPole-v1 hyperparameters.

The reference our keras-rl DQN is compared with, run under the same rules and written through
the same writers: 50,000 steps at most; every 1,000 steps a 10-episode greedy check (a row of
``eval_curve.csv``); once one passes, 100 greedy episodes at the run's evaluation seed (the one
evaluator, :mod:`reproduce.evaluation`) decide whether it is solved and training stops. Needs
the bench extra: ``pip install torch==2.13.0 && pip install -e ".[bench]"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from reproduce.contract import Experiment, Report, RunContext, Source
from reproduce.errors import ConfigError
from reproduce.options import POSITIVE, option
from reproduce.runs import RunDir

NAME = "sb3-zoo-dqn"
# rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1
ZOO = dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000, gamma=0.99,
           target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16,
           exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[256, 256]))


@dataclass(frozen=True)
class Config:
    """rl-zoo's CartPole-v1 DQN; stops once solved."""

    steps: int = option(50_000, "training steps at most (rl-zoo: 50,000)", check=POSITIVE)
    eval_episodes: int = option(100, "greedy episodes that confirm a solve", check=POSITIVE)
    env: str = "CartPole-v1"
    """the env rl-zoo's hyperparameters are tuned for"""
    check_every: int = 1_000
    """steps between greedy checks"""
    check_episodes: int = 10
    """greedy episodes per check"""
    seed: int = 0
    """SB3's seed (torch, numpy, env) and the evaluation seed"""


def check(config: Config) -> None:
    import importlib.util

    if importlib.util.find_spec("stable_baselines3") is None:
        raise ConfigError("sb3-zoo-dqn needs Stable-Baselines3, which is not installed; install it with: "
                          "pip install torch==2.13.0 && pip install -e '.[bench]'")


def run(config: Config, run_dir) -> dict:
    from importlib import metadata

    import gymnasium as gym
    import numpy as np
    import pandas as pd
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor

    from callbacks.monitor import MonitorWriter
    from reproduce.evaluation import eval_seed, greedy_episodes, solve_check
    from reproduce.runs import write_csv

    run = RunContext(NAME, config, run_dir)
    t0 = run.t0
    threshold = gym.spec(config.env).reward_threshold
    seed = eval_seed(config.seed)
    curve, solved_at, confirm = [], None, None

    def episodes(model, n, first):
        """``[(return, length)]`` of ``n`` greedy episodes through the one evaluator."""
        choose = lambda states: model.predict(np.stack([s[-1] for s in states]), deterministic=True)[0]  # noqa: E731
        return greedy_episodes(choose, config.env, n, first)

    class Checks(BaseCallback):
        def _on_step(self):
            nonlocal solved_at, confirm
            if self.num_timesteps % config.check_every:
                return True
            quick, full = solve_check(lambda n, first: episodes(self.model, n, first), config.check_episodes,
                                      config.eval_episodes, seed, threshold)
            curve.append((self.num_timesteps, float(np.mean(quick)), min(quick), max(quick), len(quick)))
            if full is not None:
                solved_at, confirm = (self.num_timesteps, time.perf_counter() - t0), full
                return False
            return True

    env = Monitor(gym.make(config.env))
    model = DQN("MlpPolicy", env, seed=config.seed, verbose=0, **ZOO)
    model.learn(total_timesteps=config.steps, callback=Checks())
    results = confirm if confirm is not None else episodes(model, config.eval_episodes, seed)
    returns = [r for r, _ in results]
    wall = time.perf_counter() - t0
    with MonitorWriter(run.file(RunDir.EPISODES), ("episode",), {"env_id": config.env}) as log:
        for i, (r, n, t) in enumerate(zip(env.get_episode_rewards(), env.get_episode_lengths(),
                                          env.get_episode_times())):
            log.write(r, n, t=t, episode=i)
    write_csv(run.file(RunDir.EVAL_CURVE),
              pd.DataFrame(curve, columns=["step", "r_mean", "r_min", "r_max", "episodes"]))
    run.evaluate(returns, [n for _, n in results], config.env, threshold=threshold)
    return run.finish(
        printed=("eval_mean", "solved", "steps_to_solve", "wall_time_s"),
        manifest={"sb3_versions": {name: metadata.version(name) for name in ("stable-baselines3", "torch")}},
        solved=solved_at is not None, steps_to_solve=solved_at[0] if solved_at else None,
        time_to_solve_s=solved_at[1] if solved_at else None, steps_trained=int(model.num_timesteps),
        env_steps=int(model.num_timesteps), wall_time_s=wall, agent="stable_baselines3.DQN",
        hyperparameters="rl-baselines3-zoo hyperparams/dqn.yml CartPole-v1")


EXPERIMENT = Experiment(
    NAME, "Stable-Baselines3 DQN, rl-zoo's CartPole-v1 hyperparameters (needs the bench extra)", Config, run,
    Report("SB3 DQN, rl-zoo hyperparameters (early stop)", table="solve",
           notes="the reference: stops at its first confirmed solve, so its final agent is the solving one",
           source=Source("RL Baselines3 Zoo, hyperparams/dqn.yml", "Antonin Raffin et al.",
                         "https://github.com/DLR-RM/rl-baselines3-zoo")), check=check,
    differences=("the reference, not a reproduction: SB3's DQN as rl-zoo tunes it, stopped and evaluated by "
                 "our rules (the same checks and evaluation seeds as cartpole-dqn-tuned)",),
)
