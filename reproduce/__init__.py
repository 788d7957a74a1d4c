"""Reproduce the classic "reinforcement learning with Keras" results on today's stack.

Importing this package first applies the keras-rl2 compatibility fixes
(:mod:`reproduce.compat`), then registers ``NChain-v0`` with gymnasium.
"""

from reproduce import compat

compat.apply()

from reproduce import envs  # noqa: E402  (registers NChain-v0 after the compat fixes)

__version__ = "0.1.0"
__all__ = ["compat", "envs", "__version__"]
