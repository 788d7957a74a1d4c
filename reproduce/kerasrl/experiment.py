"""The :class:`~reproduce.contract.Experiment` of a keras-rl run (DQN, SARSA, CEM, DDPG, NAF).

Light to import (the heavy runner, :mod:`reproduce.kerasrl.run`, loads when a run starts), so
keras-rl experiments answer ``--help`` and ``reproduce list`` without TensorFlow. An experiment
says what it adds to the shared runner in one :class:`Hooks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from reproduce.contract import Experiment, Report


@dataclass(frozen=True)
class Hooks:
    """What a keras-rl experiment adds to the shared runner.

    ``build(config, env, processor) -> compiled agent`` makes the agent (default: the DQNAgent of
    ``config.dqn``); ``processor_for(env)`` gives its keras-rl processor; ``after_training(agent, run,
    config) -> dict`` adds experiment-specific numbers to ``summary.json`` (``run`` is the
    :class:`~reproduce.contract.RunContext`, for files it writes beside them).
    """

    build: Callable | None = None
    processor_for: Callable | None = None
    after_training: Callable[[Any, Any, Any], dict] | None = None


def _train(name: str, hooks: Hooks, config, run_dir) -> dict:
    from reproduce.kerasrl import run as runner

    return runner.train(name, config, run_dir, hooks)


def _resume(name: str, cls: type, hooks: Hooks, run_dir) -> dict:
    from reproduce.kerasrl import run as runner

    return runner.train(name, runner.load_run_config(name, cls, run_dir), run_dir, hooks, resume=True)


def _load_agent(cls: type, hooks: Hooks, data: dict):
    from reproduce.kerasrl import run as runner

    return runner.agent_for(cls, data, hooks)


def _make_env(cls: type, data: dict):
    from reproduce.kerasrl import run as runner

    return runner.env_for(cls, data)


def kerasrl_experiment(name: str, summary: str, config: type, report: Report, *, hooks: Hooks = Hooks(),
                       check=None, differences=()) -> Experiment:
    """A keras-rl experiment: train, resume, rebuild and evaluate through :mod:`reproduce.kerasrl.run`."""
    return Experiment(name, summary, config, partial(_train, name, hooks), report,
                      resume=partial(_resume, name, config, hooks),
                      load_agent=partial(_load_agent, config, hooks),
                      make_env=partial(_make_env, config), check=check, differences=tuple(differences))
