"""The fast path (:mod:`reproduce.fast_session`): bit-identical to keras-rl's per-call path."""

import subprocess
import sys
import textwrap

import gymnasium as gym  # noqa: F401  (OTHER_AGENT_RUN reads it from this module)
import numpy as np
import pytest
import tensorflow as tf
from rl.agents import DQNAgent
from rl.memory import SequentialMemory
from rl.policy import EpsGreedyQPolicy

from reproduce.adapters import KerasRLEnv  # noqa: F401  (OTHER_AGENT_RUN reads it from this module)


def mlp(outputs, observation_shape=(1, 3)):
    return tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=observation_shape),
                                tf.keras.layers.Dense(8, "relu"), tf.keras.layers.Dense(outputs)])


def pendulum_ddpg(optimizer, target_model_update=1e-3):
    from rl.agents import DDPGAgent
    from rl.random import OrnsteinUhlenbeckProcess

    actor = mlp(1)
    action_input = tf.keras.Input((1,), name="action_input")
    observation_input = tf.keras.Input((1, 3), name="observation_input")
    x = tf.keras.layers.Concatenate()([action_input, tf.keras.layers.Flatten()(observation_input)])
    x = tf.keras.layers.Dense(8, "relu")(x)
    critic = tf.keras.Model([action_input, observation_input], tf.keras.layers.Dense(1)(x))
    agent = DDPGAgent(nb_actions=1, actor=actor, critic=critic, critic_action_input=action_input,
                      memory=SequentialMemory(500, window_length=1), nb_steps_warmup_critic=20,
                      nb_steps_warmup_actor=20, random_process=OrnsteinUhlenbeckProcess(0.15, size=1),
                      target_model_update=target_model_update)
    agent.compile(optimizer)
    return agent, None


def test_fast_path_is_listed_and_lives_in_its_own_module():
    from reproduce import compat, fast_session

    assert any(fix.startswith("fast-path") for fix in compat.ACTIVE_FIXES)
    assert fast_session.fast_path_enabled()
    assert not hasattr(compat, "_DirectTrain")  # the fixes module holds fixes only


FAST_PATH_RUN = """
    import random, sys
    import reproduce
    import numpy as np, gymnasium as gym, tensorflow as tf
    from rl.agents import DQNAgent
    from rl.memory import SequentialMemory
    from rl.policy import BoltzmannQPolicy
    from tensorflow.keras.layers import Activation, Dense, Flatten
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.optimizers import Adam
    from reproduce.adapters import KerasRLEnv

    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    tf.compat.v1.keras.backend.set_session(tf.compat.v1.Session(config=config))
    np.random.seed(123); random.seed(123); tf.compat.v1.set_random_seed(123)
    env = KerasRLEnv(gym.make("CartPole-v1"), seed=123)
    model = Sequential([Flatten(input_shape=(1, 4))])
    for _ in range(3):
        model.add(Dense(16)); model.add(Activation("relu"))
    model.add(Dense(2)); model.add(Activation("linear"))
    dqn = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=50000, window_length=1),
                   nb_steps_warmup=10, target_model_update=1e-2, policy=BoltzmannQPolicy())
    dqn.compile(Adam(learning_rate=1e-3), metrics=["mae"])
    rows = []

    class Log(tf.keras.callbacks.Callback):
        def on_step_end(self, step, logs=None):
            rows.append([logs["episode"], logs["action"], logs["reward"], *logs["metrics"]])

    history = dqn.fit(env, nb_steps=5000, verbose=0, callbacks=[Log()])
    weights = dqn.model.get_weights() + dqn.target_model.get_weights()
    adam = dqn.trainable_model.optimizer.optimizer.get_weights()
    arrays = {f"weights_{i}": w for i, w in enumerate(weights)}
    arrays.update({f"optimizer_{i}": w for i, w in enumerate(adam)})
    arrays["steps"] = np.array(rows)
    arrays["episode_rewards"] = np.array(history.history["episode_reward"])
    np.savez(sys.argv[1], **arrays)
    train = dqn.trainable_model.train_on_batch
    print(type(train).__name__, len(getattr(train, "_checked", ())), dqn.metrics_names)
"""


def test_fast_path_is_bit_identical_over_5000_dqn_steps(tmp_path):
    import os

    runs = {}
    for fast in ("0", "1"):
        env = dict(os.environ, REPRODUCE_KERAS_RL_FAST=fast, TF_CPP_MIN_LOG_LEVEL="3")
        runs[fast] = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(FAST_PATH_RUN), str(tmp_path / f"fast{fast}.npz")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, stdin=subprocess.DEVNULL)
    outputs = {fast: run.communicate(timeout=600) for fast, run in runs.items()}
    for fast, run in runs.items():
        assert run.returncode == 0, outputs[fast][1][-2000:]
    stock, fast = outputs["0"][0].split(maxsplit=2), outputs["1"][0].split(maxsplit=2)
    assert stock[0] == "method" and fast[:2] == ["_DirectTrain", "1"]  # keras-rl's path / ours, used
    assert stock[2] == fast[2]  # metric names
    a, b = np.load(tmp_path / "fast0.npz"), np.load(tmp_path / "fast1.npz")
    assert sorted(a.files) == sorted(b.files) and len(a.files) == 2 * 8 + 17 + 2  # weights, Adam, logs
    assert a["steps"].shape == (5000, 6) and len(a["episode_rewards"]) > 10
    for key in a.files:
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key], equal_nan=True), key


def small_sarsa():
    from rl.agents import SARSAAgent

    agent = SARSAAgent(model=mlp(2, (1, 4)), nb_actions=2, nb_steps_warmup=10, policy=EpsGreedyQPolicy(0.2))
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent, "CartPole-v1", [agent.model]


def small_dqn_hard():  # hard target updates every 25 steps: exercises the direct copy
    agent = DQNAgent(model=mlp(2, (1, 4)), nb_actions=2, memory=SequentialMemory(500, window_length=1),
                     nb_steps_warmup=20, target_model_update=25, policy=EpsGreedyQPolicy(0.2))
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent, "CartPole-v1", [agent.model, agent.target_model]


def small_cem():
    from rl.agents import CEMAgent
    from rl.memory import EpisodeParameterMemory

    memory = EpisodeParameterMemory(100, window_length=1)
    agent = CEMAgent(model=mlp(2, (1, 4)), nb_actions=2, memory=memory, batch_size=10, nb_steps_warmup=50,
                     train_interval=5, elite_frac=0.2)
    agent.compile()
    return agent, "CartPole-v1", [agent.model]


def small_ddpg():  # hard target updates: exercises the weight copies
    agent, _ = pendulum_ddpg([tf.keras.optimizers.Adam(learning_rate=1e-3), "adam"], target_model_update=25)
    return agent, "Pendulum-v1", [agent.actor, agent.critic, agent.target_actor, agent.target_critic]


def small_naf():
    from rl.agents import NAFAgent
    from rl.random import OrnsteinUhlenbeckProcess

    action_input, observation_input = tf.keras.Input((1,)), tf.keras.Input((1, 3))
    x = tf.keras.layers.Concatenate()([action_input, tf.keras.layers.Flatten()(observation_input)])
    l_model = tf.keras.Model([action_input, observation_input], tf.keras.layers.Dense(1)(x))
    agent = NAFAgent(nb_actions=1, V_model=mlp(1), L_model=l_model, mu_model=mlp(1),
                     memory=SequentialMemory(500, window_length=1), nb_steps_warmup=20,
                     random_process=OrnsteinUhlenbeckProcess(0.15, size=1), target_model_update=25)
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3))
    return agent, "Pendulum-v1", [agent.combined_model, agent.target_V_model]


class StepLog(tf.keras.callbacks.Callback):
    """Each step's action, reward and metrics, as one float row."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def on_step_end(self, step, logs=None):
        row = [np.ravel(logs["action"]), [logs["reward"]], np.ravel(logs["metrics"])]
        self.rows.append(np.concatenate(row))


def taken_fast_calls(models):
    """The direct calls installed on ``models`` that were actually taken (not only installed)."""
    calls = [m.__dict__.get(name) for m in models for name in ("predict_on_batch", "train_on_batch")]
    return [call for call in calls if getattr(call, "_checked", None)]


OTHER_AGENT_RUN = """
    import importlib.util, random, sys
    import reproduce  # first, as conftest.py does for the test module
    import numpy as np
    spec = importlib.util.spec_from_file_location("compat_tests", sys.argv[1])
    tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests)
    np.random.seed(1); random.seed(1); tests.tf.compat.v1.set_random_seed(1)
    agent, env_id, models = getattr(tests, sys.argv[2])()
    log = tests.StepLog()
    agent.fit(tests.KerasRLEnv(tests.gym.make(env_id), seed=1), nb_steps=300, verbose=0, callbacks=[log],
              nb_max_episode_steps=100)
    arrays = [w for m in models for w in m.get_weights()] + [np.array(log.rows)]
    np.savez(sys.argv[3], *arrays, taken=np.array(len(tests.taken_fast_calls(models))))
"""


@pytest.mark.parametrize("build", ["small_dqn_hard", "small_sarsa", "small_cem", "small_ddpg", "small_naf"])
def test_fast_path_is_bit_identical_for_the_other_agents(build, tmp_path):
    """Each mode in a fresh process (nothing left over from other tests), same seeds, bit for bit."""
    import os

    results = {}
    for fast in ("0", "1"):
        out = tmp_path / f"{build}_{fast}.npz"
        env = dict(os.environ, REPRODUCE_KERAS_RL_FAST=fast, TF_CPP_MIN_LOG_LEVEL="3")
        argv = [sys.executable, "-c", textwrap.dedent(OTHER_AGENT_RUN), __file__, build, str(out)]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        results[fast] = np.load(out)
    stock, fast = results["0"], results["1"]
    assert int(stock["taken"]) == 0 and int(fast["taken"]) > 0  # keras-rl's path / ours, used
    arrays = [key for key in stock.files if key != "taken"]
    assert sorted(arrays) == sorted(k for k in fast.files if k != "taken")
    assert any(len(stock[k]) == 300 for k in arrays)  # the step log: 300 rows
    for key in arrays:
        same = np.array_equal(stock[key], fast[key], equal_nan=True)
        assert stock[key].dtype == fast[key].dtype and same, key


@pytest.mark.parametrize("shape, inputs", [
    ((4,), [np.ones((1, 4), np.float32), np.ones((3, 4)), np.arange(8.0).reshape(2, 4).astype(object),
            [np.full((2, 4), 0.5, np.float32)]]),
    ((1,), [np.arange(3.0), np.arange(3.0)[:, None], [np.arange(2, dtype=np.float32)]]),  # 1-D: a column
])
def test_direct_predict_equals_keras_for_each_input_signature(shape, inputs):
    from reproduce.fast_session import _DirectPredict

    layers = tf.keras.layers
    model = tf.keras.Sequential([layers.Dense(3, "relu", input_shape=shape), layers.Dense(2)])
    model.compile("sgd", "mse")
    direct = _DirectPredict(model)
    for x in inputs:
        for _ in range(2):  # the first call of a signature goes through Keras; the second is direct
            got, want = direct(x), model.predict_on_batch(x)
            assert got.dtype == want.dtype and np.array_equal(got, want)
    assert len(direct._checked) == len(inputs)  # each signature taken directly


def test_inline_callable_flushes_denormals_as_tensorflows_pool_does_and_restores_the_thread():
    from reproduce.fast_session import _fenv, _inline_callable

    if _fenv() is None:
        pytest.skip("the calling thread's float environment is only arranged on Linux x86-64")
    x = tf.compat.v1.placeholder(tf.float32, ())
    y = x * 0.5  # a denormal from the smallest normal float32: the pool's threads flush it to 0
    session = tf.compat.v1.keras.backend.get_session()
    tiny = np.float32(np.finfo(np.float32).tiny)
    pool = session.run(y, {x: tiny})
    (inline,) = _inline_callable(session, [x.name], [y.name])(tiny)
    assert inline == pool == 0.0
    assert tiny * np.float32(0.5) > 0  # numpy in this thread still keeps denormals afterwards
