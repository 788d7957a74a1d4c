"""A speed feature, not a fix: keras-rl's agents call Keras's own session callables directly.

keras-rl's agents call ``predict_on_batch`` and ``train_on_batch`` for every step; in graph mode
each call re-standardizes its inputs, goes through ``Session.run``'s Python bookkeeping and then
resets each metric with a ``Session.run`` of its own, which costs several times the tiny network
(keras-rl's CartPole DQN example: 3.8 ms per step). After ``compile``, ``DQNAgent``,
``SARSAAgent``, ``DDPGAgent``, ``NAFAgent`` and ``CEMAgent`` reach the session callables Keras
itself builds: the first call of each input signature goes through Keras, later ones convert
their arrays exactly as Keras does and call a twin of Keras's callable (same feeds, fetches and
update op) that TensorFlow runs in the calling thread instead of handing it to its inter-op
thread pool and waiting (on these tiny graphs the hand-over cost more than the run), with
denormals flushed as that pool flushes them; the metric reset is one call running the same assign
ops with the same zeros; weight reads and writes (CEM) are one call each; a hard target update is
one call assigning variable to variable; the model's metric names are read once. Same graph,
same ops, same values fed: results are bit-identical (``tests/test_fast_session.py``).

:mod:`reproduce.compat` installs it when ``rl.agents`` is imported (``fast-path`` in
``compat.ACTIVE_FIXES``); ``REPRODUCE_KERAS_RL_FAST=0`` (read at ``compile``) turns it off.
Delete with graph mode.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import platform
import sys

import numpy as np

FAST_PATH_ENV = "REPRODUCE_KERAS_RL_FAST"


def fast_path_enabled() -> bool:
    """Whether agents compiled from now on use the fast path (``REPRODUCE_KERAS_RL_FAST=0`` turns it off)."""
    return os.environ.get(FAST_PATH_ENV, "1").strip() != "0"


class _FenvT(ctypes.Structure):
    """glibc's ``fenv_t`` on x86-64: the x87 environment, then the SSE control register (MXCSR)."""

    _fields_ = [("x87", ctypes.c_uint16 * 14), ("mxcsr", ctypes.c_uint32)]


_FLUSH_DENORMALS = 0x8040  # MXCSR's flush-to-zero and denormals-are-zero bits


@functools.lru_cache(maxsize=1)
def _fenv():
    """libm's ``fegetenv``/``fesetenv`` where ``fenv_t`` is :class:`_FenvT` (Linux x86-64); else None."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return None
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        get, set_ = libm.fegetenv, libm.fesetenv
    except (OSError, AttributeError):
        return None
    get.argtypes = set_.argtypes = [ctypes.POINTER(_FenvT)]
    return get, set_


def _inline_callable(session, feeds=(), fetches=(), targets=(), run_options=None):
    """``session``'s callable feeding, fetching and running these tensors and ops (by name), run
    in the calling thread (``RunOptions.inter_op_thread_pool = -1``): for graphs this small,
    handing each run to TensorFlow's inter-op thread pool and waiting for it costs more than the
    run. Same graph, same ops, same kernels; TensorFlow's pool threads flush denormal floats to
    zero, so the calling thread does too for the call (else Adam's tiny second moments differ).
    Where that cannot be arranged (not Linux x86-64), the pool runs it, as Keras's callable does."""
    from tensorflow.core.protobuf import config_pb2

    options = config_pb2.CallableOptions()
    options.feed.extend(feeds)
    options.fetch.extend(fetches)
    options.target.extend(targets)
    if run_options is not None:
        options.run_options.CopyFrom(run_options)
    fenv = _fenv()
    if fenv is None:
        return session._make_callable_from_options(options)
    options.run_options.inter_op_thread_pool = -1
    fn = session._make_callable_from_options(options)
    get, set_ = fenv

    def call(*args):
        saved, flushing = _FenvT(), _FenvT()  # per call: each thread keeps its own environment
        get(saved)
        get(flushing)
        flushing.mxcsr |= _FLUSH_DENORMALS
        set_(flushing)
        try:
            return fn(*args)
        finally:
            set_(saved)

    return call


def _adopt_callable(function, n_inputs):
    """A twin of the session callable Keras built for ``function`` (a ``GraphExecutionFunction``)
    on its last call, if that call fed exactly its first ``n_inputs`` inputs, all as arrays (else
    None): the same feeds, fetches and update op, Keras's run options, run in the calling thread."""
    if getattr(function, "_callable_fn", None) is None or function.feed_dict or function.fetches:
        return None
    if function._feed_symbols or list(function._feed_arrays) != list(function.inputs[:n_inputs]):
        return None
    if not isinstance(function._outputs_structure, list):
        return None
    dtypes = [t.dtype.as_numpy_dtype for t in function._feed_arrays]
    fn = _inline_callable(function._session, [x.name for x in function._feed_arrays],
                          [x.name for x in function.outputs], [function.updates_op.name],
                          function.run_options)
    return fn, dtypes, len(function.outputs)


class _DirectFunction:
    """A Keras backend function (``K.function``) minus its per-call bookkeeping.

    The first call goes through Keras, which builds a session callable; later calls convert
    their arrays exactly as Keras does (``np.asarray(value, dtype)``) and run that callable.
    """

    def __init__(self, function):
        self.function = function
        self._direct = None

    def __call__(self, inputs):
        if self._direct is None or len(inputs) != len(self._direct[1]) or any(v is None for v in inputs):
            outputs = self.function(inputs)
            if self._direct is None and not any(v is None for v in inputs):
                self._direct = _adopt_callable(self.function, len(inputs))
            return outputs
        fn, dtypes, n_out = self._direct
        fetched = fn(*[np.asarray(v, dtype=d) for v, d in zip(inputs, dtypes)])
        return list(fetched[:n_out])


def _as_arrays(values, shapes):
    """``values`` (an array or a list of arrays) as Keras's ``standardize_single_array`` shapes
    them for the expected ``shapes``: a 1-D array becomes a column unless a 1-D shape is expected."""
    values = values if isinstance(values, list) else [values]
    out = []
    for value, shape in zip(values, shapes):
        if not isinstance(value, np.ndarray):
            return None
        if value.ndim == 1 and (shape is None or len(shape) != 1):
            value = value[:, None]
        out.append(value)
    return out if len(out) == len(shapes) == len(values) else None


def _columns(values, arrays):
    """Which of ``values`` :func:`_as_arrays` turned into columns (fixed for a given :func:`_key`)."""
    return tuple(a is not v for v, a in zip(values if type(values) is list else [values], arrays))


def _same_arrays(mine, keras_arrays, dtypes):
    if len(mine) != len(keras_arrays):
        return False
    for a, b, dtype in zip(mine, keras_arrays, dtypes):
        a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            return False
    return True


def _key(value):
    """The input signature a call is checked for: each array's shape and dtype, for an array or a
    plain list of arrays (None for anything else: such calls always go through Keras). Cheap,
    since it is computed on every call."""
    if type(value) is np.ndarray:
        return value.shape, value.dtype.str
    if type(value) is not list:
        return None
    key = []
    for v in value:
        if type(v) is not np.ndarray:
            return None
        key.append((v.shape, v.dtype.str))
    return tuple(key)


def _feed(values, columns, dtypes):
    """The arrays to feed, converted exactly as Keras converts them (``np.asarray(value, dtype)``)."""
    if type(values) is not list:
        values = (values,)
    return [np.asarray(v[:, None] if column else v, dtype=d) for v, column, d in zip(values, columns, dtypes)]


class _DirectPredict:
    """``model.predict_on_batch`` straight to the session callable Keras built for it.

    A new input signature (:func:`_key`: shapes, dtypes) goes through Keras once; the fast path is
    used for it only if our arrays equal what Keras's input standardization produced.
    """

    def __init__(self, model):
        self.model, self.original = model, type(model).predict_on_batch.__get__(model)
        self._checked = {}  # signature -> (session callable, dtypes, outputs), columns
        self._shapes = model._feed_input_shapes

    def __call__(self, x):
        key = _key(x)
        checked = self._checked.get(key) if key is not None else None
        if checked is None:
            outputs = self.original(x)
            if key is not None:
                self._check(x, key)
            return outputs
        (fn, dtypes, n_out), columns = checked
        fetched = fn(*_feed(x, columns, dtypes))
        return fetched[0] if n_out == 1 else list(fetched[:n_out])

    def _check(self, x, key):
        arrays = _as_arrays(x, self._shapes)
        direct = _adopt_callable(self.model.predict_function, len(arrays)) if arrays is not None else None
        if direct is None:
            return
        keras_x, _, _ = self.model._standardize_user_data(x, extract_tensors_from_dataset=True)
        if _same_arrays(arrays, training_inputs(keras_x), direct[1]):
            self._checked[key] = direct, _columns(x, arrays)


def training_inputs(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class _DirectTrain:
    """``model.train_on_batch(x, y)`` straight to Keras's session callables: the training step,
    then the reset of the metrics (one call assigning the zeros Keras's ``reset_metrics`` assigns)."""

    def __init__(self, model):
        self.model, self.original = model, type(model).train_on_batch.__get__(model)
        self._reset, self._checked = None, {}  # signature -> callable, x and y columns, learning phase
        self._x_shapes, self._y_shapes = model._feed_input_shapes, model._feed_output_shapes

    def __call__(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True):
        if sample_weight is not None or class_weight is not None or not reset_metrics or y is None:
            return self.original(x, y, sample_weight, class_weight, reset_metrics)
        key = _key(x), _key(y)
        checked = self._checked.get(key) if None not in key else None
        if checked is None:
            outputs = self.original(x, y)
            if None not in key:
                self._check(x, y, key)
            return outputs
        (fn, dtypes, n_out), x_columns, y_columns, phase = checked
        n_x = len(x_columns)
        fed = _feed(x, x_columns, dtypes[:n_x]) + _feed(y, y_columns, dtypes[n_x:])
        if phase:  # Keras's learning-phase value
            fed.append(np.asarray(True, dtype=dtypes[-1]))
        fetched = fn(*fed)
        self._reset()
        return fetched[0] if n_out == 1 else list(fetched[:n_out])

    def _check(self, x, y, key):
        xs = _as_arrays(x, self._x_shapes)
        ys = _as_arrays(y, self._y_shapes) if xs is not None else None
        if ys is None:
            return
        arrays = xs + ys
        function = self.model.train_function
        n_fed = len(function._feed_arrays) if getattr(function, "_feed_arrays", None) is not None else -1
        if n_fed not in (len(arrays), len(arrays) + 1):
            return
        direct = _adopt_callable(function, n_fed)
        reset = self._reset or _direct_metric_reset(self.model)
        if direct is None or reset is None:
            return
        keras_x, keras_y, weights = self.model._standardize_user_data(x, y, extract_tensors_from_dataset=True)
        if weights is not None and any(w is not None for w in weights):
            return
        if _same_arrays(arrays, training_inputs(keras_x) + training_inputs(keras_y), direct[1]):
            self._reset = reset
            self._checked[key] = direct, _columns(x, xs), _columns(y, ys), n_fed == len(arrays) + 1


def _direct_metric_reset(model):
    """One session call doing what ``model.reset_metrics()`` did (zeros into each metric variable
    through the assign ops Keras created for it), or None if a metric resets differently."""
    import tensorflow as tf
    from tf_keras.src.metrics.base_metric import Metric

    variables = []
    for metric in model._get_training_eval_metrics():
        if type(metric).reset_state is not Metric.reset_state:
            return None
        variables.extend(metric.variables)
    if not all(hasattr(v, "_assign_placeholder") for v in variables):
        return None
    fn = _inline_callable(tf.compat.v1.keras.backend.get_session(),
                          [v._assign_placeholder.name for v in variables],
                          targets=[v._assign_op.name for v in variables])
    zeros = [np.asarray(0, dtype=v.dtype.as_numpy_dtype) for v in variables]
    return lambda: fn(*zeros)


class _DirectWeights:
    """``model.get_weights()`` / ``set_weights()`` as single session calls on the same ops (the
    variables' reads; the assign ops Keras's ``batch_set_value`` creates on its first call).
    The first call of each goes through Keras."""

    def __init__(self, model):
        from tf_keras.src.engine.base_layer import Layer

        self.weights = list(model.weights)
        self.shapes = [tuple(w.shape) for w in self.weights]
        self.dtypes = [w.dtype.as_numpy_dtype for w in self.weights]
        self._plain = all(type(layer).finalize_state is Layer.finalize_state
                          for layer in model._flatten_layers())
        self._original_get = type(model).get_weights.__get__(model)
        self._original_set = type(model).set_weights.__get__(model)
        self._get = self._set = None

    def get_weights(self):
        if self._get is None:
            import tensorflow as tf

            values = self._original_get()
            self._get = tf.compat.v1.keras.backend.get_session().make_callable(self.weights)
            return values
        return self._get()

    def set_weights(self, weights):
        if (not self._plain or len(weights) != len(self.weights)
                or any(np.shape(w) != s for w, s in zip(weights, self.shapes))):
            return self._original_set(weights)
        if self._set is None:
            self._original_set(weights)
            self._set = self._direct_set()
            return None
        self._set(*[np.asarray(w, dtype=d) for w, d in zip(weights, self.dtypes)])
        return None

    def _direct_set(self):
        import tensorflow as tf

        if not all(hasattr(w, "_assign_placeholder") for w in self.weights):
            return lambda *arrays: self._original_set(list(arrays))
        return _inline_callable(tf.compat.v1.keras.backend.get_session(),
                                [w._assign_placeholder.name for w in self.weights],
                                targets=[w._assign_op.name for w in self.weights])


class _DirectReset:
    """``model.reset_metrics()`` as one session call (:func:`_direct_metric_reset`); the first
    call goes through Keras, which creates the assign ops it reuses."""

    def __init__(self, model):
        self.model, self.original = model, type(model).reset_metrics.__get__(model)
        self._direct = None

    def __call__(self):
        if self._direct is None:
            self.original()
            self._direct = _direct_metric_reset(self.model) or self.original
            return
        self._direct()


class _DirectCopy:
    """``target.set_weights(source.get_weights())`` for each (source, target) pair as one
    session call that assigns variable to variable: the same values, with no trip through
    numpy. The assign ops are built on the first call; models whose layers restore state
    their own way (``finalize_state``) or whose weights differ in shape keep Keras's path."""

    def __init__(self, pairs):
        self.pairs = pairs
        self._fn = None

    def __call__(self):
        if self._fn is None:
            self._fn = self._build()
        self._fn()

    def _build(self):
        import tensorflow as tf
        from tf_keras.src.engine.base_layer import Layer

        sources = [w for source, _ in self.pairs for w in source.weights]
        targets = [w for _, target in self.pairs for w in target.weights]
        plain = all(type(layer).finalize_state is Layer.finalize_state
                    for _, target in self.pairs for layer in target._flatten_layers())
        if not plain or len(sources) != len(targets) or any(
                tuple(s.shape) != tuple(t.shape) or s.dtype != t.dtype for s, t in zip(sources, targets)):
            return lambda: [target.set_weights(source.get_weights()) for source, target in self.pairs]
        copy = tf.group(*[t.assign(s) for s, t in zip(sources, targets)])
        return _inline_callable(tf.compat.v1.keras.backend.get_session(), targets=[copy.name])


def _go_direct(model, train=False):
    """Give ``model`` (a compiled tf-keras graph-mode model) direct per-call paths."""
    set_attr = object.__setattr__  # past Keras's attribute tracking
    set_attr(model, "predict_on_batch", _DirectPredict(model))
    if train:
        set_attr(model, "train_on_batch", _DirectTrain(model))
        set_attr(model, "reset_metrics", _DirectReset(model))
    weights = _DirectWeights(model)
    set_attr(model, "get_weights", weights.get_weights)
    set_attr(model, "set_weights", weights.set_weights)


class _CachedNames:
    """An agent's ``metrics_names``, with its model's part computed once instead of per step."""

    def __init__(self, original):
        self.original = original

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        cached = agent.__dict__.get("_fast_metric_names")
        if cached is None:
            return self.original.__get__(agent, owner)
        names = list(cached)
        if hasattr(agent, "policy"):  # DQN and SARSA; DDPG has none
            names += agent.policy.metrics_names[:]
        if agent.processor is not None:
            names += agent.processor.metrics_names[:]
        return names


def install() -> str:
    """Wrap the stock agents' ``compile`` and hard target updates; the line ``ACTIVE_FIXES`` shows."""
    from rl.agents.cem import CEMAgent
    from rl.agents.ddpg import DDPGAgent
    from rl.agents.dqn import DQNAgent, NAFAgent
    from rl.agents.sarsa import SARSAAgent

    def dqn_like(agent):
        for model in (agent.model, getattr(agent, "target_model", None)):
            if model is not None:
                _go_direct(model)
        if getattr(agent, "target_model", None) is not None:
            agent._fast_copy = _DirectCopy([(agent.model, agent.target_model)])
        _go_direct(agent.trainable_model, train=True)
        hidden = agent.trainable_model.output_names[1] + "_"
        agent._fast_metric_names = [name.replace(hidden, "") for i, name in
                                    enumerate(agent.trainable_model.metrics_names) if i not in (1, 2)]

    def ddpg(agent):
        for model in (agent.actor, agent.target_actor, agent.target_critic):
            _go_direct(model)
        _go_direct(agent.critic, train=True)
        agent.actor_train_fn = _DirectFunction(agent.actor_train_fn)
        agent._fast_copy = _DirectCopy([(agent.critic, agent.target_critic),
                                        (agent.actor, agent.target_actor)])
        agent._fast_metric_names = list(agent.critic.metrics_names)

    def naf(agent):
        for model in (agent.V_model, agent.mu_model, agent.target_V_model):
            _go_direct(model)
        _go_direct(agent.combined_model, train=True)
        agent._fast_copy = _DirectCopy([(agent.V_model, agent.target_V_model)])
        agent._fast_metric_names = list(agent.combined_model.metrics_names)

    def cem(agent):
        _go_direct(agent.model)

    for cls, go in ((DQNAgent, dqn_like), (SARSAAgent, dqn_like), (DDPGAgent, ddpg), (NAFAgent, naf),
                    (CEMAgent, cem)):
        original = cls.compile

        @functools.wraps(original)
        def compile(self, *args, _original=original, _go=go, **kwargs):
            self.__dict__.pop("_fast_metric_names", None)
            self.__dict__.pop("_fast_copy", None)
            result = _original(self, *args, **kwargs)
            if fast_path_enabled():
                _go(self)
            return result

        cls.compile = compile
        if cls is not CEMAgent:
            cls.metrics_names = _CachedNames(cls.metrics_names)
    for cls, name in ((DQNAgent, "update_target_model_hard"), (NAFAgent, "update_target_model_hard"),
                      (DDPGAgent, "update_target_models_hard")):
        original = cls.__dict__[name]

        @functools.wraps(original)
        def hard_update(self, _original=original):
            copy = self.__dict__.get("_fast_copy")
            return _original(self) if copy is None else copy()

        setattr(cls, name, hard_update)
    from reproduce import fast_replay

    replay = fast_replay.install()
    return (f"fast-path: stock agents call the session directly, {replay} ({FAST_PATH_ENV}=0 turns it off)"
            if fast_path_enabled() else f"fast-path: off ({FAST_PATH_ENV}=0)")
