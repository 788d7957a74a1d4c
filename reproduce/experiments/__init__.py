"""The experiment registry: ``reproduce run NAME`` looks names up here.

An experiment is one :class:`Experiment`, declared as ``EXPERIMENT`` in its own module; adding
one means that module and one line in ``REGISTRY``. Modules are imported on lookup and import
nothing heavy at module level (TensorFlow, pandas), so ``reproduce list`` and ``--help`` answer
at once. Every run writes a run directory whose files :class:`reproduce.runs.RunDir` names.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reproduce.runs import ConfigError

REGISTRY: dict[str, str] = {
    "nchain-tabular": "reproduce.experiments.nchain_tabular",
    "cartpole-tabular": "reproduce.experiments.cartpole_tabular",
    "cartpole-linear": "reproduce.experiments.cartpole_linear",
    "nchain-keras": "reproduce.experiments.nchain_keras",
    "nchain-dqn": "reproduce.experiments.nchain_dqn",
    "nchain-sarsa": "reproduce.experiments.nchain_sarsa",
    "cartpole-dqn": "reproduce.experiments.cartpole_dqn",
    "cartpole-dqn-tuned": "reproduce.experiments.cartpole_dqn_tuned",
    "cartpole-duel-dqn": "reproduce.experiments.cartpole_duel_dqn",
    "cartpole-sarsa": "reproduce.experiments.cartpole_sarsa",
    "cartpole-cem": "reproduce.experiments.cartpole_cem",
    "pendulum-ddpg": "reproduce.experiments.pendulum_ddpg",
    "pendulum-naf": "reproduce.experiments.pendulum_naf",
    "cartpole-dotmask": "reproduce.experiments.cartpole_dotmask",
    "cartpole-dotmask-kerasrl": "reproduce.experiments.cartpole_dotmask_kerasrl",
    "catch-qlearning4k": "reproduce.experiments.catch_qlearning4k",
    "catch-dqn": "reproduce.experiments.catch_dqn",
    "sb3-zoo-dqn": "reproduce.experiments.sb3_zoo_dqn",  # the reference; needs the bench extra
}
OPTIONAL = {"sb3-zoo-dqn"}  # not in `reproduce all`: their dependencies are extras


@dataclass(frozen=True)
class Report:
    """What an experiment gives the report.

    ``agent`` labels its rows; ``rows(run) -> [dict]`` overrides the default one row per run
    (the summary's headline numbers); ``published(runs) -> [dict]`` compares its runs with
    the numbers the original published (see :mod:`reproduce.report.published`).
    """

    agent: str
    rows: Callable[[Any], list[dict]] | None = None
    published: Callable[[list], list[dict]] | None = None


@dataclass(frozen=True)
class Experiment:
    """One experiment: its name, options (``config``, a dataclass of :mod:`reproduce.options` fields)
    and what it can do.

    ``run(config, run_dir) -> dict`` trains and evaluates, writing the run directory, and returns
    the few numbers the CLI prints. Optional: ``resume(run_dir) -> dict`` continues a run from its
    newest good checkpoint; ``load_agent(config_dict)`` and ``make_env(config_dict)`` rebuild a
    checkpointed agent and its env for ``reproduce evaluate``; ``check(config)`` validates what
    spans several options (each option checks itself); ``differences`` lists, for the report,
    every way the run differs from the original it reproduces.
    """

    name: str
    summary: str
    config: type
    run: Callable[[Any, Path], dict]
    report: Report
    resume: Callable[[Path], dict] | None = None
    load_agent: Callable[[dict], Any] | None = None
    make_env: Callable[[dict], Any] | None = None
    check: Callable[[Any], None] | None = None
    differences: tuple[str, ...] = field(default=())

    def validate(self, config):
        """Every option's own check, then the experiment's; returns ``config``."""
        from reproduce import options

        options.validate(config)
        if self.check is not None:
            self.check(config)
        return config


def get(name: str) -> Experiment:
    """The experiment called ``name``; an unknown name suggests the closest one."""
    if name not in REGISTRY:
        close = difflib.get_close_matches(str(name), REGISTRY, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown experiment {name!r}{hint} (known: {', '.join(sorted(REGISTRY))})")
    return importlib.import_module(REGISTRY[name]).EXPERIMENT


def names() -> list[str]:
    """Names in registry order (the order ``reproduce list`` and the report present them)."""
    return list(REGISTRY)
