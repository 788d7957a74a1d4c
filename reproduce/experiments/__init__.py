"""The experiment registry: ``reproduce run NAME`` looks names up here.

An experiment is one :class:`reproduce.contract.Experiment`, declared as ``EXPERIMENT`` in its own
module; adding one means that module, one line in ``REGISTRY`` and its entries in
:mod:`reproduce.suite`. Modules are imported on lookup and import
nothing heavy at module level (TensorFlow, pandas), so ``reproduce list`` and ``--help`` answer
at once. Every run writes a run directory whose files :class:`reproduce.runs.RunDir` names.
"""

from __future__ import annotations

import difflib
import importlib

from reproduce.errors import ConfigError

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
    "snake-qlearning4k": "reproduce.experiments.snake_qlearning4k",
    "snake-dqn": "reproduce.experiments.snake_dqn",
    "cartpole-a3c": "reproduce.experiments.cartpole_a3c",
    "cartpole-reinforce": "reproduce.experiments.cartpole_reinforce",
    "cartpole-gj-dqn": "reproduce.experiments.cartpole_gj_dqn",
    "cartpole-gj-dueling": "reproduce.experiments.cartpole_gj_dueling",
    "cartpole-gj-linear": "reproduce.experiments.cartpole_gj_linear",
    "mountaincar-gj-linear": "reproduce.experiments.mountaincar_gj_linear",
    "mountaincar-gj-dqn": "reproduce.experiments.mountaincar_gj_dqn",
    "dungeon-qlearning": "reproduce.experiments.dungeon_qlearning",
    "dungeon-deepgambler": "reproduce.experiments.dungeon_deepgambler",
    "dungeon-kerasrl": "reproduce.experiments.dungeon_kerasrl",
    "blob-qtable": "reproduce.experiments.blob_qtable",
    "blob-dqn": "reproduce.experiments.blob_dqn",
    "blob-dqn-kerasrl": "reproduce.experiments.blob_dqn_kerasrl",
    "sb3-zoo-dqn": "reproduce.experiments.sb3_zoo_dqn",  # the reference; needs the bench extra
    "pong-gj-dqn": "reproduce.experiments.pong_gj_dqn",  # needs the pong extra; about 14 h per seed
}
OPTIONAL = {"sb3-zoo-dqn", "pong-gj-dqn"}  # not in `reproduce all`: their dependencies are extras


def get(name: str):
    """The experiment called ``name``; an unknown name suggests the closest one."""
    if name not in REGISTRY:
        close = difflib.get_close_matches(str(name), REGISTRY, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown experiment {name!r}{hint} (known: {', '.join(sorted(REGISTRY))})")
    return importlib.import_module(REGISTRY[name]).EXPERIMENT


def names() -> list[str]:
    """Names in registry order (the order ``reproduce list`` and the report present them)."""
    return list(REGISTRY)
