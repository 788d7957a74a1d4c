"""Every fix keras-rl2 1.0.5 needs on TensorFlow 2.21 / tf-keras / numpy 2, in one place.

keras-rl2 is archived (last release 2021). Each fix below says what breaks, why, and when
it can be deleted. ``import reproduce`` calls ``prepare()``, which sets the environment and arms
each fix to run right after the module it patches is first imported (TensorFlow, ``rl.core``,
``rl.agents.dqn``), so commands that never touch TensorFlow never load it. ``apply()`` imports
them now; ``ACTIVE_FIXES`` lists what ran (``reproduce doctor`` prints it). TensorFlow's native
start-up lines are dropped as it loads; everything else it prints goes through.

1. ``legacy-keras``: TF >= 2.16 ships Keras 3 as ``tf.keras``; keras-rl2 needs Keras 2.
   We set ``TF_USE_LEGACY_KERAS=1`` so ``tf.keras`` is tf-keras. Delete when keras-rl
   supports Keras 3 (it never will; the successor would have to).
2. ``keras-version``: ``rl.callbacks`` does ``from tensorflow.keras import __version__``,
   which tf-keras's API module lacks. We copy ``tf_keras.__version__`` onto it.
3. ``graph-mode``: importing ``rl.agents`` runs ``tf.compat.v1.disable_eager_execution()``
   (from ``rl/agents/ddpg.py``), so models built before that import are eager and those
   built after are graph-mode, and mixing them fails. keras-rl2's soft target updates
   (``AdditionalUpdatesOptimizer.get_updates``) only run in the graph-mode training loop,
   so we choose graph mode, deliberately, for the whole process, at import time.
4. ``legacy-optimizer``: ``DQNAgent.compile(Adam(...))`` with ``target_model_update < 1``
   fails (``'Adam' object has no attribute '_name'``): keras-rl2 wraps the optimizer in a
   subclass of the *legacy* optimizer API. Agents' ``compile`` now accepts today's
   optimizers (instances or names) and converts them to their ``optimizers.legacy``
   equivalents with the same hyperparameters.
5. ``compile-metrics``: ``DQNAgent.compile(optimizer, metrics=[])`` appends to a shared
   mutable default, so every later agent in the process gets ``mean_q`` once more. We
   pass a fresh list on every call.
6. ``int64-counters``: ``rl/core.py`` counts steps and episodes in ``np.int16``. Under
   numpy 2 (NEP 50) ``np.int16(32767) + 1`` wraps to -32768, so ``fit(nb_steps > 32767)``
   never returns. ``rl.core`` now sees a numpy whose ``int16`` is ``int64``. Delete when
   keras-rl2 counts in Python ints.
7. ``save-no-prompt``: ``save_weights(path)`` defaults to ``overwrite=False``, which asks
   on stdin when the file exists (and blocks with stdin closed). The default is now True.
8. ``ordered-soft-updates``: with ``target_model_update < 1``, keras-rl2 builds the soft
   target update ``tau * online + (1 - tau) * target`` as a separate op with no ordering
   against the optimizer's update of ``online``, so each training step reads the online
   weights before or after the update at TensorFlow's whim, and two same-seed runs
   diverge. We build the soft update under a control dependency on the optimizer's update
   (the target follows the freshly updated online weights, every time). Delete with
   keras-rl2 (upstream never ordered them).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
import types

ACTIVE_FIXES: list[str] = []
_APPLIED = False
# TensorFlow's C++ start-up lines (absl, oneDNN, cudart_stub, cuInit): written to fd 2 before
# TF_CPP_MIN_LOG_LEVEL is read, so they are caught around the import and dropped.
_NATIVE_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog|[IWE]\d{4} [\d:. ]+\d+ \w+\.cc:\d+\])")


class KerasBackendError(RuntimeError):
    """TensorFlow was already imported with Keras 3 as ``tf.keras``."""


@contextlib.contextmanager
def quiet_native_stderr():
    """Hold fd 2 while TensorFlow loads; replay every line but TensorFlow's native start-up chatter."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [ln for ln in held.read().decode(errors="replace").splitlines(keepends=True)
                    if not _NATIVE_NOISE.match(ln)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _HookedLoader(importlib.abc.Loader):
    """Runs a module's fixes right after the module itself has executed."""

    def __init__(self, loader, name):
        self._loader, self._name = loader, name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        if self._name == "tensorflow":
            with quiet_native_stderr():
                self._loader.exec_module(module)
                module.config.list_physical_devices()  # device probing (cuInit) logs now, held
        else:
            self._loader.exec_module(module)
        _run_hooks(self._name)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of every module that has fixes (see ``_HOOKS``)."""

    def __init__(self):
        self._busy: set[str] = set()

    def find_spec(self, fullname, path, target=None):
        if fullname not in _HOOKS or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _HookedLoader(spec.loader, fullname)
        return spec


def _run_hooks(name: str) -> None:
    for fix in _HOOKS.pop(name, ()):
        fix()


def prepare() -> None:
    """Cheap, at ``import reproduce``: set the environment, arm the fixes for when TF/keras-rl load.

    TensorFlow is not imported here (``reproduce --help`` stays fast); each fix runs right
    after the module it patches has been imported, by whoever imports it first.
    """
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not any(isinstance(f, _PostImportFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _PostImportFinder())
    for name in list(_HOOKS):
        if name in sys.modules:  # imported before reproduce: fix it now
            _run_hooks(name)


def after_import(name: str, hook) -> None:
    """Run ``hook()`` right after module ``name`` is imported (now, if it already is)."""
    _HOOKS.setdefault(name, []).append(hook)
    if name in sys.modules:
        _run_hooks(name)


def _require_legacy_keras():
    # tf.keras resolves lazily on first use, so the variable still works after `import
    # tensorflow` as long as nothing has touched tf.keras yet; the check below catches the rest.
    import tensorflow as tf

    if not tf.keras.layers.Dense.__module__.startswith("tf_keras"):
        raise _keras3_error()
    ACTIVE_FIXES.append("legacy-keras: TF_USE_LEGACY_KERAS=1, tf.keras is tf-keras (Keras 2)")


def _keras3_error():
    return KerasBackendError(
        "TensorFlow was imported with Keras 3 as tf.keras before `reproduce`, but keras-rl2 "
        "needs Keras 2 (tf-keras); import `reproduce` before tensorflow, or set "
        "TF_USE_LEGACY_KERAS=1 in the environment"
    )


def _add_keras_version():
    import tensorflow as tf
    import tf_keras

    api = sys.modules.get("tensorflow.keras") or tf.keras
    if not hasattr(api, "__version__"):
        api.__version__ = tf_keras.__version__
    if "tensorflow.keras" not in sys.modules:
        sys.modules["tensorflow.keras"] = api
    ACTIVE_FIXES.append(f"keras-version: tensorflow.keras.__version__ = {tf_keras.__version__}")


def _graph_mode():
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    ACTIVE_FIXES.append("graph-mode: eager execution disabled for the whole process")


def to_legacy_optimizer(optimizer):
    """Return a ``tf.keras.optimizers.legacy`` optimizer equivalent to ``optimizer``.

    Accepts a name (``"adam"``), a current tf-keras optimizer instance, or a legacy one
    (returned unchanged). Raises ``ValueError`` for settings the legacy API cannot express.
    """
    import tensorflow as tf

    legacy = tf.keras.optimizers.legacy
    if isinstance(optimizer, legacy.Optimizer):
        return optimizer
    if isinstance(optimizer, str):
        cls = _legacy_class(legacy, optimizer)
        return cls()
    if not isinstance(optimizer, tf.keras.optimizers.Optimizer):
        raise TypeError(
            f"expected a Keras optimizer or its name (e.g. Adam(learning_rate=1e-3) or 'adam'), "
            f"got {type(optimizer).__name__}"
        )
    cls = _legacy_class(legacy, type(optimizer).__name__)
    for key in ("weight_decay", "use_ema"):
        if getattr(optimizer, key, None):
            raise ValueError(
                f"optimizer setting {key}={getattr(optimizer, key)!r} has no legacy-optimizer "
                f"equivalent; keras-rl2 needs a legacy optimizer, so drop {key} or pass "
                f"tf.keras.optimizers.legacy.{cls.__name__} yourself"
            )
    # get_config() reads variables with .numpy(), which graph mode forbids: read attributes.
    names = set(cls.__init__.__code__.co_varnames) | {"clipnorm", "clipvalue", "global_clipnorm"}
    kwargs = {}
    for name in sorted(names - {"self", "name", "kwargs"}):
        value = getattr(optimizer, name, None)
        if isinstance(value, tf.Variable):  # not yet initialized in graph mode: its initial value
            value = tf.compat.v1.keras.backend.get_session().run(value.initial_value).item()
        if value is not None:
            kwargs[name] = value
    return cls(**kwargs)


def _legacy_class(legacy, name):
    by_lower = {n.lower(): getattr(legacy, n) for n in dir(legacy) if not n.startswith("_")}
    cls = by_lower.get(name.lower())
    if cls is None or name.lower() == "optimizer":
        known = sorted(n for n in dir(legacy) if not n.startswith("_") and n != "Optimizer")
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(known)}")
    return cls


def _patch_agent_compile():
    from rl.agents.dqn import DQNAgent, NAFAgent
    from rl.agents.sarsa import SARSAAgent

    for cls in (DQNAgent, NAFAgent, SARSAAgent):
        original = cls.compile

        @functools.wraps(original)
        def compile(self, optimizer, metrics=None, _original=original):
            return _original(self, to_legacy_optimizer(optimizer), metrics=list(metrics or []))

        cls.compile = compile
    ACTIVE_FIXES.append("legacy-optimizer: agents' compile accepts current optimizers and names")
    ACTIVE_FIXES.append("compile-metrics: agents' compile gets a fresh metrics list per call")


def _patch_counters():
    import numpy as np

    class _Int64CounterNumpy(types.ModuleType):
        """numpy, except that ``int16`` is ``int64`` (keras-rl2's step counters)."""

        int16 = np.int64

        def __getattr__(self, name):
            return getattr(np, name)

    sys.modules["rl.core"].np = _Int64CounterNumpy("numpy")  # runs while rl.core is being bound
    ACTIVE_FIXES.append("int64-counters: rl.core counts steps and episodes in int64")


def _patch_save_weights():
    from rl.agents.dqn import DQNAgent, NAFAgent
    from rl.agents.sarsa import SARSAAgent

    for cls in (DQNAgent, NAFAgent, SARSAAgent):
        original = cls.save_weights

        @functools.wraps(original)
        def save_weights(self, filepath, overwrite=True, _original=original):
            return _original(self, filepath, overwrite=overwrite)

        cls.save_weights = save_weights
    ACTIVE_FIXES.append("save-no-prompt: agents' save_weights overwrites without asking")


class _SoftUpdate(tuple):
    """A deferred soft target update ``(target_var, source_var, tau)``."""


def _deferred_soft_updates(target, source, tau):
    """Like ``rl.util.get_soft_target_model_updates``, but the ops are built later, in order."""
    def weights(model):
        return model.trainable_weights + sum([layer.non_trainable_weights for layer in model.layers], [])

    target_weights, source_weights = weights(target), weights(source)
    if len(target_weights) != len(source_weights):
        raise ValueError(f"target has {len(target_weights)} weights, online model {len(source_weights)}")
    return [_SoftUpdate((tw, sw, tau)) for tw, sw in zip(target_weights, source_weights)]


def _ordered_get_updates(self, params, loss):
    import tensorflow as tf

    updates = self.optimizer.get_updates(params=params, loss=loss)
    soft = [u for u in self.additional_updates if isinstance(u, _SoftUpdate)]
    others = [u for u in self.additional_updates if not isinstance(u, _SoftUpdate)]
    with tf.control_dependencies(updates):
        ordered = [tf.compat.v1.assign(tw, tau * tf.identity(sw) + (1.0 - tau) * tw) for tw, sw, tau in soft]
    self.updates = updates + others + ordered
    return self.updates


def _patch_soft_updates():
    import rl.util

    sys.modules["rl.agents.dqn"].get_soft_target_model_updates = _deferred_soft_updates
    rl.util.AdditionalUpdatesOptimizer.get_updates = _ordered_get_updates
    ACTIVE_FIXES.append("ordered-soft-updates: DQN soft target updates run after the optimizer step")


# module -> fixes to run right after it is imported (in this order)
_HOOKS: dict[str, list] = {
    "tensorflow": [_require_legacy_keras, _add_keras_version, _graph_mode],
    "rl.core": [_patch_counters],
    "rl.agents.dqn": [_patch_agent_compile, _patch_save_weights, _patch_soft_updates],
}


def apply() -> list[str]:
    """Import TensorFlow and keras-rl now, so every fix is in place; return the list of active fixes."""
    global _APPLIED
    if not _APPLIED:
        prepare()
        import rl.agents  # noqa: F401  (imports tensorflow, rl.core and the agents: runs every hook)

        _APPLIED = True
    return ACTIVE_FIXES
