"""Keras / keras-rl callbacks: reward logging (Monitor-format CSV) and checkpointing.

Depends only on keras-rl, numpy, pandas and :mod:`reproduce.compat` (whose keras-rl2 fixes must
be armed before TensorFlow loads); ``reproduce`` uses ``callbacks``, never the other way
round. Every name is loaded on first use: ``RewardLogger``, ``Checkpoint``,
``TensorBoardLogger``, ``EpisodeTracker`` (the one per-episode count they all read),
``resume_from``, ``training_callbacks``. Checkpoints support the agent types listed in
``AGENT_PARTS`` (DQN, SARSA, CEM, DDPG, NAF and their subclasses).
"""

_LAZY = {  # loaded on first use, so importing a light submodule (callbacks.files) stays light
    "MonitorWriter": "callbacks.monitor",
    "RewardLogError": "callbacks.monitor",
    "load_rewards": "callbacks.monitor",
    **{name: "callbacks.store" for name in (
        "CheckpointError", "CheckpointNotFoundError", "CheckpointIncompleteError", "CheckpointCorruptError",
        "CheckpointFormatError", "CheckpointMismatchError", "CheckpointWriteError", "UnsupportedAgentError",
        "save_arrays_state", "load_arrays_state")},
    "EpisodeTracker": "callbacks.episode",
    "AGENT_PARTS": "callbacks.parts",
    "RewardLogger": "callbacks.reward_logger",
    "Checkpoint": "callbacks.checkpoint",
    "best_checkpoint": "callbacks.checkpoint",
    "TensorBoardLogger": "callbacks.tensorboard",
    "ResumeState": "callbacks.resume",
    "ResumeCallback": "callbacks.resume",
    "resume_from": "callbacks.resume",
    "load_checkpoint": "callbacks.resume",
    "training_callbacks": "callbacks.resume",
    "RunDirInUseError": "callbacks.resume",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'callbacks' has no attribute {name!r}")


__all__ = list(_LAZY)
