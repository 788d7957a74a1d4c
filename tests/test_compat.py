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
    assert names == ["legacy-keras", "keras-version", "graph-mode", "int64-counters",
                     "legacy-optimizer", "compile-metrics", "save-no-prompt", "ordered-soft-updates"]
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
