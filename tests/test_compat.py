"""Each compat fix, tested on the real keras-rl2 / tf-keras / numpy 2 stack."""

import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from rl.agents import DQNAgent
from rl.core import Agent
from rl.memory import SequentialMemory
from rl.policy import EpsGreedyQPolicy

from reproduce import compat
from reproduce.adapters import KerasRLEnv, OneHotProcessor


@pytest.fixture(autouse=True)
def fresh_graph():
    """Each test builds in a fresh graph and session (keras-rl work slows down as one graph grows)."""
    tf.compat.v1.keras.backend.clear_session()


def nchain_agent(target_model_update=1e-2, warmup=20, optimizer=None):
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(1, 5)),
        tf.keras.layers.Dense(8, activation="relu"),
        tf.keras.layers.Dense(2, activation="linear"),
    ])
    agent = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=1000, window_length=1),
                     processor=OneHotProcessor(5), nb_steps_warmup=warmup, batch_size=8,
                     target_model_update=target_model_update, policy=EpsGreedyQPolicy(0.3))
    agent.compile(optimizer if optimizer is not None else tf.keras.optimizers.Adam(learning_rate=1e-2))
    return agent


def nchain_env(seed=0):
    return KerasRLEnv(gym.make("NChain-v0"), seed=seed)


def run_python(code, env=None, timeout=300):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)


def test_all_fixes_are_active_and_tf_keras_is_keras_2():
    names = [fix.split(":")[0] for fix in compat.ACTIVE_FIXES]
    assert names.count("atari-ids") == 1  # runs when gymnasium loads, which may come first
    names.remove("atari-ids")
    assert names == ["keras2-optimizer-args", "legacy-keras", "keras-version", "graph-mode",
                     "keras-callbacks-in-fit", "int64-counters", "graph-isolation", "info-accumulator",
                     "clone-safe-mode", "clone-optimizer", "legacy-optimizer", "compile-metrics",
                     "ddpg-optimizers", "ordered-soft-updates-ddpg", "save-no-prompt", "ordered-soft-updates",
                     "loop-gradients", "keras-is-tf-keras", "hdf5-agent-weights", "fast-path"]
    assert tf.keras.layers.Dense.__module__.startswith("tf_keras")
    assert compat.apply() is compat.ACTIVE_FIXES  # applying twice changes nothing


def test_keras_version_import_works():  # fix keras-version
    import rl.callbacks  # noqa: F401
    from tensorflow.keras import __version__

    assert __version__.startswith("2.")


class _CountingAgent(Agent):
    """The smallest real rl.core.Agent: constant action, no learning (isolates fit's counters)."""

    def __init__(self):
        super().__init__()
        self.compiled = True

    def forward(self, observation):
        return 0

    def backward(self, reward, terminal):
        return []

    @property
    def metrics_names(self):
        return []


def test_fit_counts_past_int16_range():  # fix int64-counters
    agent = _CountingAgent()
    agent.fit(nchain_env(), nb_steps=33_000, verbose=0)
    assert agent.step == 33_000


def test_dqn_fit_past_int16_range_with_warmup_only():  # fix int64-counters, real DQNAgent
    agent = nchain_agent(warmup=40_000)
    agent.fit(nchain_env(), nb_steps=32_800, verbose=0)
    assert agent.step == 32_800


@pytest.mark.parametrize("target_model_update", [1e-2, 50])
def test_soft_and_hard_target_updates_compile_and_train(target_model_update):  # fix legacy-optimizer
    agent = nchain_agent(target_model_update=target_model_update)
    before = [w.copy() for w in agent.model.get_weights()]
    target_before = [w.copy() for w in agent.target_model.get_weights()]
    # keras-rl's backward sees steps 0..N-1; a hard update fires when step % 50 == 0, so with
    # 201 steps the last thing that happens is a hard copy at step 200.
    agent.fit(nchain_env(), nb_steps=201, verbose=0)
    online, target = agent.model.get_weights(), agent.target_model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(before, online))
    assert any(not np.allclose(a, b) for a, b in zip(target_before, target))
    if target_model_update == 50:
        for a, b in zip(online, target):
            np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_optimizer_names_compile_with_soft_updates(optimizer):
    agent = nchain_agent(optimizer=optimizer)
    agent.fit(nchain_env(), nb_steps=50, verbose=0)
    assert agent.step == 50


def test_current_optimizer_converts_with_same_hyperparameters():
    legacy = compat.to_legacy_optimizer(
        tf.keras.optimizers.Adam(learning_rate=3e-4, beta_1=0.8, epsilon=1e-5, clipnorm=10.0)
    )
    assert isinstance(legacy, tf.keras.optimizers.legacy.Adam)
    config = legacy.get_config()
    assert config["learning_rate"] == pytest.approx(3e-4)
    assert config["beta_1"] == pytest.approx(0.8)
    assert config["epsilon"] == pytest.approx(1e-5)
    assert config["clipnorm"] == pytest.approx(10.0)
    already = tf.keras.optimizers.legacy.RMSprop()
    assert compat.to_legacy_optimizer(already) is already


def test_unconvertible_optimizer_settings_raise():
    with pytest.raises(ValueError, match="weight_decay=.* has no legacy-optimizer equivalent"):
        compat.to_legacy_optimizer(tf.keras.optimizers.Adam(weight_decay=0.1))
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        compat.to_legacy_optimizer("adamm")
    with pytest.raises(TypeError, match="expected a Keras optimizer"):
        compat.to_legacy_optimizer(3)


def test_compile_twice_does_not_duplicate_metrics():  # fix compile-metrics
    first, second = nchain_agent(), nchain_agent()
    assert first.metrics_names == second.metrics_names
    assert second.metrics_names.count("mean_q") == 1


def test_models_built_before_and_after_importing_rl_agents_work():  # fix graph-mode
    result = run_python("""
        import reproduce, tensorflow as tf
        def build():
            return tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(1, 4)),
                                        tf.keras.layers.Dense(8, activation="relu"),
                                        tf.keras.layers.Dense(2)])
        before = build()
        assert not tf.executing_eagerly()
        import gymnasium as gym
        from rl.agents import DQNAgent
        from rl.memory import SequentialMemory
        from rl.policy import BoltzmannQPolicy
        from reproduce.adapters import KerasRLEnv
        after = build()
        for model in (before, after):
            agent = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(500, window_length=1),
                             nb_steps_warmup=20, target_model_update=1e-2, policy=BoltzmannQPolicy())
            agent.compile("adam")
            agent.fit(KerasRLEnv(gym.make("CartPole-v1"), seed=0), nb_steps=60, verbose=0)
            assert agent.step == 60
        print("OK")
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("OK")


def test_keras3_tensorflow_imported_first_gives_documented_error():  # fix legacy-keras
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    result = run_python("""
        import tensorflow as tf
        tf.keras.layers.Dense(1)  # resolves tf.keras to Keras 3
        import reproduce
    """, env=env)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "KerasBackendError" in last
    assert "import `reproduce` before tensorflow, or set TF_USE_LEGACY_KERAS=1" in last


def test_save_weights_overwrites_without_prompt_with_stdin_closed(tmp_path):  # fix save-no-prompt
    result = run_python(f"""
        import reproduce, tensorflow as tf
        from rl.agents import DQNAgent
        from rl.memory import SequentialMemory
        model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(1, 4)), tf.keras.layers.Dense(2)])
        agent = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(10, window_length=1))
        agent.compile("adam")
        path = {str(tmp_path / "w.h5")!r}
        agent.save_weights(path)
        agent.save_weights(path)
        print("OK")
    """, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("OK")


SOFT_UPDATE_RUN = """
    import random
    import reproduce
    import numpy as np, gymnasium as gym, tensorflow as tf
    from rl.agents import DQNAgent
    from rl.memory import SequentialMemory
    from rl.policy import BoltzmannQPolicy
    from reproduce.adapters import KerasRLEnv
    random.seed(0); np.random.seed(0); tf.compat.v1.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(1, 4)),
                                 tf.keras.layers.Dense(16, activation="relu"), tf.keras.layers.Dense(2)])
    agent = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=5000, window_length=1),
                     nb_steps_warmup=20, target_model_update=1e-2, policy=BoltzmannQPolicy())
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3))
    agent.fit(KerasRLEnv(gym.make("CartPole-v1"), seed=0), nb_steps=400, verbose=0)
    weights = agent.model.get_weights() + agent.target_model.get_weights()
    print(np.concatenate([w.ravel() for w in weights]).tobytes().hex())
"""


def test_soft_target_updates_are_deterministic():  # fix ordered-soft-updates
    first, second = run_python(SOFT_UPDATE_RUN), run_python(SOFT_UPDATE_RUN)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.split()[-1] == second.stdout.split()[-1]


DDPG_SOFT_UPDATE_RUN = """
    import reproduce
    import numpy as np, gymnasium as gym
    from reproduce.adapters import KerasRLEnv
    from reproduce.kerasrl.run import seed_everything
    from reproduce.kerasrl.examples import ddpg_pendulum
    seed_everything(0)
    env = KerasRLEnv(gym.make("Pendulum-v1"), seed=0)
    agent = ddpg_pendulum(None, env)  # keras-rl's example: soft target updates at 1e-3
    agent.fit(env, nb_steps=300, verbose=0)
    weights = agent.actor.get_weights() + agent.target_actor.get_weights() + agent.target_critic.get_weights()
    print(np.concatenate([w.ravel() for w in weights]).tobytes().hex())
"""


def test_ddpg_soft_target_updates_are_deterministic():  # fix ordered-soft-updates-ddpg
    """Three runs (without the fix, one in three diverged): all the same bytes."""
    runs = [run_python(DDPG_SOFT_UPDATE_RUN) for _ in range(3)]
    assert all(run.returncode == 0 for run in runs), [run.stderr[-2000:] for run in runs]
    assert len({run.stdout.split()[-1] for run in runs}) == 1


# --- keras2-optimizer-args: Keras 2 spellings mean what they meant in Keras 2.10 ---------------

def unit_agent(optimizer, target_model_update=1e-2):
    """A DQNAgent whose Q(s=1) is the kernel: one update on target (1, 0) moves weight 0 by lr * 1."""
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(1, 1)),
                                 tf.keras.layers.Dense(2, use_bias=False, kernel_initializer="zeros")])
    agent = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(10, window_length=1),
                     nb_steps_warmup=1, target_model_update=target_model_update, policy=EpsGreedyQPolicy(0.1))
    agent.compile(optimizer)
    return agent


def effective_learning_rate(agent):
    optimizer = agent.trainable_model.optimizer
    inner = getattr(optimizer, "optimizer", optimizer)  # AdditionalUpdatesOptimizer wraps it
    return float(tf.compat.v1.keras.backend.get_value(inner._decayed_lr(tf.float32)))


def one_update(agent):
    """One real gradient step of the agent's compiled training model; the change of weight 0."""
    before = agent.model.get_weights()[0][0, 0]
    targets, masks = np.array([[1.0, 0.0]], np.float32), np.array([[1.0, 0.0]], np.float32)
    agent.trainable_model.train_on_batch([np.ones((1, 1, 1), np.float32), targets, masks],
                                         [np.ones(1, np.float32), targets])
    return agent.model.get_weights()[0][0, 0] - before


OPTIMIZERS = {"Adam": tf.keras.optimizers.Adam, "SGD": tf.keras.optimizers.SGD,
              "legacy.Adam": tf.keras.optimizers.legacy.Adam, "legacy.SGD": tf.keras.optimizers.legacy.SGD}


@pytest.mark.parametrize("name, lr", [("Adam", 0.25), ("SGD", 0.2), ("legacy.Adam", 0.25),
                                      ("legacy.SGD", 0.2)])
def test_lr_trains_at_the_rate_written(name, lr):  # fix keras2-optimizer-args
    with pytest.warns(UserWarning) as record:
        optimizer = OPTIMIZERS[name](lr=lr)
    assert [str(w.message) for w in record if "lr" in str(w.message)][1:] == []  # exactly one warning
    agent = unit_agent(optimizer)
    assert effective_learning_rate(agent) == pytest.approx(lr)
    # gradient of 0.5 * (1 - q)^2 at q = 0 is -1: SGD moves lr * 1, Adam's first step lr * g / |g|
    assert one_update(agent) == pytest.approx(lr, rel=1e-4)
    assert agent.model.get_weights()[0][0, 1] == 0.0  # masked action untouched


@pytest.mark.parametrize("name", ["SGD", "legacy.SGD"])
def test_decay_is_keras2_time_based_decay(name):  # fix keras2-optimizer-args
    with pytest.warns(UserWarning):
        agent = unit_agent(OPTIMIZERS[name](lr=0.2, decay=1.0), target_model_update=10)
    first = one_update(agent)
    second = one_update(agent)
    assert first == pytest.approx(0.2)
    assert second == pytest.approx(0.2 / (1 + 1.0 * 1) * (1 - first))  # lr / (1 + decay * iterations)


def test_a_decay_schedule_builds_every_time_in_graph_mode():  # fix keras2-optimizer-args
    """The schedule's learning-rate variable starts from schedule(iterations); both used to be
    initialized in one session run, which read `iterations` first in about 1 build in 8."""
    for _ in range(25):
        tf.compat.v1.keras.backend.clear_session()
        with pytest.warns(UserWarning):
            optimizer = tf.keras.optimizers.SGD(lr=0.2, decay=1.0)
        unit_agent(optimizer, target_model_update=10)
    # a session set after the optimizer is built still gets every variable
    with pytest.warns(UserWarning):
        optimizer = tf.keras.optimizers.SGD(lr=0.2, decay=1.0)
    tf.compat.v1.keras.backend.set_session(tf.compat.v1.Session())
    assert one_update(unit_agent(optimizer, target_model_update=10)) == pytest.approx(0.2)


def test_keras2_epsilon_none_is_the_default():  # fix keras2-optimizer-args
    with pytest.warns(UserWarning, match=r"Adam\(epsilon=None\) is Keras 2 spelling"):
        assert tf.keras.optimizers.Adam(epsilon=None).epsilon == pytest.approx(1e-7)


def test_unconvertible_keras2_arguments_raise_one_line():  # fix keras2-optimizer-args
    cases = [
        (lambda: tf.keras.optimizers.Adam(0.1, lr=0.2), r"Adam\(lr=\.\.\., learning_rate=\.\.\.\) sets the "
                                                         r"learning rate twice; pass only learning_rate=0.2"),
        (lambda: tf.keras.optimizers.SGD(lr=0.1, decay=-1.0), r"needs decay >= 0"),
        (lambda: tf.keras.optimizers.SGD(learning_rate=tf.keras.optimizers.schedules.ExponentialDecay(
            0.1, 10, 0.9), decay=0.1), r"fold the decay into your schedule"),
    ]
    for build, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            build()
        assert "\n" not in str(info.value)


# --- ddpg-optimizers, clone-optimizer -----------------------------------------------------------

def mlp(outputs, observation_shape=(1, 3)):
    return tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=observation_shape),
                                tf.keras.layers.Dense(8, "relu"), tf.keras.layers.Dense(outputs)])


def pendulum_ddpg(optimizer, target_model_update=1e-3):
    from rl.agents import DDPGAgent
    from rl.random import OrnsteinUhlenbeckProcess

    env = KerasRLEnv(gym.make("Pendulum-v1"), seed=0)
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
    return agent, env


def test_ddpg_compiles_a_pair_of_current_optimizers_at_their_rates():  # fix ddpg-optimizers
    agent, env = pendulum_ddpg([tf.keras.optimizers.Adam(learning_rate=1e-3),
                                tf.keras.optimizers.Adam(learning_rate=1e-4)])
    get = tf.compat.v1.keras.backend.get_value
    assert get(agent.actor_optimizer.learning_rate) == pytest.approx(1e-3)
    assert get(agent.critic.optimizer.optimizer.learning_rate) == pytest.approx(1e-4)
    history = agent.fit(env, nb_steps=60, verbose=0, nb_max_episode_steps=30)
    assert agent.step == 60 and len(history.history["episode_reward"]) == 2


@pytest.mark.parametrize("optimizer", ["adam", "current Adam"])
def test_ddpg_single_optimizer_is_cloned_for_the_critic(optimizer):  # fix ddpg-optimizers, clone-optimizer
    if optimizer == "current Adam":
        optimizer = tf.keras.optimizers.Adam(learning_rate=3e-4)
    agent, env = pendulum_ddpg(optimizer)
    critic_optimizer = agent.critic.optimizer.optimizer
    assert critic_optimizer is not agent.actor_optimizer
    assert type(critic_optimizer) is type(agent.actor_optimizer)
    get = tf.compat.v1.keras.backend.get_value
    assert get(critic_optimizer.learning_rate) == pytest.approx(get(agent.actor_optimizer.learning_rate))
    agent.fit(env, nb_steps=40, verbose=0, nb_max_episode_steps=30)
    assert agent.step == 40


def test_clone_optimizer_same_class_and_hyperparameters_in_graph_mode():  # fix clone-optimizer
    from rl.util import clone_optimizer

    get = tf.compat.v1.keras.backend.get_value
    current = tf.keras.optimizers.SGD(learning_rate=0.3, momentum=0.7, clipnorm=2.0)
    clone = clone_optimizer(current)
    assert type(clone) is tf.keras.optimizers.SGD and clone is not current
    assert get(clone.learning_rate) == get(current.learning_rate) == pytest.approx(0.3)
    assert (clone.momentum, clone.clipnorm) == (0.7, 2.0)
    legacy = tf.keras.optimizers.legacy.Adam(learning_rate=0.01, beta_1=0.5)
    clone = clone_optimizer(legacy)
    assert type(clone) is tf.keras.optimizers.legacy.Adam
    assert clone.get_config()["beta_1"] == pytest.approx(0.5)
    assert type(clone_optimizer("sgd")) is tf.keras.optimizers.SGD  # the current class, as asked
    with pytest.raises(ValueError, match="unknown optimizer 'sgdd'"):
        clone_optimizer("sgdd")


# --- clone-safe-mode: dueling heads --------------------------------------------------------------

@pytest.mark.parametrize("dueling_type", ["avg", "max", "naive"])
def test_dueling_head_clones_and_trains(dueling_type):  # fix clone-safe-mode
    # keras-rl's examples/duel_dqn_cartpole.py, as written, on gymnasium's CartPole through the adapter
    from rl.policy import BoltzmannQPolicy
    from tensorflow.keras.layers import Activation, Dense, Flatten
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.optimizers import Adam

    env = KerasRLEnv(gym.make("CartPole-v1"), seed=123)
    model = Sequential()
    model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
    for _ in range(3):
        model.add(Dense(16))
        model.add(Activation("relu"))
    model.add(Dense(env.action_space.n, activation="linear"))
    dqn = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=50000, window_length=1),
                   nb_steps_warmup=10, enable_dueling_network=True, dueling_type=dueling_type,
                   target_model_update=1e-2, policy=BoltzmannQPolicy())
    with pytest.warns(UserWarning, match="lr"):
        dqn.compile(Adam(lr=1e-3), metrics=["mae"])
    dqn.fit(env, nb_steps=30, verbose=0)
    assert isinstance(dqn.target_model.layers[-1], tf.keras.layers.Lambda)
    dqn.update_target_model_hard()
    obs = np.random.default_rng(0).normal(size=(5, 1, 4)).astype(np.float32)
    np.testing.assert_array_equal(dqn.model.predict_on_batch(obs), dqn.target_model.predict_on_batch(obs))
    # safe mode is untouched outside the clone: loading a Lambda from a config still refuses
    with pytest.raises(ValueError, match="deserialization of a Lambda layer"):
        tf.keras.models.model_from_config({"class_name": "Functional", "config": dqn.model.get_config()})


# --- loop-gradients (NAF's scan here; recurrent Q-networks in tests/test_user_scripts.py) ---------

def test_naf_trains_with_finite_losses_and_the_setting_is_restored():  # fix loop-gradients
    from rl.agents import NAFAgent
    from rl.random import OrnsteinUhlenbeckProcess
    from tensorflow.python.ops import control_flow_util_v2

    env = KerasRLEnv(gym.make("Pendulum-v1"), seed=0)
    v_model, mu_model = mlp(1), mlp(1)
    action_input, observation_input = tf.keras.Input((1,)), tf.keras.Input((1, 3))
    x = tf.keras.layers.Concatenate()([action_input, tf.keras.layers.Flatten()(observation_input)])
    l_model = tf.keras.Model([action_input, observation_input], tf.keras.layers.Dense(1)(x))
    agent = NAFAgent(nb_actions=1, V_model=v_model, L_model=l_model, mu_model=mu_model,
                     memory=SequentialMemory(500, window_length=1), nb_steps_warmup=20,
                     random_process=OrnsteinUhlenbeckProcess(0.15, size=1), target_model_update=1e-3)
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3))
    assert control_flow_util_v2._EXPERIMENTAL_OUTPUT_ALL_INTERMEDIATES_OVERRIDE is None
    losses = []

    class Losses(tf.keras.callbacks.Callback):
        def on_step_end(self, step, logs=None):
            losses.append(logs["metrics"][0])

    agent.fit(env, nb_steps=80, verbose=0, nb_max_episode_steps=40, callbacks=[Losses()])
    trained = np.array(losses[21:])
    assert len(trained) == 59 and np.isfinite(trained).all()


# --- graph-isolation -----------------------------------------------------------------------------

def test_an_unusable_graph_does_not_break_the_next_agent():  # fix graph-isolation
    result = run_python("""
        import contextlib
        import reproduce, gymnasium as gym, tensorflow as tf
        from rl.agents import DQNAgent
        from rl.memory import SequentialMemory
        from reproduce import compat
        from reproduce.adapters import KerasRLEnv

        compat._output_all_intermediates = contextlib.nullcontext  # fix loop-gradients off: a broken graph

        def scan_head(x):  # a tf.scan in the head: TensorFlow cannot build its gradient in graph mode
            return tf.scan(lambda acc, row: tf.exp(row) * tf.cast(tf.shape(row)[0], row.dtype), x,
                           initializer=tf.zeros_like(x[0]))

        def agent(head):
            inputs = tf.keras.Input((1, 4))
            q = tf.keras.layers.Dense(2)(tf.keras.layers.Flatten()(inputs))
            model = tf.keras.Model(inputs, tf.keras.layers.Lambda(scan_head)(q) if head else q)
            dqn = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(100, window_length=1),
                           nb_steps_warmup=5, target_model_update=10)
            dqn.compile("sgd")
            return dqn

        broken = agent(head=True)
        try:
            broken.fit(KerasRLEnv(gym.make("CartPole-v1"), seed=0), nb_steps=20, verbose=0)
        except tf.errors.InvalidArgumentError as exc:
            print("first agent failed:", "Connecting to invalid output" in str(exc))
        second = agent(head=False)
        second.fit(KerasRLEnv(gym.make("CartPole-v1"), seed=0), nb_steps=20, verbose=0)
        print("second agent trained", second.step)
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[-3:-1] == ["first agent failed: True", "second agent trained 20"]


def test_keras_step_logs_are_built_only_for_keras_hooks_that_act(monkeypatch, tmp_path):
    # fix keras-callbacks-in-fit: keras-rl's History and a CSVLogger leave on_batch_* at Keras's
    # empty default, so no step's Keras logs are built for them (they cost more than the step)
    built = []
    real = compat._keras_step_logs
    monkeypatch.setattr(compat, "_keras_step_logs", lambda agent, logs: built.append(1) or real(agent, logs))
    agent = nchain_agent()
    csv = tf.keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))
    agent.fit(nchain_env(), nb_steps=40, verbose=0, nb_max_episode_steps=20, callbacks=[csv])
    assert built == [] and len((tmp_path / "log.csv").read_text().splitlines()) == 3
    batches = []

    class Batches(tf.keras.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            batches.append(logs)

    agent.fit(nchain_env(), nb_steps=40, verbose=0, callbacks=[Batches(), csv])
    assert len(built) == len(batches) == 40  # on_step_end only: on_batch_begin is Keras's default
    assert {"reward", "loss", "mean_q"} <= set(batches[-1]) and np.isfinite(batches[-1]["loss"])
