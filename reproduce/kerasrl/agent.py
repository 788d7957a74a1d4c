"""``FastDQNAgent``: keras-rl's ``DQNAgent`` with a faster per-step path and truncation-aware targets.

keras-rl2 calls ``model.predict_on_batch`` for every action and ``train_on_batch`` for every
gradient step; in graph mode each call re-validates its inputs and costs far more than the
tiny network itself. This subclass computes exactly the same update (same memory, policies,
compiled ``trainable_model``, Huber loss, mask, soft target updates inside the optimizer),
but through direct session calls, with the target computation vectorized and the replay batch
drawn through :class:`~reproduce.kerasrl.replay.ReplayMirror` (the batch ``memory.sample`` would
return, without its per-element deque reads).

Truncation-aware mode: keras-rl2's ``fit`` reports a time-limit truncation as ``done`` like
a real terminal state, so the target drops the bootstrap term ``gamma * max Q(s')``. With
``truncation_aware=True`` the agent reads ``truncated`` from the step's ``info`` (through
:class:`TruncationProcessor`, which ``KerasRLEnv`` feeds) and stores the transition in the
``SequentialMemory`` with ``terminal=TRUNCATED`` (``2``): still truthy, so the memory's own
episode-boundary logic is unchanged, but the target bootstraps through it.

``gradient_steps`` (default 1, keras-rl's behaviour) runs that many gradient steps, each on a
fresh sample, every ``train_interval`` steps: SB3's ``train_freq``/``gradient_steps`` schedule.

``repeat_updates_at_episode_end`` (default True, keras-rl's behaviour): keras-rl2's ``fit``
calls ``backward`` once more after every episode end, with its step counter already advanced,
and the next episode's first ``backward`` sees the same step again, so a gradient step (or a
burst of ``gradient_steps``) and a hard target sync due at that step run twice. False runs
them once; the memory still stores the entry (bench/results/dqn_vs_sb3.md).

Only ``forward``'s Q computation, ``backward`` and ``reset_states`` are overridden; ``fit``,
``test``, ``compile`` and the weights API are keras-rl's.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from rl.agents import DQNAgent
from rl.core import Processor

from reproduce.kerasrl.replay import ReplayMirror

TERMINATED = 1
TRUNCATED = 2


class TruncationProcessor(Processor):
    """Remember whether the last step ended by truncation; delegate everything else to ``inner``."""

    def __init__(self, inner: Processor | None = None):
        self.inner = inner
        self.truncated = False

    def process_step(self, observation, reward, done, info):
        if self.inner is not None:
            observation, reward, done, info = self.inner.process_step(observation, reward, done, info)
        self.truncated = bool(info.get("truncated", False)) and not bool(info.get("terminated", False))
        return observation, reward, done, info

    def process_observation(self, observation):
        return observation if self.inner is None else self.inner.process_observation(observation)

    def process_reward(self, reward):
        return reward if self.inner is None else self.inner.process_reward(reward)

    def process_info(self, info):
        return info if self.inner is None else self.inner.process_info(info)

    def process_action(self, action):
        return action if self.inner is None else self.inner.process_action(action)

    def process_state_batch(self, batch):
        return batch if self.inner is None else self.inner.process_state_batch(batch)

    @property
    def metrics(self):
        return [] if self.inner is None else self.inner.metrics

    @property
    def metrics_names(self):
        return [] if self.inner is None else self.inner.metrics_names


_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}


def mlp_activations(model) -> list | None:
    """The activations of a Flatten/Dense-only model (numpy can run it), else None."""
    acts = []
    for layer in model.layers:
        if isinstance(layer, (tf.keras.layers.InputLayer, tf.keras.layers.Flatten)):
            continue
        name = getattr(getattr(layer, "activation", None), "__name__", None)
        if not isinstance(layer, tf.keras.layers.Dense) or not layer.use_bias or name not in _ACTIVATIONS:
            return None
        acts.append(_ACTIVATIONS[name])
    return acts


def session_call(session, fetches, feeds, targets=()):
    """``fetches`` as a list of arrays from feeding ``feeds`` (numpy arrays, in order).

    ``Session.make_callable`` with a feed list falls back to ``Session.run``, whose per-call
    Python bookkeeping (fetch handlers, feed conversion) costs more than the tiny graph itself;
    this calls the session directly (TF1's private ``_call_tf_sessionrun``, as
    ``make_callable`` does without feeds).
    """
    session._extend_graph()
    fetch_list = [t._as_tf_output() for t in fetches]
    target_list = [op._c_op for op in targets]
    feed_list = [t._as_tf_output() for t in feeds]

    def call(*values):
        return session._call_tf_sessionrun(None, dict(zip(feed_list, values)), fetch_list, target_list, None)

    return call


def mlp_forward(weights, activations, batch):
    x = batch.reshape(len(batch), -1)
    for (kernel, bias), act in zip(zip(weights[::2], weights[1::2]), activations):
        x = act(x @ kernel + bias)
    return x


def experience_arrays(experiences):
    """keras-rl ``Experience`` tuples as ``state0, actions, rewards, state1, terminal1`` arrays."""
    return (np.asarray([e.state0 for e in experiences]), np.asarray([e.action for e in experiences]),
            np.asarray([e.reward for e in experiences]), np.asarray([e.state1 for e in experiences]),
            np.asarray([int(e.terminal1) for e in experiences]))


class FastDQNAgent(DQNAgent):
    """keras-rl's DQNAgent, same update, faster per-step path; optionally truncation-aware.

    For Flatten/Dense models the Q-values are computed in numpy from a copy of the weights
    that the train step fetches in the same session call that updates them (so acting costs
    no TensorFlow call at all); other models use a direct session callable.
    """

    def __init__(self, *args, truncation_aware: bool = False, gradient_steps: int = 1,
                 repeat_updates_at_episode_end: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.truncation_aware = truncation_aware
        self.gradient_steps = int(gradient_steps)
        self.repeat_updates_at_episode_end = repeat_updates_at_episode_end
        self._after_terminal = False
        if truncation_aware and not isinstance(self.processor, TruncationProcessor):
            self.processor = TruncationProcessor(self.processor)

    def compile(self, optimizer, metrics=None):
        super().compile(optimizer, metrics=metrics)
        self.trainable_model._make_train_function()  # creates the optimizer's variables
        fn = self.trainable_model.train_function
        # get_session() initializes variables not yet initialized (train_on_batch would do it lazily).
        self._session = sess = tf.compat.v1.keras.backend.get_session()
        self._acts = mlp_activations(self.model)
        self._q_call = session_call(sess, [self.model.output], [self.model.input])
        self._target_call = session_call(sess, [self.target_model.output], [self.target_model.input])
        # train_on_batch feeds the learning phase last when the graph has one; so do we.
        self._learning_phase = [np.array(True)] if "keras_learning_phase" in fn.inputs[-1].name else []
        fetches = list(fn.outputs)
        self._n_out = len(fetches)
        with tf.control_dependencies([fn.updates_op]):  # weights as they are after this update
            after = [tf.identity(w) for w in self.model.weights]
            if self.target_model_update < 1:
                after += [tf.identity(w) for w in self.target_model.weights]
        self._train_call = session_call(sess, fetches, fn.inputs, targets=[fn.updates_op])
        self._train_call_weights = session_call(sess, fetches + after, fn.inputs)
        # Weights are needed after every step by double DQN (online Q of s') and soft updates
        # (target Q); otherwise only after the last step of a burst, for acting.
        self._weights_every_step = self.enable_double_dqn or self.target_model_update < 1
        self._metrics_names = None
        self._metrics_names = super().metrics_names  # a layer walk per call in keras-rl: once here
        self._train_steps_since_reset = 0
        self._previous = None
        self._mirror = ReplayMirror.of(self.memory)
        self._sync_weights()

    @property
    def metrics_names(self):
        cached = getattr(self, "_metrics_names", None)
        return list(cached) if cached is not None else super().metrics_names

    def _sync_weights(self):
        """Refresh the numpy copies of the online and target weights from TensorFlow."""
        if self._acts is not None:
            self._online_w, self._target_w = self._session.run(
                [self.model.weights, self.target_model.weights])

    def _on_train_begin(self):
        super()._on_train_begin()
        self._sync_weights()

    def _on_test_begin(self):
        super()._on_test_begin()
        self._sync_weights()

    def load_weights(self, filepath):
        super().load_weights(filepath)
        self._sync_weights()

    def update_target_model_hard(self):
        super().update_target_model_hard()
        if self._acts is not None:
            self._target_w = [w.copy() for w in self._online_w]

    def reset_states(self):
        super().reset_states()
        if self.compiled and self._train_steps_since_reset:
            self.trainable_model.reset_metrics()  # a session call per episode, not per step
            self._train_steps_since_reset = 0

    def process_state_batch(self, batch):
        if self.processor is None:
            return np.asarray(batch, dtype=np.float32)
        return np.asarray(self.processor.process_state_batch(np.asarray(batch)), dtype=np.float32)

    def compute_batch_q_values(self, state_batch):
        return self._online_q(self.process_state_batch(state_batch))

    def _online_q(self, batch):
        if self._acts is None:
            return self._q_call(batch)[0]
        return mlp_forward(self._online_w, self._acts, batch)

    def _target_q(self, batch):
        if self._acts is None:
            return self._target_call(batch)[0]
        return mlp_forward(self._target_w, self._acts, batch)

    def episode_end(self, terminal) -> int | bool:
        """What the memory stores for this step: False, True (terminal) or TRUNCATED."""
        if terminal and self.truncation_aware and self.processor.truncated:
            return TRUNCATED
        return bool(terminal)

    def backward(self, reward, terminal):
        if self.step % self.memory_interval == 0:
            end = self.episode_end(terminal)
            self.memory.append(self.recent_observation, self.recent_action, reward, end,
                               training=self.training)
            if self._mirror is not None and self.training:
                self._mirror.append(self.recent_observation, self.recent_action, reward, end)
        metrics = [np.nan for _ in self.metrics_names]
        if not self.training:
            return metrics
        # keras-rl2's fit calls backward once more right after a terminal step, with self.step
        # already advanced (rl/core.py), and the next step's backward sees the same step again:
        # updates due at that step run twice unless repeat_updates_at_episode_end is off
        extra_call, self._after_terminal = self._after_terminal, bool(terminal)
        if extra_call and not self.repeat_updates_at_episode_end:
            return metrics
        if self.step > self.nb_steps_warmup and self.step % self.train_interval == 0:
            for i in range(self.gradient_steps):
                metrics = self.train_step(self.sample_batch(),
                                          sync=self._weights_every_step or i == self.gradient_steps - 1)
        if self.target_model_update >= 1 and self.step % self.target_model_update == 0:
            self.update_target_model_hard()
        return metrics

    def sample_batch(self):
        """``memory.sample(batch_size)`` as arrays (the same batch, through the mirror when there is one)."""
        if self._mirror is not None and self._mirror.memory is not self.memory:  # memory swapped
            self._mirror = ReplayMirror.of(self.memory)
        if self._mirror is None:
            return experience_arrays(self.memory.sample(self.batch_size))
        if not self._mirror.in_sync():
            self._mirror.rebuild()
        return self._mirror.sample(self.batch_size)

    def train_step(self, batch, sync: bool = True):
        """One gradient step on a sampled batch: DQNAgent.backward's update, vectorized.

        ``batch``: ``state0, actions, rewards, state1, terminal1`` arrays (:meth:`sample_batch`).
        ``sync``: refresh the numpy weight copies from this step's update (skipped inside a burst
        of gradient steps when nothing reads them before the burst ends).
        """
        state0, actions, rewards, state1, terminal1 = batch
        n = len(actions)
        state0 = self.process_state_batch(state0)
        state1 = self.process_state_batch(state1)
        rewards = np.asarray(rewards, dtype=np.float32)
        bootstrap = (np.asarray(terminal1) != TERMINATED).astype(np.float32)
        rows = np.arange(n)
        target_q = self._target_q(state1)
        if self.enable_double_dqn:
            q_next = target_q[rows, np.argmax(self._online_q(state1), axis=1)]
        else:
            q_next = target_q.max(axis=1)
        returns = (rewards + self.gamma * q_next * bootstrap).astype(np.float32)
        targets = np.zeros((n, self.nb_actions), dtype=np.float32)
        masks = np.zeros_like(targets)
        targets[rows, actions] = returns
        masks[rows, actions] = 1.0
        ins = [state0] if not isinstance(self.model.input, list) else list(state0)
        sync = sync and self._acts is not None
        call = self._train_call_weights if sync else self._train_call
        fetched = call(*ins, targets, masks, returns, targets, *self._learning_phase)
        outputs = np.asarray(fetched[:self._n_out], dtype=np.float64)
        if sync:
            weights = fetched[self._n_out:]
            self._online_w = weights[:len(self._online_w)]
            if self.target_model_update < 1:
                self._target_w = weights[len(self._online_w):]
        # Compiled metrics (index >= 3) are running means since the last reset_metrics (once an
        # episode): recover this batch's value from consecutive means.
        k = self._train_steps_since_reset = self._train_steps_since_reset + 1
        values = outputs.copy()
        if k > 1 and self._previous is not None:
            values[3:] = k * outputs[3:] - (k - 1) * self._previous[3:]
        self._previous = outputs
        metrics = [m for i, m in enumerate(values) if i not in (1, 2)]
        metrics += self.policy.metrics
        if self.processor is not None:
            metrics += self.processor.metrics
        return metrics
