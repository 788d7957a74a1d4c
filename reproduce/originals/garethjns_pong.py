"""garethjns's ``DeepQAgent`` with ``PongConfig('dqn')`` (reinforcement-learning-keras, commit b1e4334).

Published, read at b1e4334:

- ``enviroments/atari/pong/pong_config.py`` (``_build_for_dqn``, default ``mode='diff'``):
  ``PongNoFrameskip-v4`` with ``PONG_WRAPPERS_DIFF`` (:mod:`reproduce.envs.pong`), input (84, 84, 1),
  6 actions, Adam 0.000105, gamma 0.99, ``final_reward=None``, ``EpsilonGreedy(eps_initial=1.1,
  decay=0.00001, eps_min=0.01, decay_schedule='linear')``, ``ContinuousBuffer(buffer_size=10000)``,
  ``replay_buffer_samples=32``.
- ``enviroments/atari/pong/models/conv_nn.py``: Conv2D 32 8x8 stride 4 -> 64 4x4 stride 2 -> 64 3x3
  stride 1 (``padding='same'``, relu) -> Flatten -> Dense 512 relu -> Dense 6 linear; ``model_base.py``
  compiles each copy with Adam and ``mse``.
- ``agents/q_learning/deep_q_agent.py``: before every training action ``eps = max(0.01, eps - 1e-5)``,
  then ``random() < eps`` explores with ``env.action_space.sample()`` (so the first 10,000 steps are all
  random); every step appends ``(s, a, r, done)``; once the buffer holds 10,000 states, every step draws
  ``np.random.randint(0, 9999, 32)``, takes ``s' = states[i + 1]``, predicts ``[s; s']`` with the target
  model and trains the action model on those predictions with the taken action's slot set to
  ``r + max_a Q_target(s', a)`` (``r`` alone where done). The target model copies the action model after
  episodes 0, k, 2k, ... (``agent_base.py``'s ``update_every``: 1 in ``experiment_dqns_pong.py``, which
  trains with ``max_episode_steps=10000``).

Quirks, kept (``quirks=True``): the target is not discounted (``update_model`` never uses gamma); the
untaken actions' targets are the target model's ``Q(s)``; the buffer runs across episode ends. With
``quirks=False``: ``r + 0.99 max Q_target(s')`` and the action model's own ``Q(s)`` for untaken actions.

:class:`PongDQN` runs that loop one step at a time, so it can checkpoint anywhere: :meth:`PongDQN.state`
returns plain arrays (weights, Adam's slots, the replay buffer, the generators, the emulator and the
wrappers' buffers) and :meth:`PongDQN.restore` continues exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from reproduce.envs.pong import FRAME_SHAPE, N_ACTIONS


@dataclass(frozen=True)
class Settings:
    """``PongConfig('dqn')`` and the experiment script's training options (tests shrink the buffer)."""

    buffer_size: int = 10_000
    batch: int = 32
    learning_rate: float = 0.000105
    eps_initial: float = 1.1
    eps_decay: float = 0.00001
    eps_min: float = 0.01
    gamma: float = 0.99  # declared upstream; only the quirks-off target uses it
    max_episode_steps: int = 10_000
    target_every: int = 1  # episodes between target copies (upstream's update_every)


def build_model(learning_rate: float):
    """``ConvNN._model_architecture`` compiled as ``ModelBase.compile`` (Adam, ``mse``)."""
    import tensorflow as tf

    keras = tf.keras
    frame_input = keras.layers.Input(name="input", shape=(*FRAME_SHAPE, 1))
    x = keras.layers.Conv2D(32, (8, 8), strides=(4, 4), padding="same", activation="relu", name="conv1")(
        frame_input
    )
    x = keras.layers.Conv2D(64, (4, 4), strides=(2, 2), padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Conv2D(64, (3, 3), strides=(1, 1), padding="same", activation="relu", name="conv3")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(512, activation="relu", name="fc1")(x)
    output = keras.layers.Dense(N_ACTIONS, activation=None, name="output")(x)
    model = keras.Model(inputs=[frame_input], outputs=[output])
    # Adam as published; the legacy class works in both of the package's Keras modes and exposes its slots
    model.compile(keras.optimizers.legacy.Adam(learning_rate=learning_rate), loss="mse")
    return model


@dataclass
class Log:
    """Per episode: return, agent steps, epsilon at its end, seconds since the run started."""

    returns: list = field(default_factory=list)
    lengths: list = field(default_factory=list)
    epsilon: list = field(default_factory=list)
    times: list = field(default_factory=list)
    train_steps: int = 0
    seconds: float = 0.0


def _random_state(rng: np.random.RandomState, name: str) -> tuple[dict, dict]:
    kind, keys, pos, has_gauss, cached = rng.get_state()
    return {f"{name}_rng": [kind, int(pos), int(has_gauss), float(cached)]}, {f"{name}_keys": keys}


def _set_random_state(rng: np.random.RandomState, name: str, state: dict, arrays: dict) -> None:
    kind, pos, has_gauss, cached = state[f"{name}_rng"]
    rng.set_state((kind, arrays[f"{name}_keys"].astype(np.uint32), int(pos), int(has_gauss), float(cached)))


class PongDQN:
    """The published agent and loop, one agent step per :meth:`step`."""

    def __init__(self, seed: int, settings: Settings = Settings(), quirks: bool = True):
        from reproduce.envs import pong
        from reproduce.originals.keras_qnet import new_session

        self.seed, self.s, self.quirks = seed, settings, quirks
        new_session(seed)
        self.model = build_model(settings.learning_rate)  # the action model
        self.target = build_model(settings.learning_rate)  # upstream's second compiled copy, its own init
        self.env = pong.make_env()
        n = settings.buffer_size
        self.states = np.zeros((n, *FRAME_SHAPE, 1), np.float32)
        self.actions = np.zeros(n, np.int64)
        self.rewards = np.zeros(n)
        self.dones = np.zeros(n, bool)
        self.stored = 0  # transitions ever appended; the ring keeps transition t at t % n
        self.replay_rng = np.random.RandomState(seed)  # upstream's global np.random (replay indices)
        self.eps_rng = np.random.RandomState(seed + 1)  # EpsilonGreedy's own RandomState
        self.action_rng = np.random.default_rng(seed + 2)  # env.action_space.sample()
        self.eps = settings.eps_initial
        self.episode = 0  # episodes finished
        self.steps = 0  # agent steps taken (4 frames each)
        self.obs: np.ndarray | None = None  # None between episodes
        self.episode_return, self.episode_steps = 0.0, 0
        self.log = Log()

    # --- the published loop
    def greedy_action(self, obs: np.ndarray) -> int:
        return int(np.argmax(self.model.predict_on_batch(obs[None])))

    def act(self, obs: np.ndarray) -> int:
        s = self.s
        self.eps = max(s.eps_min, self.eps - s.eps_decay)
        if self.eps_rng.random_sample() < self.eps:
            return int(self.action_rng.integers(N_ACTIONS))
        return self.greedy_action(obs)

    def remember(self, obs: np.ndarray, action: int, reward: float, done: bool) -> None:
        i = self.stored % self.s.buffer_size
        self.states[i], self.actions[i], self.rewards[i], self.dones[i] = obs, action, reward, done
        self.stored += 1

    def update_model(self) -> None:
        """``DeepQAgent.update_model``: nothing until the buffer is full, then one batch per step."""
        n, b = self.s.buffer_size, self.s.batch
        if self.stored < n:
            return
        picks = self.replay_rng.randint(0, n - 1, b)  # ContinuousBuffer.sample_batch: randint(0, len - 1)
        slots = (self.stored - n + picks) % n
        ss, ss_ = self.states[slots], self.states[(slots + 1) % n]
        both = np.asarray(self.target.predict_on_batch(np.concatenate([ss, ss_])))
        y_now, y_future = both[:b].copy(), both[b:]
        if not self.quirks:
            y_now = np.array(self.model.predict_on_batch(ss))
        done = self.dones[slots]
        target = self.rewards[slots].copy()
        best = y_future[~done].max(axis=1)
        target[~done] += best if self.quirks else self.s.gamma * best
        y_now[np.arange(b), self.actions[slots]] = target
        self.model.train_on_batch(ss, y_now)
        self.log.train_steps += 1

    def step(self) -> tuple[int, float, bool]:
        """One agent step (act, env step, remember, train); returns (action, reward, episode ended)."""
        if self.obs is None:
            self.obs, _ = self.env.reset(seed=self.seed) if self.episode == 0 else self.env.reset()
            self.episode_return, self.episode_steps = 0.0, 0
        action = self.act(self.obs)
        obs, reward, terminated, truncated, _ = self.env.step(action)
        done = bool(terminated or truncated)
        self.remember(self.obs, action, reward, done)
        self.update_model()
        self.obs = obs
        self.episode_return += reward
        self.episode_steps += 1
        self.steps += 1
        ended = done or self.episode_steps >= self.s.max_episode_steps
        if ended:
            self._end_episode()
        return action, float(reward), ended

    def _end_episode(self) -> None:
        if self.s.target_every > 0 and self.episode % self.s.target_every == 0:
            self.target.set_weights(self.model.get_weights())  # _after_episode_update
        self.episode += 1
        log = self.log
        log.returns.append(self.episode_return)
        log.lengths.append(self.episode_steps)
        log.epsilon.append(self.eps)
        log.times.append(log.seconds)
        self.obs = None

    def run(self, episodes: int, on_episode=None, max_steps: int | None = None) -> Log:
        """Steps until ``episodes`` episodes are done (or ``max_steps`` steps in all);
        ``on_episode(agent)`` after each episode."""
        start, clock = time.perf_counter(), self.log.seconds
        while self.episode < episodes and (max_steps is None or self.steps < max_steps):
            _, _, ended = self.step()
            self.log.seconds = clock + time.perf_counter() - start
            if ended:
                self.log.times[-1] = self.log.seconds
                if on_episode is not None:
                    on_episode(self)
        return self.log

    # --- checkpoints: everything needed to continue exactly, mid-episode included
    def state(self) -> tuple[dict, dict]:
        from reproduce.envs import pong

        arrays = {f"w_{i}": w for i, w in enumerate(self.model.get_weights())}
        arrays |= {f"target_{i}": w for i, w in enumerate(self.target.get_weights())}
        arrays |= {f"adam_{i}": w for i, w in enumerate(self.model.optimizer.get_weights())}
        n = min(self.stored, self.s.buffer_size)
        order = (np.arange(n) + self.stored - n) % self.s.buffer_size  # oldest first
        arrays |= {
            "states": self.states[order],
            "actions": self.actions[order],
            "rewards": self.rewards[order],
            "dones": self.dones[order],
            "log_returns": np.array(self.log.returns, float),
            "log_lengths": np.array(self.log.lengths, np.int64),
            "log_epsilon": np.array(self.log.epsilon, float),
            "log_times": np.array(self.log.times, float),
        }
        replay_state, replay_keys = _random_state(self.replay_rng, "replay")
        eps_state, eps_keys = _random_state(self.eps_rng, "eps")
        arrays |= replay_keys | eps_keys
        in_episode = self.obs is not None
        if in_episode or self.episode > 0:  # the emulator as it is (its RNG too, which resets read)
            arrays |= pong.snapshot(self.env)
        if in_episode:
            arrays["obs"] = self.obs
        state = {
            "seed": self.seed,
            "quirks": self.quirks,
            "settings": self.s.__dict__,
            "stored": self.stored,
            "eps": self.eps,
            "episode": self.episode,
            "steps": self.steps,
            "in_episode": in_episode,
            "episode_return": self.episode_return,
            "episode_steps": self.episode_steps,
            "train_steps": self.log.train_steps,
            "seconds": self.log.seconds,
            "action_rng": self.action_rng.bit_generator.state,
            **replay_state,
            **eps_state,
        }
        return state, arrays

    @classmethod
    def restore(cls, state: dict, arrays: dict) -> PongDQN:
        from reproduce.envs import pong

        agent = cls(int(state["seed"]), Settings(**state["settings"]), bool(state["quirks"]))
        n_weights = len(agent.model.get_weights())
        adam = [arrays[f"adam_{i}"] for i in range(len([k for k in arrays if k.startswith("adam_")]))]
        if adam:  # Adam's slots exist after its first update: make them, then overwrite everything
            agent.model.train_on_batch(np.zeros((1, *FRAME_SHAPE, 1), np.float32), np.zeros((1, N_ACTIONS)))
            agent.model.optimizer.set_weights(adam)
        agent.model.set_weights([arrays[f"w_{i}"] for i in range(n_weights)])
        agent.target.set_weights([arrays[f"target_{i}"] for i in range(n_weights)])
        agent.stored = int(state["stored"])
        n = len(arrays["actions"])
        slots = (np.arange(n) + agent.stored - n) % agent.s.buffer_size
        agent.states[slots], agent.actions[slots] = arrays["states"], arrays["actions"]
        agent.rewards[slots], agent.dones[slots] = arrays["rewards"], arrays["dones"]
        _set_random_state(agent.replay_rng, "replay", state, arrays)
        _set_random_state(agent.eps_rng, "eps", state, arrays)
        agent.action_rng.bit_generator.state = state["action_rng"]
        agent.eps, agent.episode = float(state["eps"]), int(state["episode"])
        agent.steps = int(state["steps"])
        agent.episode_return = float(state["episode_return"])
        agent.episode_steps = int(state["episode_steps"])
        if "env_ale" in arrays:
            pong.restore(agent.env, arrays)
        if state["in_episode"]:
            agent.obs = np.asarray(arrays["obs"], np.float32)
        log = agent.log
        log.returns, log.lengths = arrays["log_returns"].tolist(), arrays["log_lengths"].tolist()
        log.epsilon, log.times = arrays["log_epsilon"].tolist(), arrays["log_times"].tolist()
        log.train_steps, log.seconds = int(state["train_steps"]), float(state["seconds"])
        return agent


def greedy_returns(agent: PongDQN, episodes: int) -> tuple[list[float], list[int]]:
    """Greedy test episodes on a fresh env (capped at ``max_episode_steps``). Without sticky actions Pong
    is deterministic, so a greedy policy plays the same episode every time."""
    from reproduce.envs import pong

    env = pong.make_env()
    returns, lengths = [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=agent.seed + i)
        total, steps = 0.0, 0
        for steps in range(1, agent.s.max_episode_steps + 1):  # noqa: B007 - steps is read after the loop
            obs, reward, terminated, truncated, _ = env.step(agent.greedy_action(obs))
            total += reward
            if terminated or truncated:
                break
        returns.append(total)
        lengths.append(steps)
    env.close()
    return returns, lengths
