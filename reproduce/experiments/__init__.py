"""The experiment registry: ``reproduce run NAME`` looks names up here.

Each experiment is a module that defines:

- ``DESCRIPTION``: one line for ``reproduce list``;
- ``Config``: a dataclass with a docstring line per field and a ``seed`` field;
- ``add_arguments(parser)``: its own CLI options (``--seed``, ``--seeds`` and ``--out``
  are added by the CLI for every experiment);
- ``config_from_args(args) -> Config``: validates and raises ``ConfigError`` on bad input;
- ``run(config, run_dir: Path) -> dict``: trains/evaluates, writes into ``run_dir``
  through :class:`reproduce.runs.RunDir`, returns a small summary dict.

Every run directory holds ``config.json`` and ``manifest.json`` (:class:`RunDir`),
``episodes.csv`` (per training episode, Monitor format, :class:`callbacks.MonitorWriter`),
``summary.json`` (the flat headline numbers the report quotes) and, where they apply,
``eval.csv`` (greedy test episodes: ``episode, r, l``) and ``q_table.csv`` (NChain:
columns ``state, q_forward, q_backward``).

Modules are imported lazily so ``reproduce list`` and ``--help`` stay fast.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

from reproduce.runs import ConfigError

EXPERIMENTS: dict[str, str] = {
    "nchain-tabular": "reproduce.experiments.nchain_tabular",
    "cartpole-tabular": "reproduce.experiments.cartpole_tabular",
    "nchain-keras": "reproduce.experiments.nchain_keras",
    "nchain-dqn": "reproduce.experiments.nchain_dqn",
    "cartpole-dqn": "reproduce.experiments.cartpole_dqn",
    "cartpole-dqn-tuned": "reproduce.experiments.cartpole_dqn_tuned",
}


def register(name: str, module: str) -> None:
    EXPERIMENTS[name] = module


def get(name: str) -> ModuleType:
    """The experiment module for ``name``; unknown names suggest the closest one."""
    if name not in EXPERIMENTS:
        close = difflib.get_close_matches(name, EXPERIMENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown experiment {name!r}{hint} (known: {', '.join(sorted(EXPERIMENTS))})"
        )
    return importlib.import_module(EXPERIMENTS[name])


def names() -> list[str]:
    return sorted(EXPERIMENTS)
