"""A speed feature, not a fix: keras-rl's agents call Keras's own session callables directly.

keras-rl's agents call ``predict_on_batch`` and ``train_on_batch`` for every step; in graph mode
each call re-standardizes its inputs, goes through ``Session.run``'s Python bookkeeping and then
resets each metric with a ``Session.run`` of its own, which costs several times the tiny network
(keras-rl's CartPole DQN example: 3.8 ms per step). After ``compile``, ``DQNAgent``,
``SARSAAgent``, ``DDPGAgent``, ``NAFAgent`` and ``CEMAgent`` reach the session callables Keras
itself builds: the first call of each input signature goes through Keras, later ones convert
their arrays exactly as Keras does and call the callable; the metric reset is one call running
the same assign ops with the same zeros; weight reads and writes (CEM) are one call each; a hard
target update is one call assigning variable to variable; the model's metric names are read once.
Same graph, same ops, same values fed: results are bit-identical (``tests/test_fast_session.py``).

:mod:`reproduce.compat` installs it when ``rl.agents`` is imported (``fast-path`` in
``compat.ACTIVE_FIXES``); ``REPRODUCE_KERAS_RL_FAST=0`` (read at ``compile``) turns it off.
Delete with graph mode.
"""

from __future__ import annotations

import functools
import os

import numpy as np

FAST_PATH_ENV = "REPRODUCE_KERAS_RL_FAST"


def fast_path_enabled() -> bool:
    """Whether agents compiled from now on use the fast path (``REPRODUCE_KERAS_RL_FAST=0`` turns it off)."""
    return os.environ.get(FAST_PATH_ENV, "1").strip() != "0"


def _adopt_callable(function, n_inputs):
    """The session callable Keras built for ``function`` (a ``GraphExecutionFunction``) on its
    last call, if that call fed exactly its first ``n_inputs`` inputs, all as arrays; else None."""
    if getattr(function, "_callable_fn", None) is None or function.feed_dict or function.fetches:
        return None
    if function._feed_symbols or list(function._feed_arrays) != list(function.inputs[:n_inputs]):
        return None
    if not isinstance(function._outputs_structure, list):
        return None
    dtypes = [t.dtype.as_numpy_dtype for t in function._feed_arrays]
    return function._callable_fn, dtypes, len(function.outputs)


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


def _same_arrays(mine, keras_arrays, dtypes):
    if len(mine) != len(keras_arrays):
        return False
    for a, b, dtype in zip(mine, keras_arrays, dtypes):
        a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            return False
    return True


def _signature(*groups):
    return tuple((type(g).__name__, tuple((v.shape, v.dtype.str) if isinstance(v, np.ndarray) else type(v)
                                          for v in (g if isinstance(g, list) else [g]))) for g in groups)


class _DirectPredict:
    """``model.predict_on_batch`` straight to the session callable Keras built for it.

    A new input signature (shapes, dtypes) goes through Keras once; the fast path is used for it
    only if our arrays equal what Keras's input standardization produced.
    """

    def __init__(self, model):
        self.model, self.original = model, type(model).predict_on_batch.__get__(model)
        self._direct, self._checked = None, set()
        self._shapes = model._feed_input_shapes

    def __call__(self, x):
        arrays = _as_arrays(x, self._shapes)
        signature = _signature(x) if arrays is not None else None
        if signature is None or signature not in self._checked:
            outputs = self.original(x)
            if arrays is not None:
                self._check(x, arrays, signature)
            return outputs
        fn, dtypes, n_out = self._direct
        fetched = fn(*[np.asarray(a, dtype=d) for a, d in zip(arrays, dtypes)])
        return fetched[0] if n_out == 1 else list(fetched[:n_out])

    def _check(self, x, arrays, signature):
        direct = _adopt_callable(self.model.predict_function, len(arrays))
        if direct is None:
            return
        keras_x, _, _ = self.model._standardize_user_data(x, extract_tensors_from_dataset=True)
        if _same_arrays(arrays, training_inputs(keras_x), direct[1]):
            self._direct = direct
            self._checked.add(signature)


def training_inputs(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class _DirectTrain:
    """``model.train_on_batch(x, y)`` straight to Keras's session callables: the training step,
    then the reset of the metrics (one call assigning the zeros Keras's ``reset_metrics`` assigns)."""

    def __init__(self, model):
        self.model, self.original = model, type(model).train_on_batch.__get__(model)
        self._direct, self._reset, self._checked = None, None, set()
        self._x_shapes, self._y_shapes = model._feed_input_shapes, model._feed_output_shapes

    def __call__(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True):
        if sample_weight is not None or class_weight is not None or not reset_metrics or y is None:
            return self.original(x, y, sample_weight, class_weight, reset_metrics)
        xs = _as_arrays(x, self._x_shapes)
        ys = _as_arrays(y, self._y_shapes) if xs is not None else None
        signature = _signature(x, y) if ys is not None else None
        if signature is None or signature not in self._checked:
            outputs = self.original(x, y)
            if signature is not None:
                self._check(x, y, xs + ys, signature)
            return outputs
        fn, dtypes, n_out = self._direct
        arrays = xs + ys + [True] * (len(dtypes) - len(xs) - len(ys))  # Keras's learning-phase value
        fetched = fn(*[np.asarray(a, dtype=d) for a, d in zip(arrays, dtypes)])
        self._reset()
        return fetched[0] if n_out == 1 else list(fetched[:n_out])

    def _check(self, x, y, arrays, signature):
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
            self._direct, self._reset = direct, reset
            self._checked.add(signature)


def _direct_metric_reset(model):
    """One session call doing what ``model.reset_metrics()`` did (zeros into each metric variable
    through the assign ops Keras created for it), or None if a metric resets differently."""
    import tensorflow as tf
    from tensorflow.core.protobuf import config_pb2
    from tf_keras.src.metrics.base_metric import Metric

    variables = []
    for metric in model._get_training_eval_metrics():
        if type(metric).reset_state is not Metric.reset_state:
            return None
        variables.extend(metric.variables)
    if not all(hasattr(v, "_assign_placeholder") for v in variables):
        return None
    options = config_pb2.CallableOptions()
    for v in variables:
        options.feed.append(v._assign_placeholder.name)
        options.target.append(v._assign_op.name)
    fn = tf.compat.v1.keras.backend.get_session()._make_callable_from_options(options)
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
        from tensorflow.core.protobuf import config_pb2

        if not all(hasattr(w, "_assign_placeholder") for w in self.weights):
            return lambda *arrays: self._original_set(list(arrays))
        options = config_pb2.CallableOptions()
        for w in self.weights:
            options.feed.append(w._assign_placeholder.name)
            options.target.append(w._assign_op.name)
        return tf.compat.v1.keras.backend.get_session()._make_callable_from_options(options)


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
        return tf.compat.v1.keras.backend.get_session().make_callable(copy)


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
