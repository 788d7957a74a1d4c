"""The :class:`~reproduce.experiments.Experiment` of a keras-rl DQN run, from its config class.

Light to import (the heavy runner, :mod:`reproduce.kerasrl.run`, loads when a run starts), so
DQN experiments answer ``--help`` and ``reproduce list`` without TensorFlow.
"""

from __future__ import annotations

from reproduce.contract import Experiment, Report


def dqn_experiment(name: str, summary: str, config: type, agent: str, *, build=None, processor_for=None,
                   extra_for=None, check=None, published=None, differences=()) -> Experiment:
    """A keras-rl experiment: train, resume, rebuild and evaluate through :mod:`reproduce.kerasrl.run`.

    ``build(config, env, processor) -> compiled agent`` makes the agent (default: the DQNAgent of
    ``config.dqn``); ``processor_for(env)`` gives its keras-rl processor; ``extra_for(run_dir,
    config)`` gives an ``extra(agent) -> dict`` of experiment-specific numbers for ``summary.json``.
    """

    def builder():
        from reproduce.kerasrl import run as runner

        return build or runner.make_agent

    def run(cfg, run_dir):
        from reproduce.kerasrl import run as runner

        return runner.train(name, cfg, run_dir, processor_for, extra_for, build=builder())

    def resume(run_dir):
        from reproduce.kerasrl import run as runner

        return runner.train(name, runner.load_run_config(name, config, run_dir), run_dir, processor_for,
                            extra_for, resume=True, build=builder())

    def load_agent(data: dict):
        from reproduce.kerasrl import run as runner

        return runner.agent_for(config, data, processor_for, build=builder())

    def make_env(data: dict):
        from reproduce.kerasrl import run as runner

        return runner.env_for(config, data)

    return Experiment(name, summary, config, run, Report(agent, published=published), resume=resume,
                      load_agent=load_agent, make_env=make_env, check=check, differences=tuple(differences))
