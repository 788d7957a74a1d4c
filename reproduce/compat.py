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
   (the target follows the freshly updated online weights, every time). DDPG has the same race
   for its critic and its actor (``ordered-soft-updates-ddpg``: its actor's soft updates go
   straight to ``K.function``, so its module gets a backend whose ``function`` orders them).
   Delete with keras-rl2 (upstream never ordered them).
9. ``keras2-optimizer-args``: tf-keras 2.21's current optimizers drop ``lr=`` with a log line
   and keep their default (``Adam(lr=0.25)`` trains at 0.001), raise on ``decay=``, and take
   ``epsilon=None`` literally. Every keras-rl example is written ``Adam(lr=1e-3)``. These now
   mean what they meant in Keras 2.10: ``lr`` is ``learning_rate`` (one ``UserWarning``),
   ``decay`` is Keras 2's time-based decay ``lr / (1 + decay * iterations)`` (as an
   ``InverseTimeDecay`` schedule), ``epsilon=None`` is the default epsilon. Settings that
   cannot be converted (``lr`` and ``learning_rate`` both, ``decay`` on a schedule or below 0)
   raise a one-line ``ValueError``. The ``optimizers.legacy`` classes still honour all three
   themselves. Delete when nobody copies Keras 2 code any more.
10. ``ddpg-optimizers``: ``DDPGAgent.compile([Adam(...), Adam(...)])`` fails like fix 4, and a
    single optimizer or name is cloned for the critic by ``rl.util.clone_optimizer``. Its
    ``compile`` now converts each optimizer to its legacy equivalent (and gets a fresh
    metrics list, like fix 5). Delete with fix 4.
11. ``clone-safe-mode``: every agent clones its model for the target network with
    ``rl.util.clone_model`` (a config round trip), which tf-keras's safe mode refuses for any
    ``Lambda`` holding Python code, such as the dueling head ``DQNAgent`` builds itself
    ("Requested the deserialization of a Lambda layer..."). ``clone_model`` now deserializes
    under ``SafeModeScope(safe_mode=False)``, and only there. Security: safe mode protects
    against loading untrusted files; this is the user's own model, in memory, cloned in the
    same process, never read from disk (loading saved files keeps safe mode). Delete when
    keras-rl clones with ``tf.keras.models.clone_model``.
12. ``clone-optimizer``: ``rl.util.clone_optimizer`` reads ``get_config()``, which calls
    ``.numpy()`` on today's optimizers and fails in graph mode; given a name it returns
    ``optimizers.get(name)``, a legacy optimizer in graph mode where a current one was asked.
    It now returns the same class with the same hyperparameters (read from the object), and
    the current class for a name. Today's optimizers also register their own variables
    (learning rate, iterations) with Keras's graph-mode initializer, as legacy ones do, so
    ``K.get_value(optimizer.learning_rate)`` reads them instead of failing "uninitialized".
    Delete with keras-rl2.
13. ``loop-gradients`` (was ``naf-scan-gradient``): in graph mode TensorFlow builds a loop
    inside a Keras layer (``NAFLayer``'s ``tf.scan``, every ``LSTM``/``GRU``/``SimpleRNN``) with
    all its intermediates as outputs, but builds the gradient (outside any layer) assuming it may
    add outputs to the loop, which a graph-mode loop cannot take: the first training step fails
    with "Connecting to invalid output 45 of source node lstm/while ... Try using
    tf.compat.v1.experimental.output_all_intermediates(True)" (TF 2.15 too; users set the flag
    by hand). Every agent's ``compile`` (DQN, double/dueling DQN, SARSA, DDPG, NAF) now runs
    with that setting on and, when the graph holds a loop, builds its training function there
    too (NAF always); the setting is restored afterwards (it stays off for everything else,
    e.g. XLA loops). Delete with keras-rl2.
14. ``graph-isolation``: a node TensorFlow cannot run (as in fix 13) stays in the graph, so
    every later ``Session.run`` in the process fails with the same error: one failing agent
    broke every agent built after it. When an agent's ``compile``, ``fit`` or ``test`` fails
    and the session reported its graph unusable, Keras's session is now cleared, so models
    built from then on start in a fresh graph (the failing agent stays broken, as it was).
    It costs nothing unless that happens. Delete with graph mode.
15. ``keras-is-tf-keras``: TF >= 2.16 installs Keras 3 as ``keras``, and
    ``TF_USE_LEGACY_KERAS`` redirects ``tf.keras`` only, so the many keras-rl scripts written
    ``from keras.layers import Dense`` build Keras 3 objects, which fail deep inside keras-rl
    ("Received an invalid value for units", "has never been called and thus has no defined
    output", "Argument(s) not recognized: {'lr': ...}"). After ``import reproduce``, importing
    ``keras`` or ``keras.<anything>`` imports ``tf_keras`` / ``tf_keras.<anything>`` (Keras 2).
    If Keras 3 was imported before ``reproduce``, a Keras 3 model, layer or optimizer given to
    a keras-rl agent raises :class:`KerasBackendError`, one line saying to import ``reproduce``
    first. Delete with keras-rl2 (a Keras-3 keras-rl would want the real ``keras``).
16. ``keras-callbacks-in-fit``: keras-rl hands Keras's own callbacks to its ``CallbackList``
    (``on_episode_end`` falls back to ``on_epoch_end``), but in graph mode tf-keras swaps in
    its v1 ``TensorBoard``, which lacks the ``_should_trace`` that the list reads on every
    callback (``AttributeError``; keras-rl2 issue #29); ``LambdaCallback(on_epoch_end=lambda
    epoch, l: ...)`` fails because keras-rl passes ``logs=`` by keyword; ``EarlyStopping`` sets
    ``stop_training``, which keras-rl never reads; and a step's logs hold arrays and lists
    that Keras callbacks cannot log. Now the v1 ``TensorBoard`` answers that question, Keras
    callbacks get their hooks called positionally with scalar logs (a step: ``reward`` and the
    agent's metrics by name; an episode: keras-rl's episode logs), and ``stop_training`` ends
    ``fit`` after the episode, as an interrupted ``fit`` ends (``on_train_end`` runs). Which hook
    each callback gets is worked out once per list of callbacks, not per step, and a Keras hook left
    at Keras's empty default (``History``'s and ``CSVLogger``'s ``on_batch_end``) is not called, so
    its scalar logs are never built. Callbacks that need a Keras model (``ModelCheckpoint``,
    ``BackupAndRestore``, ``ReduceLROnPlateau``) are refused in one line naming keras-rl's
    equivalent. Delete with keras-rl2.
17. ``info-accumulator``: ``fit`` and ``test`` sum each step's ``info`` values with
    ``np.isreal`` and ``+=`` (``rl/core.py``), so an array (Taxi's ``action_mask``), a list or a
    dict in ``info`` fails ("The truth value of an array with more than one element is
    ambiguous"). Numbers are still summed as keras-rl did; any other value is kept out of the
    sum and reaches callbacks unchanged (its last value in the step) in the step logs under
    ``"unsummed_info"``. Custom envs passed to keras-rl directly are covered too (the sum is
    keras-rl's own). Delete when keras-rl's loop checks ``np.isscalar``.
18. ``hdf5-agent-weights``: ``DDPGAgent.save_weights("ddpg_weights.h5f")`` (keras-rl's example
    name) and ``NAFAgent``'s fail: tf-keras writes TensorFlow's checkpoint format for any name
    not ending ``.h5``, and that format also saves the compiled critic's (combined model's)
    optimizer, whose soft-update wrapper cannot be saved ("substring not found" on TF 2.15;
    "Could not find variable iteration_1" here). keras-rl's Keras always wrote HDF5, weights
    only; these two agents now write HDF5 under the names keras-rl gives (``name_actor.h5f``,
    ...), whatever the extension; ``load_weights`` reads either format. Delete with keras-rl2.
19. ``atari-ids``: keras-rl's Atari example makes ``BreakoutDeterministic-v4``; gymnasium moved
    Atari to ale-py as ``ALE/Breakout-v5``, and says only "Environment `BreakoutDeterministic`
    doesn't exist". ``gymnasium.make`` now names the new id and the install for the Atari games
    of keras-rl's era (gymnasium itself names renamed versions: ``LunarLander-v2`` ->
    ``LunarLander-v3``, ``Taxi-v3`` -> ``Taxi-v4``). Delete when gymnasium's error does.
The fast path (keras-rl's agents calling Keras's session callables directly) is a speed
feature, not a fix: it lives in :mod:`reproduce.fast_session`, installed from here when
``rl.agents`` is imported (``fast-path`` in ``ACTIVE_FIXES``).
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
import warnings

import numpy as np

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
    _keras_is_tf_keras()
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
    return cls(**_hyperparameters(optimizer, cls))


def _hyperparameters(optimizer, cls) -> dict:
    """The constructor arguments of ``cls`` that ``optimizer`` has, read from its attributes.

    ``get_config()`` reads variables with ``.numpy()``, which graph mode forbids; a variable is
    read as its initial value (what the optimizer was constructed with). A learning-rate
    schedule is passed on as the schedule.
    """
    import inspect

    import tensorflow as tf

    names = set(inspect.signature(cls.__init__).parameters) | {"clipnorm", "clipvalue", "global_clipnorm"}
    if issubclass(cls, tf.keras.optimizers.legacy.Optimizer):
        names.add("decay")
    kwargs = {}
    for name in sorted(names - {"self", "name", "kwargs"}):
        value = getattr(optimizer, name, None)
        if name == "learning_rate":
            schedule = getattr(optimizer, "_learning_rate", None)  # current optimizers keep it here
            if isinstance(schedule, tf.keras.optimizers.schedules.LearningRateSchedule):
                value = schedule
        if isinstance(value, tf.Variable):  # not yet initialized in graph mode: its initial value
            value = tf.compat.v1.keras.backend.get_session().run(value.initial_value).item()
        if value is not None:
            kwargs[name] = value
    return kwargs


def _legacy_class(legacy, name):
    by_lower = {n.lower(): getattr(legacy, n) for n in dir(legacy) if not n.startswith("_")}
    cls = by_lower.get(name.lower())
    if cls is None or name.lower() == "optimizer":
        known = sorted(n for n in dir(legacy) if not n.startswith("_") and n != "Optimizer")
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(known)}")
    return cls


def _keras2_arguments(cls, init, args, kwargs) -> dict:
    """The arguments of ``cls(*args, **kwargs)`` as keywords, Keras 2's ``lr``, ``decay`` and
    ``epsilon=None`` translated (with one warning)."""
    import inspect

    import tensorflow as tf

    written = ", ".join(f"{k}={kwargs[k]!r}" for k in ("lr", "decay", "epsilon") if k in kwargs)
    keras2 = {k: kwargs.pop(k) for k in ("lr", "decay") if k in kwargs}
    signature = inspect.signature(init)
    call = signature.bind_partial(None, *args, **kwargs).arguments
    call.pop(next(iter(signature.parameters)))  # self
    call.update(call.pop("kwargs", {}))
    meant = []
    if "epsilon" in call and call["epsilon"] is None:
        del call["epsilon"]  # Keras 2: `epsilon or backend.epsilon()`, the classes' default
        meant.append(f"epsilon={signature.parameters['epsilon'].default!r}")
    if "lr" in keras2:
        if "learning_rate" in call:
            raise ValueError(f"{cls.__name__}(lr=..., learning_rate=...) sets the learning rate twice; "
                             f"pass only learning_rate={keras2['lr']!r}")
        call["learning_rate"] = keras2["lr"]
        meant.append(f"learning_rate={keras2['lr']!r}")
    decay = keras2.get("decay")
    if decay:
        rate = call.get("learning_rate", signature.parameters["learning_rate"].default)
        if isinstance(rate, tf.keras.optimizers.schedules.LearningRateSchedule) or not decay > 0:
            raise ValueError(f"{cls.__name__}(decay={decay!r}) needs decay >= 0 and a numeric learning "
                             f"rate, got learning_rate={rate!r}; fold the decay into your schedule")
        call["learning_rate"] = tf.keras.optimizers.schedules.InverseTimeDecay(
            rate, decay_steps=1, decay_rate=decay)
        meant = [m for m in meant if not m.startswith("learning_rate=")]
        meant.append(f"learning_rate=InverseTimeDecay({rate!r}, decay_steps=1, decay_rate={decay!r})")
    warnings.warn(f"{cls.__name__}({written}) is Keras 2 spelling, honoured as Keras 2.10 did: "
                  f"{cls.__name__}({', '.join(meant)})", UserWarning, stacklevel=3)
    return call


def _current_optimizer_classes():
    """tf-keras's current optimizer classes (``Adam``, ``SGD``, ...; not ``optimizers.legacy``)."""
    import inspect

    base = sys.modules["tf_keras.src.optimizers.optimizer"].Optimizer  # tf.keras is still loading
    found, todo = [], list(base.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("tf_keras.src.optimizers.") and "learning_rate" in inspect.signature(
                cls.__init__).parameters:
            found.append(cls)
    return found


def _keras2_optimizer_arguments():
    for cls in _current_optimizer_classes():
        original = cls.__init__

        @functools.wraps(original)
        def __init__(self, *args, _original=original, _cls=cls, **kwargs):
            if "lr" in kwargs or "decay" in kwargs or ("epsilon" in kwargs and kwargs["epsilon"] is None):
                args, kwargs = (), _keras2_arguments(_cls, _original, args, kwargs)
            _original(self, *args, **kwargs)
            if type(self) is _cls:
                _track_optimizer_variables(self)

        cls.__init__ = __init__
    ACTIVE_FIXES.append("keras2-optimizer-args: lr=, decay= and epsilon=None mean what they meant in Keras 2")


def _track_optimizer_variables(optimizer):
    """Register a current optimizer's own variables (learning rate, iterations) with Keras's
    graph-mode initializer, as legacy optimizers do, so ``K.get_value(opt.learning_rate)`` works."""
    import tensorflow as tf

    if not tf.executing_eagerly():
        schedule = getattr(optimizer, "_learning_rate", None)
        if isinstance(schedule, tf.keras.optimizers.schedules.LearningRateSchedule) and isinstance(
                getattr(optimizer, "_current_learning_rate", None), tf.Variable):
            # tf-keras starts this variable from schedule(iterations), a read of another variable
            # that Keras may initialize after it in the same run (FailedPreconditionError, about
            # 1 build in 8); iterations is 0 at construction, so start from schedule(0) instead
            with tf.init_scope():
                start = tf.convert_to_tensor(schedule(tf.constant(0, optimizer.iterations.dtype)))
                optimizer._current_learning_rate = tf.Variable(
                    start, name="current_learning_rate", dtype=start.dtype, trainable=False)
        backend = sys.modules["tf_keras.src.backend"]
        for value in list(vars(optimizer).values()):
            if isinstance(value, tf.Variable):
                backend.track_variable(value)


def _recovering_graph(method):
    """``method``, but a failure that left Keras's graph unusable clears Keras's session first."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except Exception:
            _drop_unusable_graph()
            raise

    return wrapper


def _drop_unusable_graph():
    import tensorflow as tf

    if getattr(tf.compat.v1.get_default_graph(), "_reproduce_unusable", False):
        try:
            tf.compat.v1.keras.backend.clear_session()
        except AssertionError:  # inside the caller's `with graph.as_default()`: the graph is theirs
            pass


def _mark_unusable_graphs():
    from tensorflow.python.client import session
    from tensorflow.python.framework import errors

    original = session.BaseSession._extend_graph

    @functools.wraps(original)
    def _extend_graph(self):
        try:
            original(self)
        except errors.InvalidArgumentError:
            self.graph._reproduce_unusable = True  # this graph holds a node no session can run
            raise

    session.BaseSession._extend_graph = _extend_graph


def _patch_graph_recovery():
    Agent = sys.modules["rl.core"].Agent
    Agent.fit = _recovering_graph(Agent.fit)
    Agent.test = _recovering_graph(Agent.test)
    ACTIVE_FIXES.append("graph-isolation: an agent that leaves the graph unusable does not break later ones")


def _patch_agent_compile():
    from rl.agents.dqn import DQNAgent, NAFAgent
    from rl.agents.sarsa import SARSAAgent

    for cls in (DQNAgent, NAFAgent, SARSAAgent):
        original = cls.compile

        @functools.wraps(original)
        def compile(self, optimizer, metrics=None, _original=original):
            return _original(self, to_legacy_optimizer(optimizer), metrics=list(metrics or []))

        cls.compile = _recovering_graph(compile)
    ACTIVE_FIXES.append("legacy-optimizer: agents' compile accepts current optimizers and names")
    ACTIVE_FIXES.append("compile-metrics: agents' compile gets a fresh metrics list per call")


def _patch_counters():

    class _Int64CounterNumpy(types.ModuleType):
        """numpy, except that ``int16`` is ``int64`` (keras-rl2's step counters)."""

        int16 = np.int64

        def __getattr__(self, name):
            return getattr(np, name)

    sys.modules["rl.core"].np = _Int64CounterNumpy("numpy")  # runs while rl.core is being bound
    ACTIVE_FIXES.append("int64-counters: rl.core counts steps and episodes in int64")


def _patch_save_weights():
    from rl.agents.cem import CEMAgent
    from rl.agents.ddpg import DDPGAgent
    from rl.agents.dqn import DQNAgent, NAFAgent
    from rl.agents.sarsa import SARSAAgent

    for cls in (DQNAgent, NAFAgent, SARSAAgent, DDPGAgent, CEMAgent):
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


def _after(dependencies, soft):
    """The deferred soft updates ``soft`` as assign ops that run after ``dependencies``."""
    import tensorflow as tf

    with tf.control_dependencies([d for d in dependencies if not isinstance(d, tuple)]):
        return [tf.compat.v1.assign(tw, tau * tf.identity(sw) + (1.0 - tau) * tw) for tw, sw, tau in soft]


def _ordered_get_updates(self, params, loss):
    updates = self.optimizer.get_updates(params=params, loss=loss)
    soft = [u for u in self.additional_updates if isinstance(u, _SoftUpdate)]
    others = [u for u in self.additional_updates if not isinstance(u, _SoftUpdate)]
    self.updates = updates + others + _after(updates, soft)
    return self.updates


class _OrderedBackend:
    """``rl.agents.ddpg``'s Keras backend, whose ``function`` builds deferred soft updates last.

    DDPG's actor step passes its soft target updates straight to ``K.function`` beside the
    optimizer's updates; here they become ops that depend on those updates.
    """

    def __init__(self, backend):
        self._backend = backend

    def function(self, inputs, outputs, updates=None, **kwargs):
        updates = list(updates or [])
        soft = [u for u in updates if isinstance(u, _SoftUpdate)]
        others = [u for u in updates if not isinstance(u, _SoftUpdate)]
        return self._backend.function(inputs, outputs, updates=others + _after(others, soft), **kwargs)

    def __getattr__(self, name):
        return getattr(self._backend, name)


def _patch_ddpg_soft_updates():
    ddpg = sys.modules["rl.agents.ddpg"]
    ddpg.get_soft_target_model_updates = _deferred_soft_updates  # the critic's: AdditionalUpdatesOptimizer
    ddpg.K = _OrderedBackend(ddpg.K)
    ACTIVE_FIXES.append("ordered-soft-updates-ddpg: DDPG's soft target updates run after its optimizer steps")


def _patch_soft_updates():
    import rl.util

    sys.modules["rl.agents.dqn"].get_soft_target_model_updates = _deferred_soft_updates
    rl.util.AdditionalUpdatesOptimizer.get_updates = _ordered_get_updates
    ACTIVE_FIXES.append("ordered-soft-updates: DQN soft target updates run after the optimizer step")


def _patch_clone_model():
    from tf_keras.src.saving.serialization_lib import SafeModeScope

    util = sys.modules["rl.util"]
    original = util.clone_model

    @functools.wraps(original)
    def clone_model(model, custom_objects={}):  # noqa: B006  (keras-rl's signature)
        # The user's own model, in memory, in this process: nothing is loaded from a file.
        with SafeModeScope(safe_mode=False):
            return original(model, custom_objects)

    util.clone_model = clone_model
    ACTIVE_FIXES.append("clone-safe-mode: rl.util.clone_model clones Lambda layers (dueling heads)")


def clone_optimizer(optimizer):
    """``rl.util.clone_optimizer`` for today's tf-keras: a new optimizer of the same class with the
    same hyperparameters; for a name, today's optimizer of that name (``'sgd'`` -> ``SGD()``)."""
    import tensorflow as tf

    if isinstance(optimizer, str):
        current = {n.lower(): getattr(tf.keras.optimizers, n) for n in dir(tf.keras.optimizers)
                   if isinstance(getattr(tf.keras.optimizers, n), type) and n != "Optimizer"}
        if optimizer.lower() not in current:
            raise ValueError(f"unknown optimizer {optimizer!r}; expected one of "
                             f"{', '.join(sorted(c.__name__ for c in current.values()))}")
        return current[optimizer.lower()]()
    return type(optimizer)(**_hyperparameters(optimizer, type(optimizer)))


def _patch_clone_optimizer():
    sys.modules["rl.util"].clone_optimizer = clone_optimizer
    ACTIVE_FIXES.append("clone-optimizer: rl.util.clone_optimizer works with today's optimizers (graph mode)")


@contextlib.contextmanager
def _output_all_intermediates():
    """TensorFlow's ``output_all_intermediates(True)`` for the block, then the previous setting."""
    import tensorflow as tf
    from tensorflow.python.ops import control_flow_util_v2

    previous = control_flow_util_v2._EXPERIMENTAL_OUTPUT_ALL_INTERMEDIATES_OVERRIDE
    tf.compat.v1.experimental.output_all_intermediates(True)
    try:
        yield
    finally:
        control_flow_util_v2._EXPERIMENTAL_OUTPUT_ALL_INTERMEDIATES_OVERRIDE = previous


def _has_loop(model) -> bool:
    """Whether ``model``'s graph holds a functional loop (an RNN layer, ``tf.scan``, ...)."""
    graph = model.outputs[0].graph
    return any(op.type in ("While", "StatelessWhile") for op in graph.get_operations())


def _patch_loop_gradients():
    from rl.agents import DDPGAgent, DQNAgent, NAFAgent, SARSAAgent

    trained = {DQNAgent: "trainable_model", SARSAAgent: "trainable_model", NAFAgent: "combined_model",
               DDPGAgent: "critic"}
    for cls, name in trained.items():
        original = cls.compile

        @functools.wraps(original)
        def compile(self, optimizer, metrics=None, _original=original, _name=name, _cls=cls):
            with _output_all_intermediates():
                result = _original(self, optimizer, [] if metrics is None else metrics)
                model = getattr(self, _name)
                if _cls is NAFAgent or _has_loop(model):
                    model._make_train_function()  # the loop's gradient, with the setting on
            return result

        cls.compile = compile
    ACTIVE_FIXES.append("loop-gradients: agents with RNN layers or NAF's scan build their training step")


def _patch_ddpg():
    DDPGAgent = sys.modules["rl.agents.ddpg"].DDPGAgent
    original = DDPGAgent.compile

    @functools.wraps(original)
    def compile(self, optimizer, metrics=None):
        if isinstance(optimizer, (list, tuple)) and len(optimizer) == 2:
            optimizer = [to_legacy_optimizer(o) for o in optimizer]
        elif not isinstance(optimizer, (list, tuple)):
            optimizer = to_legacy_optimizer(optimizer)  # keras-rl clones it for the critic
        return original(self, optimizer, metrics=list(metrics or []))

    DDPGAgent.compile = _recovering_graph(compile)
    ACTIVE_FIXES.append("ddpg-optimizers: DDPGAgent.compile accepts current optimizers, names and pairs")


class _AliasLoader(importlib.abc.Loader):
    """Loads module ``name`` as the already importable module ``real`` (the same object)."""

    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        importlib.import_module("tensorflow")  # first, as tf-keras expects (its fixes load tf-keras whole)
        module = importlib.import_module(self.real)
        self._spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self._spec  # the import system set the alias's spec on the real module


class _KerasIsTfKeras(importlib.abc.MetaPathFinder):
    """``import keras`` / ``keras.<name>`` imports ``tf_keras`` / ``tf_keras.<name>`` (fix 15)."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras" and not fullname.startswith("keras."):
            return None
        real = "tf_" + fullname
        try:
            spec = importlib.util.find_spec(real)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real),
                                               is_package=spec.submodule_search_locations is not None)


def _keras_is_tf_keras() -> None:
    """Run by :func:`prepare`: arm the alias, unless Keras 3 is already imported (then fix 15's
    agent check names the problem)."""
    if "keras" in sys.modules and not sys.modules["keras"].__name__.startswith("tf_keras"):
        warnings.warn("`keras` (Keras 3) was imported before `reproduce`, so it stays Keras 3, and keras-rl2 "
                      "needs Keras 2: import `reproduce` first", UserWarning, stacklevel=3)
        return
    if not any(isinstance(f, _KerasIsTfKeras) for f in sys.meta_path):
        sys.meta_path.insert(0, _KerasIsTfKeras())


def _keras3_objects(values):
    """The Keras 3 objects among ``values`` (and inside lists, tuples and dicts of them)."""
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _keras3_objects(value)
        elif isinstance(value, dict):
            yield from _keras3_objects(value.values())
        elif type(value).__module__.split(".")[0] == "keras":
            yield value


def _refuse_keras3(method, what):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        found = next(_keras3_objects([*args, *kwargs.values()]), None)
        if found is not None:
            raise KerasBackendError(
                f"{type(self).__name__}.{what} got a Keras 3 {type(found).__name__} "
                f"({type(found).__module__}), but keras-rl2 needs Keras 2 (tf-keras): `keras` was imported "
                f"before `reproduce`; put `import reproduce` first in your script (then `keras` is tf-keras)")
        return method(self, *args, **kwargs)

    return wrapper


def _patch_keras3_objects():
    from rl.agents import CEMAgent, DDPGAgent, DQNAgent, NAFAgent, SARSAAgent

    for cls in (DQNAgent, NAFAgent, SARSAAgent, DDPGAgent, CEMAgent):
        cls.__init__ = _refuse_keras3(cls.__init__, "__init__")
        cls.compile = _refuse_keras3(cls.compile, "compile")
    armed = any(isinstance(f, _KerasIsTfKeras) for f in sys.meta_path)
    ACTIVE_FIXES.append("keras-is-tf-keras: `import keras` imports tf-keras; Keras 3 objects given to agents "
                        "raise one line" + ("" if armed else " (Keras 3 was imported first: alias off)"))


# Keras callbacks that act on a Keras model: keras-rl's fit passes them the agent.
_MODEL_CALLBACKS = {
    "ModelCheckpoint": "rl.callbacks.ModelIntervalCheckpoint(filepath, interval) saves the agent's weights",
    "BackupAndRestore": "callbacks.training_callbacks(run_dir) checkpoints and resumes the whole agent",
    "ReduceLROnPlateau": "set the learning rate on the optimizer you give agent.compile",
}


def _keras_step_logs(agent, logs):
    """A keras-rl step's logs as a Keras callback reads them: scalars only (reward, metrics by name)."""
    out = {"reward": float(np.sum(logs.get("reward", 0.0)))}
    names = list(getattr(agent, "metrics_names", []) or [])
    out.update({name: float(value) for name, value in zip(names, logs.get("metrics") or [])})
    out.update({f"info_{k}": float(v) for k, v in (logs.get("info") or {}).items() if np.ndim(v) == 0})
    return out


def _hook_plan(callback_list, rl_hook, keras_hook):
    """What ``callback_list``'s ``rl_hook`` calls: ``(method, is_keras)`` per callback, its keras-rl
    hook or else its Keras hook, leaving out Keras hooks that are Keras's no-op default (``History``'s
    and ``CSVLogger``'s ``on_batch_end``). Worked out once per list of callbacks, not per step: the
    logs a Keras hook gets cost more than keras-rl's whole step on a small network."""
    plans = callback_list.__dict__.setdefault("_reproduce_hook_plans", {})
    key = tuple(map(id, callback_list.callbacks))
    known = plans.get(rl_hook)
    if known is not None and known[0] == key:
        return known[1]
    plan = []
    for callback in callback_list.callbacks:
        method = getattr(callback, rl_hook, None)
        if callable(method):
            plan.append((method, False))
        else:
            method = getattr(callback, keras_hook)
            if not getattr(method, "_is_default", False):  # tf-keras marks its empty defaults
                plan.append((method, True))
    plans[rl_hook] = (key, plan)
    return plan


def _patch_keras_callbacks():
    rl_callbacks = sys.modules["rl.callbacks"]
    CallbackList = rl_callbacks.CallbackList
    original_init = CallbackList.__init__

    @functools.wraps(original_init)
    def __init__(self, callbacks=None, *args, **kwargs):
        for callback in callbacks or []:
            fix = _MODEL_CALLBACKS.get(type(callback).__name__)
            if fix and type(callback).__module__.startswith(("tf_keras", "keras", "tensorflow")):
                raise TypeError(f"Keras's {type(callback).__name__} acts on a Keras model, but keras-rl's "
                                f"fit passes it the agent; instead, {fix}")
        original_init(self, callbacks, *args, **kwargs)

    def dispatch(rl_hook, keras_hook, episode):
        def hook(self, index, logs={}):  # noqa: B006  (keras-rl's signature)
            keras_logs = None
            for method, keras in _hook_plan(self, rl_hook, keras_hook):
                if not keras:
                    method(index, logs=logs)
                else:  # a Keras callback: positional, scalar logs, as Keras calls it
                    if keras_logs is None:
                        keras_logs = dict(logs) if episode else _keras_step_logs(self.model, logs)
                    method(index, keras_logs)
            if rl_hook == "on_episode_end" and getattr(self.model, "stop_training", False) and \
                    "nb_steps" in (getattr(self, "params", None) or {}):
                self.model.stop_training = False
                raise KeyboardInterrupt  # fit's own way out: on_train_end runs, the history is returned

        hook.__name__ = rl_hook
        return hook

    CallbackList.__init__ = __init__
    CallbackList.on_episode_begin = dispatch("on_episode_begin", "on_epoch_begin", episode=True)
    CallbackList.on_episode_end = dispatch("on_episode_end", "on_epoch_end", episode=True)
    CallbackList.on_step_begin = dispatch("on_step_begin", "on_batch_begin", episode=False)
    CallbackList.on_step_end = dispatch("on_step_end", "on_batch_end", episode=False)
    ACTIVE_FIXES.append("keras-callbacks-in-fit: Keras's TensorBoard, CSVLogger, EarlyStopping, "
                        "LambdaCallback work in agent.fit")


def _patch_tensorboard_v1():
    TensorBoard = sys.modules["tf_keras.src.callbacks_v1"].TensorBoard

    def _implements_train_batch_hooks(self):  # v2 reads _should_trace, which v1 never sets
        return self.update_freq != "epoch"

    TensorBoard._implements_train_batch_hooks = _implements_train_batch_hooks


class _LastValue:
    """An ``info`` value keras-rl cannot sum: kept as the last one seen (``+=`` replaces it)."""

    __slots__ = ("value",)

    def __init__(self, value=None):
        self.value = value

    def __iadd__(self, value):
        return _LastValue(value)


# The common ``info`` values (gymnasium's flags, counters), answered by one type lookup per step.
_SCALARS = frozenset({bool, int, float, np.bool_, np.float64, np.float32, np.int64, np.int32})


def _summable(value) -> bool:
    """What keras-rl's ``info`` sum can take: real numbers (and size-1 real arrays, as it did)."""
    if type(value) in _SCALARS or isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf"


class _InfoSumNumpy(types.ModuleType):
    """``rl.core``'s numpy, whose ``isreal``/``zeros_like`` (used only by the ``info`` sum) keep
    unsummable values out of the sum (fix 17); every other name is ``rl.core``'s numpy's."""

    def __init__(self, numpy):
        super().__init__("numpy")
        self._numpy = numpy
        self._zeros_like = numpy.zeros_like  # once: ``numpy`` may look names up on every access

    @staticmethod
    def isreal(value):
        return True  # every value goes on to zeros_like, which decides

    def zeros_like(self, value):
        return self._zeros_like(value) if _summable(value) else _LastValue()

    def __getattr__(self, name):
        value = getattr(self._numpy, name)
        setattr(self, name, value)  # looked up once
        return value


def _split_info(logs):
    info = logs.get("info")
    if isinstance(info, dict) and _LastValue in map(type, info.values()):
        logs["unsummed_info"] = {k: v.value for k, v in info.items() if isinstance(v, _LastValue)}
        logs["info"] = {k: v for k, v in info.items() if not isinstance(v, _LastValue)}
    return logs


def _patch_info_sum():
    core = sys.modules["rl.core"]
    core.np = _InfoSumNumpy(core.np)
    CallbackList = sys.modules["rl.callbacks"].CallbackList
    original = CallbackList.on_step_end

    @functools.wraps(original)
    def on_step_end(self, step, logs={}):  # noqa: B006  (keras-rl's signature)
        return original(self, step, _split_info(logs))

    CallbackList.on_step_end = on_step_end
    ACTIVE_FIXES.append("info-accumulator: info values keras-rl cannot sum reach callbacks as "
                        "'unsummed_info'")


@contextlib.contextmanager
def _hdf5_weights(models):
    """Within the block, ``model.save_weights`` writes HDF5 whatever the file name (keras-rl's Keras did)."""
    for model in models:
        object.__setattr__(model, "save_weights", functools.partial(type(model).save_weights.__get__(model),
                                                                    save_format="h5"))
    try:
        yield
    finally:
        for model in models:
            vars(model).pop("save_weights", None)


def _patch_hdf5_weights():
    from rl.agents import DDPGAgent, NAFAgent

    for cls, names in ((DDPGAgent, ("actor", "critic")), (NAFAgent, ("combined_model",))):
        original = cls.save_weights

        @functools.wraps(original)
        def save_weights(self, filepath, *args, _original=original, _names=names, **kwargs):
            with _hdf5_weights([getattr(self, name) for name in _names]):
                return _original(self, filepath, *args, **kwargs)

        cls.save_weights = save_weights
    ACTIVE_FIXES.append("hdf5-agent-weights: DDPG and NAF save_weights write HDF5 under any name (.h5f)")


_ATARI = re.compile(r"^(Breakout|Pong|SpaceInvaders|MsPacman|Seaquest|Enduro|Qbert|BeamRider|Boxing|Freeway|"
                    r"Asteroids|Atlantis|Assault|Alien|Amidar|Bowling|Centipede|DemonAttack|Gopher|Riverraid|"
                    r"Tennis|VideoPinball)(Deterministic|NoFrameskip)?(-ram)?-v[0-4]$")


def _atari_hint(env_id) -> str | None:
    match = _ATARI.match(str(env_id))
    if match is None:
        return None
    game, ram = match.group(1), "-ram" if match.group(3) else ""
    install = "" if importlib.util.find_spec("ale_py") else "pip install ale-py, then "
    return (f"Atari envs moved to ale-py: {install}`import ale_py; gym.register_envs(ale_py)` and "
            f"gym.make('ALE/{game}{ram}-v5') (frameskip=1 for NoFrameskip)")


def _patch_env_id_hints():
    gym = sys.modules["gymnasium"]
    original = gym.make

    @functools.wraps(original)
    def make(id, *args, **kwargs):  # noqa: A002  (gymnasium's signature)
        try:
            return original(id, *args, **kwargs)
        except gym.error.NameNotFound as exc:
            hint = _atari_hint(id)
            if hint is None:
                raise
            raise type(exc)(f"{exc} {hint}") from None

    gym.make = make
    ACTIVE_FIXES.append("atari-ids: gymnasium.make names ale-py's id for keras-rl-era Atari ids")


def _install_fast_session():
    from reproduce import fast_session

    ACTIVE_FIXES.append(fast_session.install())


# module -> fixes to run right after it is imported (in this order)
_HOOKS: dict[str, list] = {
    "tensorflow": [_require_legacy_keras, _add_keras_version, _graph_mode, _mark_unusable_graphs],
    "gymnasium": [_patch_env_id_hints],
    "tf_keras.src.optimizers": [_keras2_optimizer_arguments],
    "rl.util": [_patch_clone_model, _patch_clone_optimizer],
    "rl.callbacks": [_patch_keras_callbacks],
    "rl.core": [_patch_counters, _patch_graph_recovery, _patch_info_sum],
    "tf_keras.src.callbacks_v1": [_patch_tensorboard_v1],
    "rl.agents.dqn": [_patch_agent_compile, _patch_save_weights, _patch_soft_updates],
    "rl.agents.ddpg": [_patch_ddpg, _patch_ddpg_soft_updates],
    "rl.agents": [_patch_loop_gradients, _patch_keras3_objects, _patch_hdf5_weights, _install_fast_session],
}


def apply() -> list[str]:
    """Import TensorFlow and keras-rl now, so every fix is in place; return the list of active fixes."""
    global _APPLIED
    if not _APPLIED:
        prepare()
        import rl.agents  # noqa: F401  (imports tensorflow, rl.core and the agents: runs every hook)

        _APPLIED = True
    return ACTIVE_FIXES
