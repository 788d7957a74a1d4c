"""``cartpole-linear``: the Lazy Programmer's handwritten linear baseline, Q-learning on RBF features.

The recipe of the Lazy Programmer's "Advanced AI: Deep Reinforcement Learning in Python" course:
one ``SGDRegressor`` per action on scikit-learn ``RBFSampler``
features of the scaled state,
TD(0) updates with ``partial_fit``, eps decayed per episode (:mod:`reproduce.tabular.linear`
documents every choice). CartPole-v1 by default, ``--env MountainCar-v0`` for the course's other
env; then greedy test episodes through the one evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Experiment, Report, RunContext, Source
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
    from reproduce.tabular import linear

    run = RunContext(NAME, config, run_dir)
    env = gym.make(config.env)
    agent = linear.make_agent(env, linear.default_config(config.env), config.seed)
    with MonitorWriter(run.file(RunDir.EPISODES), metadata={"env_id": config.env}) as log:
        linear.train(agent, env, config.episodes, config.seed, lambda t, r, n: log.write(r, n))
    env.close()
    results = linear.evaluate(agent, config.env, config.eval_episodes, eval_seed(config.seed))
    run.evaluate([r for r, _ in results], [n for _, n in results], config.env)
    train = pd.read_csv(run.file(RunDir.EPISODES), skiprows=1)
    return run.finish(episodes=config.episodes, env_steps=int(train["l"].sum()))


EXPERIMENT = Experiment(
    NAME, "the Lazy Programmer's linear baseline: Q-learning, RBF features, one SGDRegressor per action",
    Config, run, Report("linear Q on RBF features (handwritten)", table="solve", source=Source(
        "Advanced AI: Deep Reinforcement Learning in Python (course code)", "The Lazy Programmer",
        "https://github.com/lazyprogrammer/machine_learning_examples/tree/master/rl2")),
    differences=("the course's CartPole-v0 with a -200 failure reward and its hand-written SGD become "
                 "CartPole-v1's own rewards and scikit-learn's SGDRegressor (reproduce/tabular/linear.py)",),
)
