"""SequentialMemory.sample through the mirror (:mod:`reproduce.fast_replay`): keras-rl's own batches."""

import random
from collections import deque

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from rl.agents import DDPGAgent, DQNAgent
from rl.memory import Experience, SequentialMemory
from rl.policy import BoltzmannQPolicy
from rl.random import OrnsteinUhlenbeckProcess

import reproduce
from callbacks.agent_state import capture_agent, real_optimizer, restore_agent
from reproduce import fast_replay
from reproduce.adapters import KerasRLEnv
from reproduce.fast_session import FAST_PATH_ENV

TRUNCATED = 2


def _fill(memory, steps, rng, shape=(4,)):
    """Appends of mixed Python/numpy scalar types, episode ends (True, TRUNCATED), not-training steps."""
    for _ in range(steps):
        obs = rng.normal(size=shape).astype(np.float32)
        end = [False, True, TRUNCATED][int(rng.choice(3, p=[0.8, 0.1, 0.1]))]
        action = int(rng.integers(3)) if rng.random() < 0.5 else np.int64(rng.integers(3))
        reward = float(rng.normal()) if rng.random() < 0.5 else np.float32(rng.normal())
        memory.append(obs, action, reward, end, training=bool(rng.random() < 0.95))


def assert_same(got, want, path="batch"):
    """Same structure, types, dtypes and values (bitwise for arrays)."""
    assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape, path
        assert got.tobytes() == want.tobytes(), path
    else:
        assert got == want, path


def stock_and_mirror(memory, monkeypatch, batch_size, seed, batch_idxs=None):
    """``memory.sample`` with the feature off, then on, from the same random state."""
    batches = []
    for fast in ("0", "1"):
        monkeypatch.setenv(FAST_PATH_ENV, fast)
        random.seed(seed)
        np.random.seed(seed)
        batches.append(memory.sample(batch_size, batch_idxs))
        batches.append((random.random(), np.random.random()))  # the same draws were consumed
    monkeypatch.delenv(FAST_PATH_ENV)
    return batches


@pytest.mark.parametrize("limit, steps", [(1000, 300), (50, 333)])  # partly full; wrapped many times
@pytest.mark.parametrize("window, ignore", [(1, False), (3, False), (3, True)])
def test_sample_is_keras_rls_batch(monkeypatch, limit, steps, window, ignore):
    memory = SequentialMemory(limit=limit, window_length=window, ignore_episode_boundaries=ignore)
    rng = np.random.default_rng(limit + window)
    _fill(memory, steps, rng)
    for k in range(12):
        want, want_rng, got, got_rng = stock_and_mirror(memory, monkeypatch, 32, seed=k)
        assert all(type(e) is Experience for e in got)
        assert_same(got, want)
        assert got_rng == want_rng
        if window == 1:  # the very objects the deques hold, as keras-rl returns them
            assert all(g.state0[0] is w.state0[0] and g.state1[0] is w.state1[0] and g.action is w.action
                       for g, w in zip(got, want))
        _fill(memory, 7, rng)  # appends between samples go through the mirror
    mirror = memory.__dict__[fast_replay.MIRROR_ATTR]
    assert mirror.in_sync() and mirror.size == len(memory.observations)
    idxs = [memory.nb_entries - 2, window, window + 1]  # explicit indexes, as keras-rl accepts them
    want, _, got, _ = stock_and_mirror(memory, monkeypatch, 3, seed=0, batch_idxs=idxs)
    assert_same(got, want)


@pytest.mark.filterwarnings("ignore:Not enough entries")
def test_with_replacement_draws_and_the_assertions_match(monkeypatch):
    memory = SequentialMemory(limit=100, window_length=1)
    _fill(memory, 12, np.random.default_rng(1))
    want, want_rng, got, got_rng = stock_and_mirror(memory, monkeypatch, 32, seed=3)  # 32 > entries
    assert_same(got, want)
    assert got_rng == want_rng
    small = SequentialMemory(limit=100, window_length=1)
    _fill(small, 2, np.random.default_rng(1))
    with pytest.raises(AssertionError, match="not enough entries"):
        small.sample(4)


def test_mirror_follows_deques_changed_behind_append(monkeypatch):
    memory = SequentialMemory(limit=60, window_length=1)
    rng = np.random.default_rng(4)
    _fill(memory, 100, rng)
    memory.sample(8)  # attaches the mirror
    memory.observations.append(np.ones(4, np.float32))  # behind append's back: a full deque, same length
    for field in ("actions", "rewards", "terminals"):
        getattr(memory, field).append(getattr(memory, field)[-5])
    assert not memory.__dict__[fast_replay.MIRROR_ATTR].in_sync()
    want, _, got, _ = stock_and_mirror(memory, monkeypatch, 16, seed=5)
    assert_same(got, want)
    for field in ("observations", "actions", "rewards", "terminals"):  # a new deque, as a restore makes
        setattr(memory, field, deque(list(getattr(memory, field))[:40], maxlen=60))
    want, _, got, _ = stock_and_mirror(memory, monkeypatch, 16, seed=6)
    assert_same(got, want)


class Sub(SequentialMemory):
    pass


def test_only_exact_sequential_memories_are_served(monkeypatch):
    sub = Sub(limit=100, window_length=1)
    _fill(sub, 50, np.random.default_rng(5))
    sub.sample(8)
    assert fast_replay.MIRROR_ATTR not in sub.__dict__
    monkeypatch.setenv(FAST_PATH_ENV, "0")
    plain = SequentialMemory(limit=100, window_length=1)
    _fill(plain, 50, np.random.default_rng(5))
    plain.sample(8)
    assert fast_replay.MIRROR_ATTR not in plain.__dict__  # off: keras-rl's own sample


def _state(models):
    return [w for model in models for w in model.get_weights()]


def _cartpole_dqn(window=1):
    """keras-rl's dqn_cartpole example, smaller memory (it wraps) and warm-up."""
    tf.compat.v1.keras.backend.clear_session()
    env = KerasRLEnv(gym.make("CartPole-v1"))
    reproduce.seed_everything(0, env)
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(window, 4))]
                                + [tf.keras.layers.Dense(16, "relu") for _ in range(3)]
                                + [tf.keras.layers.Dense(2)])
    agent = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=150, window_length=window),
                     nb_steps_warmup=10, target_model_update=1e-2, policy=BoltzmannQPolicy())
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return env, agent


def _dqn_run(monkeypatch, mirror: bool, tmp_path):
    """Fit, checkpoint (memory included, through a file), fit on, restore, sample, fit on."""
    monkeypatch.setattr(fast_replay, "fast_path_enabled", lambda: mirror)
    env, agent = _cartpole_dqn()
    agent.fit(env, nb_steps=250, verbose=0)
    state, arrays = capture_agent(agent, save_memory=True)
    np.savez(tmp_path / f"memory{mirror}.npz", **arrays)
    agent.fit(env, nb_steps=100, verbose=0)
    with np.load(tmp_path / f"memory{mirror}.npz") as saved:
        restore_agent(agent, state, dict(saved))
    random.seed(1)
    np.random.seed(1)
    after_restore = [agent.memory.sample(32) for _ in range(3)]
    agent.fit(env, nb_steps=150, verbose=0)
    used = fast_replay.MIRROR_ATTR in agent.memory.__dict__
    return _state([agent.model, agent.target_model, real_optimizer(agent)]), after_restore, used


def test_dqn_training_is_bit_identical_with_the_mirror(monkeypatch, tmp_path):
    stock, stock_batches, stock_used = _dqn_run(monkeypatch, False, tmp_path)
    fast, fast_batches, fast_used = _dqn_run(monkeypatch, True, tmp_path)
    assert (stock_used, fast_used) == (False, True)
    assert_same(fast_batches, stock_batches)  # the restored memory's batches
    assert len(fast) == len(stock) > 8
    assert_same(fast, stock)


def test_stacked_observations_train_bit_identically(monkeypatch):
    """``window_length=4`` (snake-dqn's): keras-rl's stacking, episode starts zero-padded."""
    runs = []
    for mirror in (False, True):
        monkeypatch.setattr(fast_replay, "fast_path_enabled", lambda mirror=mirror: mirror)
        env, agent = _cartpole_dqn(window=4)
        agent.fit(env, nb_steps=200, verbose=0)
        assert (fast_replay.MIRROR_ATTR in agent.memory.__dict__) == mirror
        runs.append(_state([agent.model, agent.target_model, real_optimizer(agent)]))
    assert_same(runs[1], runs[0])


def _ddpg_run(monkeypatch, mirror: bool):
    monkeypatch.setattr(fast_replay, "fast_path_enabled", lambda: mirror)
    tf.compat.v1.keras.backend.clear_session()
    env = KerasRLEnv(gym.make("Pendulum-v1"))
    reproduce.seed_everything(0, env)
    actor = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(1, 3)),
                                 tf.keras.layers.Dense(16, "relu"), tf.keras.layers.Dense(1, "tanh")])
    action_input = tf.keras.Input((1,), name="action_input")
    observation_input = tf.keras.Input((1, 3), name="observation_input")
    x = tf.keras.layers.Concatenate()([action_input, tf.keras.layers.Flatten()(observation_input)])
    x = tf.keras.layers.Dense(16, "relu")(x)
    critic = tf.keras.Model([action_input, observation_input], tf.keras.layers.Dense(1)(x))
    agent = DDPGAgent(nb_actions=1, actor=actor, critic=critic, critic_action_input=action_input,
                      memory=SequentialMemory(limit=120, window_length=1), nb_steps_warmup_critic=20,
                      nb_steps_warmup_actor=20, random_process=OrnsteinUhlenbeckProcess(0.15, size=1),
                      gamma=0.99, target_model_update=1e-3)
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    agent.fit(env, nb_steps=200, verbose=0, nb_max_episode_steps=100)
    used = fast_replay.MIRROR_ATTR in agent.memory.__dict__
    return _state([agent.actor, agent.critic, agent.target_actor, agent.target_critic]), used


def test_ddpg_training_is_bit_identical_with_the_mirror(monkeypatch):
    stock, stock_used = _ddpg_run(monkeypatch, False)
    fast, fast_used = _ddpg_run(monkeypatch, True)
    assert (stock_used, fast_used) == (False, True)
    assert_same(fast, stock)
