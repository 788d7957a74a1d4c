"""Reproduce the classic "reinforcement learning with Keras" results on today's stack.

Importing this package arms the keras-rl2 compatibility fixes (:mod:`reproduce.compat`: they
run as TensorFlow and keras-rl load, so import ``reproduce`` first) and registers the package's
gymnasium envs as soon as gymnasium is imported. It imports neither TensorFlow nor gymnasium.
"""

import warnings

from reproduce import compat

# Known harmless library warnings, filtered so a normal run prints none: tf-keras's graph-mode train
# function reads its own deprecated ``Model.state_updates`` on every compile.
warnings.filterwarnings("ignore", message=r".*`Model.state_updates` will be removed", category=UserWarning)


def _register_envs():
    import reproduce.envs  # noqa: F401  (registers NChain-v0 and the package's other envs)


def seed_everything(seed: int, env=None) -> None:
    """Seed Python, numpy, TensorFlow and the env in one call (:func:`reproduce.adapters.seed_everything`)."""
    from reproduce.adapters import seed_everything as seed_all

    seed_all(seed, env)


compat.prepare()
compat.after_import("gymnasium", _register_envs)  # whoever imports gymnasium sees our envs

__version__ = "0.1.0"
__all__ = ["compat", "seed_everything", "__version__"]
