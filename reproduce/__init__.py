"""Reproduce the classic "reinforcement learning with Keras" results on today's stack.

Importing this package arms the keras-rl2 compatibility fixes (:mod:`reproduce.compat`: they
run as TensorFlow and keras-rl load, so import ``reproduce`` first) and registers the package's
gymnasium envs. It does not import TensorFlow itself.
"""

from reproduce import compat

compat.prepare()

from reproduce import envs  # noqa: E402  (registers NChain-v0)

__version__ = "0.1.0"
__all__ = ["compat", "envs", "__version__"]
