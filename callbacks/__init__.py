"""Keras / keras-rl callbacks: reward logging (Monitor-format CSV) and checkpointing.

Importable on its own (``import callbacks``); the keras-rl callbacks need ``reproduce``'s
compat layer, which they import themselves.
"""

from callbacks.monitor import MonitorWriter, RewardLogError, load_rewards

__all__ = ["MonitorWriter", "RewardLogError", "load_rewards"]
