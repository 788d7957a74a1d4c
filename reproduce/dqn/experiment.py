"""The :class:`~reproduce.experiments.Experiment` of a keras-rl DQN run, from its config class.

Light to import (the heavy runner, :mod:`reproduce.dqn.run`, loads when a run starts), so
DQN experiments answer ``--help`` and ``reproduce list`` without TensorFlow.
"""

from __future__ import annotations

from reproduce.experiments import Experiment, Report


def dqn_experiment(name: str, summary: str, config: type, agent: str, *, processor_for=None, extra_for=None,
                   check=None, published=None, differences=()) -> Experiment:
    """A DQN experiment: train, resume, rebuild and evaluate through :mod:`reproduce.dqn.run`.

    ``processor_for(env)`` gives the agent's keras-rl processor; ``extra_for(run_dir, config)``
    gives an ``extra(agent) -> dict`` of experiment-specific numbers for ``summary.json``.
    """

    def run(cfg, run_dir):
        from reproduce.dqn import run as runner

        return runner.train(name, cfg, run_dir, processor_for, extra_for)

    def resume(run_dir):
        from reproduce.dqn import run as runner

        return runner.train(name, runner.load_run_config(name, config, run_dir), run_dir, processor_for,
                            extra_for, resume=True)

    def load_agent(data: dict):
        from reproduce.dqn import run as runner

        return runner.agent_for(config, data, processor_for)

    def make_env(data: dict):
        from reproduce.dqn import run as runner

        return runner.env_for(config, data)

    return Experiment(name, summary, config, run, Report(agent, published=published), resume=resume,
                      load_agent=load_agent, make_env=make_env, check=check, differences=tuple(differences))
