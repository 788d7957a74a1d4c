"""The TensorFlow blog's A3C on CartPole (Raymond Yuan, July 2018), its worker loop as written, two backends.

Published (tensorflow/models ``research/a3c_blogpost/a3c_cartpole.py``): ``ActorCriticModel`` with two
separate towers, ``Dense(100, relu) -> Dense(2)`` policy logits and ``Dense(100, relu) -> Dense(1)``
value, on the same input; one shared ``tf.train.AdamOptimizer(5e-4, use_locking=True)`` on a global
model; ``multiprocessing.cpu_count()`` worker threads, each with its own local model and
``CartPole-v0 .unwrapped`` (no step limit), sampling actions from the local policy. A worker pushes
its local gradients of

    mean(0.5 * adv**2 + xent(actions, logits) * stop_gradient(adv) + 0.01 * sum(p * log(p + 1e-10)))

(``adv`` = discounted return, bootstrapped from the local ``V(s')`` unless done, minus ``V(s)``) to
the global weights every ``update_freq`` (20) steps or at the episode's end, then copies the global
weights into its local model. gamma 0.99; 1,000 global episodes; the global weights are saved
whenever an episode beats the best score, and ``play`` runs that saved model greedily.

Quirks kept (each changes numbers, none the algorithm's idea):

1. The episode's last reward is replaced by -1, so the score recorded (and compared with the best)
   is the episode's length minus 2; the step count printed is one short.
2. ``time_count`` is tested before it is incremented, so the first push of a worker's episode covers
   21 transitions and the later ones 20.
3. A worker's local model starts from its own random initialisation, not the global weights: its
   first segment is played, and its first gradients computed, with weights the global model never had.
4. The moving average starts at the first score and restarts whenever it is exactly 0.
5. Workers stop starting episodes once the shared episode counter reaches 1,000, but finish the
   ones they are in: with N workers up to N - 1 episodes more.
6. The policy loss multiplies ``softmax_cross_entropy_with_logits`` (shape ``(n,)``) by the advantage
   (shape ``(n, 1)``): broadcasting makes an ``(n, n)`` matrix, and its mean weights every action's
   log-probability by the segment's *mean* advantage, not its own. ``quirks=False`` weights each by
   its own (the A3C of the paper); the entropy term is the same either way.
7. When a segment is cut by ``update_freq`` (not by the pole falling), the bootstrap ``V(s')`` is
   read as ``model(s')[-1].numpy()[0]``, an array of shape ``(1,)``, so the returns become
   ``(n, 1, 1)`` and the advantage ``(n, 1, 1) - (n, 1)`` an ``(n, n, 1)`` matrix: the value loss is
   ``mean_ij (R_i - V_j)**2``, which pulls every value towards the segment's mean return. Segments
   that end the episode have plain ``(n, 1)`` returns. ``quirks=False`` also fixes this.

:func:`train` runs that worker loop once for both backends: :class:`TFNets` (the reference: tf.keras
models, ``tf.compat.v1.train.AdamOptimizer`` as published, one session call per action and per
push, in the package's graph mode) and :class:`NumpyNets` (the fast path: the same two towers, the
loss's gradient and TF1's Adam written out in float32 numpy). With ``workers=1`` a run is
deterministic and both backends make the same draws (tested: same actions, weights to 1e-5); with
``workers > 1`` threads race on the global weights as published (TF applies ``use_locking`` per
variable; :class:`NumpyNets` holds one lock over each push and copy-back).

Ray: the workers could be Ray actors (each owning an env, a local model and its RNG) pushing
gradients to a parameter-server actor holding the global weights and Adam state (``ray.get`` of
the new weights after each push); the loop below would stay as is behind ``NumpyNets``' three
methods. Not built: it needs ray (not installed here) and buys nothing on 2 cores.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

ENV_ID = "CartPole-v0"
HIDDEN = 100
LEARNING_RATE = 5e-4
UPDATE_FREQ = 20
GAMMA = 0.99
MAX_EPS = 1000
ENTROPY_BETA = 0.01
STATE_SIZE, ACTION_SIZE = 4, 2
# trainable weights in ActorCriticModel's order: dense1, policy_logits, dense2, values
SHAPES = ((STATE_SIZE, HIDDEN), (HIDDEN,), (HIDDEN, ACTION_SIZE), (ACTION_SIZE,),
          (STATE_SIZE, HIDDEN), (HIDDEN,), (HIDDEN, 1), (1,))


def initial_weights(rng: np.random.RandomState) -> list[np.ndarray]:
    """Keras's defaults for the four Dense layers: glorot-uniform kernels, zero biases (float32)."""
    out = []
    for shape in SHAPES:
        if len(shape) == 2:
            limit = np.sqrt(6.0 / sum(shape))
            out.append(rng.uniform(-limit, limit, shape).astype(np.float32))
        else:
            out.append(np.zeros(shape, np.float32))
    return out


def record(moving: float, episode_reward: float) -> float:
    """The published ``record``: the moving average starts at the first score (and whenever it is 0)."""
    return episode_reward if moving == 0 else moving * 0.99 + episode_reward * 0.01


def discounted(rewards, bootstrap: float, gamma: float = GAMMA) -> np.ndarray:
    """``compute_loss``'s returns: ``R = r + gamma * R`` from the bootstrap, backwards, as ``(n, 1)``."""
    out, total = [], bootstrap
    for r in rewards[::-1]:
        total = r + gamma * total
        out.append(total)
    return np.array(out[::-1], np.float32)[:, None]


@dataclass
class Episode:
    worker: int
    score: float  # the published "Episode Reward": length - 2 (the last reward is -1)
    steps: int  # env steps taken
    loss: float  # sum of the pushes' losses
    moving: float  # the moving average after it


@dataclass
class Result:
    episodes: list[Episode]
    weights: list = field(repr=False)  # the global weights at the end
    best_weights: list = field(repr=False)  # the saved model: global weights after the best episode
    best_score: float
    actions: list = field(repr=False)  # per worker, every action taken
    seconds: float = 0.0

    @property
    def moving_average(self) -> np.ndarray:
        return np.array([e.moving for e in self.episodes])


class Shared:
    """``Worker``'s class attributes: the episode counter, moving average and best score (+ the queue)."""

    def __init__(self, max_eps: int):
        self.max_eps, self.episode, self.moving, self.best = max_eps, 0, 0.0, 0.0
        self.episodes: list[Episode] = []
        self.best_weights = None
        self.lock = threading.Lock()


def worker_loop(idx: int, nets, env, rng: np.random.RandomState, shared: Shared, actions: list,
                update_freq: int = UPDATE_FREQ, gamma: float = GAMMA, max_steps: int | None = None):
    """``Worker.run`` as published. ``nets`` gives ``probs(idx, s)``, ``value(idx, s)``,
    ``push(idx, states, actions, returns) -> loss`` (local gradients applied to the global model, then
    the local model set to the global weights) and ``global_weights()``. ``max_steps`` (None as
    published) truncates a training episode: the push bootstraps and the reward stays 1."""
    states, acts, rewards = [], [], []
    first = True
    while shared.episode < shared.max_eps:
        current, _ = env.reset(seed=None if not first else int(rng.randint(2**31)))
        first = False
        states.clear(), acts.clear(), rewards.clear()
        ep_reward, ep_steps, ep_loss, time_count, done = 0.0, 0, 0.0, 0, False
        while not done:
            p = nets.probs(idx, current)
            action = int(rng.choice(ACTION_SIZE, p=p))  # float32 probabilities, as published
            new_state, reward, terminated, _, _ = env.step(action)
            actions.append(action)
            truncated = max_steps is not None and ep_steps + 1 >= max_steps and not terminated
            done = terminated or truncated
            if terminated:
                reward = -1
            ep_reward += reward
            states.append(current), acts.append(action), rewards.append(reward)
            if time_count == update_freq or done:
                bootstrap = 0.0 if terminated else float(nets.value(idx, new_state))
                returns = discounted(rewards, bootstrap, gamma)
                if not terminated:  # quirk 7: the bootstrap is a (1,) array, so the returns are (n, 1, 1)
                    returns = returns[:, None]
                states_in = np.vstack(states).astype(np.float32)
                ep_loss += nets.push(idx, states_in, np.array(acts, np.int32), returns)
                states.clear(), acts.clear(), rewards.clear()
                time_count = 0
                if done:
                    with shared.lock:
                        shared.moving = record(shared.moving, ep_reward)
                        shared.episodes.append(Episode(idx, ep_reward, ep_steps + 1, ep_loss, shared.moving))
                        if ep_reward > shared.best:
                            shared.best_weights = nets.global_weights()
                            shared.best = ep_reward
                        shared.episode += 1
            ep_steps += 1
            time_count += 1
            current = new_state


def train(nets, seed: int, workers: int = 1, max_eps: int = MAX_EPS, max_steps: int | None = None) -> Result:
    """The published ``MasterAgent.train``: ``workers`` threads (one runs in this thread), each with
    CartPole-v0 unwrapped and a ``RandomState((seed, i))`` for its env seed and action draws."""
    import gymnasium as gym

    shared = Shared(max_eps)
    actions = [[] for _ in range(workers)]
    envs = [gym.make(ENV_ID).unwrapped for _ in range(workers)]
    rngs = [np.random.RandomState([seed, i]) for i in range(workers)]
    start = time.perf_counter()
    if workers == 1:
        worker_loop(0, nets, envs[0], rngs[0], shared, actions[0], max_steps=max_steps)
    else:
        errors = []

        def work(i):
            try:
                worker_loop(i, nets, envs[i], rngs[i], shared, actions[i], max_steps=max_steps)
            except BaseException as exc:  # re-raised below: a dead thread must not pass for a short run
                shared.max_eps = 0
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    seconds = time.perf_counter() - start
    final = nets.global_weights()
    return Result(shared.episodes, final, shared.best_weights if shared.best_weights is not None else final,
                  shared.best, actions, seconds)


def draw_weights(seed: int, workers: int) -> tuple[list, list]:
    """Initial weights: the global model's, then each worker's own local model's (quirk 3)."""
    rng = np.random.RandomState([seed, 10_000])
    return initial_weights(rng), [initial_weights(rng) for _ in range(workers)]


class NumpyNets:
    """The fast path: the two towers, the loss's gradient and TF1's Adam in float32 numpy."""

    def __init__(self, seed: int, workers: int = 1, quirks: bool = True, lr: float = LEARNING_RATE):
        self.quirks = quirks
        self.global_w, self.local = draw_weights(seed, workers)
        self.m = [np.zeros_like(w) for w in self.global_w]
        self.v = [np.zeros_like(w) for w in self.global_w]
        self.beta1_power, self.beta2_power = np.float32(1.0), np.float32(1.0)
        self.lr = lr
        self.lock = threading.Lock()

    @staticmethod
    def forward(w, x):
        h1 = np.maximum(x @ w[0] + w[1], 0)
        h2 = np.maximum(x @ w[4] + w[5], 0)
        return h1, h1 @ w[2] + w[3], h2, h2 @ w[6] + w[7]

    @staticmethod
    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def probs(self, idx, state):
        return self.softmax(self.forward(self.local[idx], np.asarray(state, np.float32)[None])[1])[0]

    def value(self, idx, state):
        return self.forward(self.local[idx], np.asarray(state, np.float32)[None])[3][0, 0]

    def gradients(self, w, x, actions, returns):
        """The published loss and its gradient with respect to ``w`` (quirk 6 when ``self.quirks``)."""
        n = len(x)
        h1, logits, h2, values = self.forward(w, x)
        p = self.softmax(logits)
        cross = self.quirks and returns.ndim == 3  # quirk 7: (n, 1, 1) - (n, 1) is (n, n, 1)
        returns = returns.reshape(n, 1)
        adv = returns - values  # (n, 1)
        onehot = np.eye(ACTION_SIZE, dtype=np.float32)[actions]
        top = logits.max(1, keepdims=True)
        xent = (np.log(np.exp(logits - top).sum(1, keepdims=True)) + top - logits)[np.arange(n), actions]
        log_p = np.log(p + np.float32(1e-10))
        weight = adv.mean() if self.quirks else adv  # the (n,) x (n, 1) broadcast: the mean advantage
        policy = xent.mean() * adv.mean() if self.quirks else np.mean(xent[:, None] * adv)
        value_loss = np.mean((returns - values.T) ** 2) if cross else np.mean(adv ** 2)  # R_i - V_j, all i, j
        loss = 0.5 * value_loss + policy + ENTROPY_BETA * np.mean((p * log_p).sum(1))
        g_ent = log_p + p / (p + np.float32(1e-10))  # d(sum p log(p + 1e-10)) / dp
        d_entropy = p * (g_ent - (p * g_ent).sum(1, keepdims=True))  # through the softmax
        d_logits = ((p - onehot) * weight + ENTROPY_BETA * d_entropy) / n
        d_values = -(returns.mean() - values) / n if cross else -adv / n
        d_h1 = (d_logits @ w[2].T) * (h1 > 0)
        d_h2 = (d_values @ w[6].T) * (h2 > 0)
        grads = [x.T @ d_h1, d_h1.sum(0), h1.T @ d_logits, d_logits.sum(0),
                 x.T @ d_h2, d_h2.sum(0), h2.T @ d_values, d_values.sum(0)]
        return float(loss), [g.astype(np.float32) for g in grads]

    def push(self, idx, states, actions, returns):
        loss, grads = self.gradients(self.local[idx], states, actions, returns)
        with self.lock:  # use_locking: one push at a time, then the copy-back
            self.adam(grads)
            self.local[idx] = [w.copy() for w in self.global_w]
        return loss

    def adam(self, grads, beta1=0.9, beta2=0.999, eps=1e-8):
        """``tf.train.AdamOptimizer``'s update (its bias correction folded into the step size)."""
        b1, b2 = np.float32(beta1), np.float32(beta2)
        self.beta1_power, self.beta2_power = self.beta1_power * b1, self.beta2_power * b2
        lr_t = np.float32(self.lr) * np.sqrt(1 - self.beta2_power) / (1 - self.beta1_power)
        for w, m, v, g in zip(self.global_w, self.m, self.v, grads):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            w -= lr_t * m / (np.sqrt(v) + np.float32(eps))

    def global_weights(self):
        return [w.copy() for w in self.global_w]


class TFNets:
    """The reference: tf.keras ``ActorCriticModel``s and the published TF1 Adam, in graph mode."""

    def __init__(self, seed: int, workers: int = 1, quirks: bool = True, lr: float = LEARNING_RATE):
        import tensorflow as tf

        from reproduce.originals.keras_qnet import new_session

        new_session(seed)
        keras = tf.keras

        class ActorCriticModel(keras.Model):
            def __init__(self):
                super().__init__()
                self.dense1 = keras.layers.Dense(HIDDEN, activation="relu")
                self.policy_logits = keras.layers.Dense(ACTION_SIZE)
                self.dense2 = keras.layers.Dense(HIDDEN, activation="relu")
                self.values = keras.layers.Dense(1)

            def call(self, inputs):
                return self.policy_logits(self.dense1(inputs)), self.values(self.dense2(inputs))

        ph = tf.compat.v1.placeholder
        self._state = ph(tf.float32, (None, STATE_SIZE), "state")
        self._actions = ph(tf.int32, (None,), "actions")
        self._returns = ph(tf.float32, None, "returns")  # (n, 1), or (n, 1, 1) after a bootstrap (quirk 7)
        self.global_model = ActorCriticModel()
        self.global_model(self._state)
        opt = tf.compat.v1.train.AdamOptimizer(lr, use_locking=True)
        global_vars = self.global_model.trainable_weights
        self.locals, self._probs, self._value, self._push = [], [], [], []
        for _ in range(workers):
            local = ActorCriticModel()
            logits, values = local(self._state)
            self.locals.append(local)
            self._probs.append(tf.nn.softmax(logits)[0])
            self._value.append(values[0, 0])
            returns = self._returns if quirks else tf.reshape(self._returns, (-1, 1))
            advantage = returns - values  # published: (n, 1, 1) - (n, 1) broadcasts to (n, n, 1)
            value_loss = advantage ** 2
            policy = tf.nn.softmax(logits)
            entropy = tf.reduce_sum(policy * tf.math.log(policy + 1e-10), axis=1)
            onehot = tf.one_hot(self._actions, ACTION_SIZE, dtype=tf.float32)
            policy_loss = tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits)
            if not quirks:  # (n, 1): each action weighted by its own advantage
                policy_loss, entropy = policy_loss[:, None], entropy[:, None]
            policy_loss *= tf.stop_gradient(advantage)  # published: (n,) * (n, 1) broadcasts to (n, n)
            policy_loss += ENTROPY_BETA * entropy
            loss = tf.reduce_mean(0.5 * value_loss + policy_loss)
            grads = tf.gradients(loss, local.trainable_weights)
            apply = opt.apply_gradients(zip(grads, global_vars))
            with tf.control_dependencies([apply]):
                sync = tf.group(*[mine.assign(theirs.read_value())
                                  for mine, theirs in zip(local.trainable_weights, global_vars)])
            with tf.control_dependencies([sync]):
                self._push.append(tf.identity(loss))
        self.session = tf.compat.v1.keras.backend.get_session()
        self.session.run(tf.compat.v1.variables_initializer(opt.variables()))
        global_w, local_w = draw_weights(seed, workers)
        self.global_model.set_weights(global_w)
        for local, w in zip(self.locals, local_w):
            local.set_weights(w)

    def probs(self, idx, state):
        return self.session.run(self._probs[idx], {self._state: np.asarray(state, np.float32)[None]})

    def value(self, idx, state):
        return self.session.run(self._value[idx], {self._state: np.asarray(state, np.float32)[None]})

    def push(self, idx, states, actions, returns):
        return float(self.session.run(self._push[idx], {self._state: states, self._actions: actions,
                                                        self._returns: returns}))

    def global_weights(self):  # the session itself: Keras's get_weights finds no graph in a worker thread
        return [np.array(w) for w in self.session.run(self.global_model.trainable_weights)]


def greedy_returns(weights, episodes: int, seed: int, max_steps: int) -> list[tuple[float, int]]:
    """The published ``play`` (argmax of the policy) through the package's one evaluator, on
    CartPole-v0 with its limit set to ``max_steps`` (unwrapped, a good policy never stops)."""
    from reproduce.evaluation import greedy_episodes

    def choose(states):
        x = np.stack([s[-1] for s in states]).astype(np.float32)
        return list(np.argmax(NumpyNets.forward(weights, x)[1], axis=1))

    return greedy_episodes(choose, ENV_ID, episodes, seed, max_episode_steps=max_steps)
