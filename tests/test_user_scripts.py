"""keras-rl scripts as users write them (issue 20): each test is a small script of the kind that broke.

`import keras`, recurrent Q-networks, Keras's own callbacks in ``agent.fit``, DDPG/NAF weight files,
``info`` keras-rl cannot sum (Taxi's action mask), old-gym custom envs with a vector reward and a
Processor, resuming a custom env, seeding, run directories, and the example of
``docs/keras-rl-scripts.md`` executed as written. A few hundred steps each.
"""

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from rl.agents import DDPGAgent, DQNAgent, NAFAgent, SARSAAgent
from rl.callbacks import Callback
from rl.core import Processor
from rl.memory import SequentialMemory
from rl.policy import EpsGreedyQPolicy
from rl.random import OrnsteinUhlenbeckProcess

import callbacks
import reproduce
from reproduce import compat
from reproduce.adapters import KerasRLEnv, OneHotProcessor

DOC = Path(__file__).resolve().parent.parent / "docs" / "keras-rl-scripts.md"
layers = tf.keras.layers


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.compat.v1.keras.backend.clear_session()


def run_python(code, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, env=env)


# --- keras-is-tf-keras: `import keras` after `import reproduce` ---------------------------------

KERAS_SCRIPT = """
    import reproduce
    import gymnasium as gym
    import keras
    from keras.callbacks import CSVLogger
    from keras.layers import Activation, Dense, Flatten
    from keras.models import Sequential
    from keras.optimizers import Adam
    from rl.agents.dqn import DQNAgent
    from rl.memory import SequentialMemory
    from reproduce.adapters import KerasRLEnv

    env = KerasRLEnv(gym.make("CartPole-v1"), seed=0)
    model = Sequential()
    model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
    model.add(Dense(env.action_space.n))  # a numpy int: Keras 3 refuses it
    model.add(Activation("linear"))
    dqn = DQNAgent(model=model, nb_actions=env.action_space.n, nb_steps_warmup=10,
                   memory=SequentialMemory(limit=1000, window_length=1), target_model_update=1e-2)
    dqn.compile(Adam(lr=1e-3), metrics=["mae"])
    dqn.fit(env, nb_steps=40, verbose=0, nb_max_episode_steps=20, callbacks=[CSVLogger("log.csv")])
    print(keras.__version__, Dense.__module__, dqn.step)
"""

KERAS3_FIRST = """
    import keras
    import reproduce
    from rl.agents.dqn import DQNAgent
    from rl.memory import SequentialMemory
    model = keras.Sequential([keras.Input((1, 4)), keras.layers.Flatten(), keras.layers.Dense(2)])
    DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=100, window_length=1))
"""


def test_import_keras_is_tf_keras_and_a_keras3_model_is_one_line(tmp_path):  # fix keras-is-tf-keras
    runs = [run_python(KERAS_SCRIPT, cwd=tmp_path), run_python(KERAS3_FIRST, cwd=tmp_path)]
    (out, err), (_, err3) = [run.communicate(timeout=300) for run in runs]
    assert runs[0].returncode == 0, err[-2000:]
    version, module, steps = out.split()[-3:]
    assert version.startswith("2.") and module.startswith("tf_keras.") and steps == "40"
    assert (tmp_path / "log.csv").read_text().startswith("epoch,episode_reward")
    assert runs[1].returncode != 0
    assert "(Keras 3) was imported before `reproduce`" in err3  # said at import ...
    last = err3.strip().splitlines()[-1]  # ... and where it fails: one line, what to do
    assert last.startswith("reproduce.compat.KerasBackendError: DQNAgent.__init__ got a Keras 3 Sequential")
    assert last.endswith("put `import reproduce` first in your script (then `keras` is tf-keras)")


# --- loop-gradients: recurrent Q-networks, window_length > 1 -----------------------------------

def cartpole(seed=0):
    return KerasRLEnv(gym.make("CartPole-v1"), seed=seed)


def recurrent(cell, outputs, window=4, features=4):
    return tf.keras.Sequential([cell(8, input_shape=(window, features)), layers.Dense(outputs)])


def pendulum_ddpg(actor, critic_layer, window=1, target_model_update=1e-3):
    action_input = tf.keras.Input((1,), name="action_input")
    observation_input = tf.keras.Input((window, 3), name="observation_input")
    x = critic_layer(observation_input)
    x = layers.Dense(8, activation="relu")(layers.Concatenate()([action_input, x]))
    critic = tf.keras.Model([action_input, observation_input], layers.Dense(1)(x))
    agent = DDPGAgent(nb_actions=1, actor=actor, critic=critic, critic_action_input=action_input,
                      memory=SequentialMemory(500, window_length=window), nb_steps_warmup_critic=20,
                      nb_steps_warmup_actor=20, random_process=OrnsteinUhlenbeckProcess(0.15, size=1),
                      target_model_update=target_model_update)
    agent.compile([tf.keras.optimizers.Adam(learning_rate=1e-3), "adam"], metrics=["mae"])
    return agent


def lstm_dqn():  # double + dueling DQN on a windowed LSTM
    agent = DQNAgent(model=recurrent(layers.LSTM, 2), nb_actions=2,
                     memory=SequentialMemory(500, window_length=4), nb_steps_warmup=20, batch_size=8,
                     target_model_update=1e-2, enable_double_dqn=True,
                     enable_dueling_network=True, policy=EpsGreedyQPolicy(0.2))
    agent.compile("adam")
    return agent, cartpole()


def gru_sarsa():
    agent = SARSAAgent(model=recurrent(layers.GRU, 2, window=1), nb_actions=2, nb_steps_warmup=10,
                       policy=EpsGreedyQPolicy(0.2))
    agent.compile("adam")
    return agent, cartpole()


def lstm_ddpg():
    actor = recurrent(layers.LSTM, 1, window=3, features=3)
    return pendulum_ddpg(actor, layers.LSTM(8), window=3), KerasRLEnv(gym.make("Pendulum-v1"), seed=0)


@pytest.mark.parametrize("build", [lstm_dqn, gru_sarsa, lstm_ddpg])
def test_recurrent_q_networks_train(build):  # fix loop-gradients
    agent, env = build()
    losses = []

    class Losses(Callback):
        def on_step_end(self, step, logs={}):  # noqa: B006
            losses.append(logs["metrics"][0])

    agent.fit(env, nb_steps=60, verbose=0, nb_max_episode_steps=30, callbacks=[Losses()])
    trained = np.array(losses)[~np.isnan(losses)]
    assert agent.step == 60 and len(trained) >= 35 and np.isfinite(trained).all()


# --- keras-callbacks-in-fit, hdf5-agent-weights: DDPG with TensorBoard and .h5f weights ---------

def mlp(outputs, observation_shape=(1, 3)):
    return tf.keras.Sequential([layers.Flatten(input_shape=observation_shape),
                                layers.Dense(8, activation="relu"), layers.Dense(outputs)])


def pendulum():
    return KerasRLEnv(gym.make("Pendulum-v1"), seed=0)


def read_events(logdir):
    values = {}
    for path in Path(logdir).rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                values.setdefault(value.tag, []).append(value.simple_value)
    return values


@pytest.mark.parametrize("name, target_model_update", [("ddpg_weights.h5f", 1e-3), ("ddpg_weights.h5", 25)])
def test_ddpg_with_tensorboard_and_weight_files(tmp_path, name, target_model_update):
    # fixes keras-callbacks-in-fit and hdf5-agent-weights, as keras-rl's ddpg_pendulum.py + TensorBoard
    agent = pendulum_ddpg(mlp(1), layers.Flatten(), target_model_update=target_model_update)
    epochs = []
    keras_callbacks = [tf.keras.callbacks.TensorBoard(log_dir=str(tmp_path / "tb")),
                       tf.keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
                       tf.keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, lg: epochs.append(epoch))]
    history = agent.fit(pendulum(), nb_steps=120, verbose=0, nb_max_episode_steps=40,
                        callbacks=keras_callbacks)
    rewards = history.history["episode_reward"]
    assert epochs == [0, 1, 2] and len(rewards) == 3
    assert read_events(tmp_path / "tb")["epoch_episode_reward"] == pytest.approx(rewards)
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 4
    path = str(tmp_path / name)
    agent.save_weights(path)
    stem, ext = os.path.splitext(name)
    assert sorted(p.name for p in tmp_path.glob(stem + "*")) == [f"{stem}_actor{ext}", f"{stem}_critic{ext}"]
    fresh = pendulum_ddpg(mlp(1), layers.Flatten(), target_model_update=target_model_update)
    fresh.load_weights(path)
    for model in ("actor", "critic"):
        for got, want in zip(getattr(fresh, model).get_weights(), getattr(agent, model).get_weights()):
            assert got.dtype == want.dtype and np.array_equal(got, want)
    for got, want in zip(fresh.target_actor.get_weights(), agent.actor.get_weights()):
        assert np.array_equal(got, want)  # keras-rl's load_weights syncs the targets


def test_naf_weights_round_trip_with_keras_rls_file_name(tmp_path):  # fix hdf5-agent-weights
    def naf():
        action_input, observation_input = tf.keras.Input((1,)), tf.keras.Input((1, 3))
        x = layers.Concatenate()([action_input, layers.Flatten()(observation_input)])
        l_model = tf.keras.Model([action_input, observation_input], layers.Dense(1)(x))
        agent = NAFAgent(nb_actions=1, V_model=mlp(1), L_model=l_model, mu_model=mlp(1),
                         memory=SequentialMemory(500, window_length=1), nb_steps_warmup=20,
                         random_process=OrnsteinUhlenbeckProcess(0.15, size=1), target_model_update=1e-3)
        agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3))
        return agent

    agent = naf()
    agent.fit(pendulum(), nb_steps=50, verbose=0)
    agent.save_weights(str(tmp_path / "cdqn_weights.h5f"))
    fresh = naf()
    fresh.load_weights(str(tmp_path / "cdqn_weights.h5f"))
    for got, want in zip(fresh.combined_model.get_weights(), agent.combined_model.get_weights()):
        assert np.array_equal(got, want)


def small_dqn(env_shape=(1, 4), nb_actions=2, processor=None, warmup=10):
    model = tf.keras.Sequential([layers.Flatten(input_shape=env_shape), layers.Dense(16, activation="relu"),
                                 layers.Dense(nb_actions)])
    agent = DQNAgent(model=model, nb_actions=nb_actions, memory=SequentialMemory(1000, window_length=1),
                     nb_steps_warmup=warmup, batch_size=8, target_model_update=1e-2, processor=processor,
                     policy=EpsGreedyQPolicy(0.2))
    agent.compile("adam")
    return agent


def test_early_stopping_ends_fit_and_model_callbacks_are_refused():  # fix keras-callbacks-in-fit
    agent = small_dqn()
    stop = tf.keras.callbacks.EarlyStopping(monitor="episode_reward", mode="max", min_delta=1e9, patience=1)
    history = agent.fit(cartpole(), nb_steps=2000, verbose=0, callbacks=[stop])
    assert len(history.history["episode_reward"]) == 2 and agent.step < 2000
    with pytest.raises(TypeError, match=r"^Keras's ModelCheckpoint acts on a Keras model, .*"
                                        r"rl.callbacks.ModelIntervalCheckpoint\(filepath, interval\)"):
        agent.fit(cartpole(), nb_steps=10, verbose=0, callbacks=[tf.keras.callbacks.ModelCheckpoint("w.h5")])


# --- info-accumulator: Taxi's action mask ----------------------------------------------------

def test_taxi_action_mask_reaches_callbacks_and_fit_and_test_run():  # fix info-accumulator
    env = KerasRLEnv(gym.make("Taxi-v4"), seed=0)
    agent = small_dqn((1, 500), 6, processor=OneHotProcessor(500), warmup=20)
    seen = []

    class Seen(Callback):
        def on_step_end(self, step, logs={}):  # noqa: B006
            seen.append(logs)

    agent.fit(env, nb_steps=60, verbose=1, log_interval=30, nb_max_episode_steps=25, callbacks=[Seen()])
    assert set(seen[-1]["info"]) == {"prob", "terminated", "truncated"}  # keras-rl's sums, as before
    mask = seen[-1]["unsummed_info"]["action_mask"]  # the env's own value, unchanged
    assert mask.dtype == np.int8 and mask.shape == (6,)
    history = agent.test(env, nb_episodes=1, visualize=False, verbose=0, nb_max_episode_steps=20)
    assert history.history["nb_steps"] == [20]


# --- old-gym custom envs: KerasRLEnv, a vector reward, a Processor, resume --------------------

class OldGymCorridor:
    """An env written for old gym: reset() -> obs, a 4-tuple step, seed(); a RandomState, a list."""

    def __init__(self, length=6):
        self.length = length
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Box(0.0, float(length), (2,), np.float32)
        self.seed()
        self.pos = None

    def seed(self, seed=None):
        self.np_random = np.random.RandomState(seed)
        return [seed]

    def reset(self):
        self.pos, self.t, self.trail = 0, 0, []
        return self._obs()

    def _obs(self):
        return np.array([self.pos, len(self.trail) % 3], np.float32)

    def step(self, action):
        slip = self.np_random.rand() < 0.2
        self.pos = max(0, self.pos + (1 if (int(action) == 1) != slip else -1))
        self.t += 1
        self.trail.append(self.pos)
        done = self.pos >= self.length or self.t >= 15
        reward = np.array([float(self.pos >= self.length), -0.01 * self.pos])  # a vector reward
        return self._obs(), reward, done, {"trail": list(self.trail), "t": self.t}


class Gym09Corridor(gym.Env):
    """The gym 0.9 style: _reset/_step/_seed under a base class (here gymnasium's, as ported scripts do)."""

    def __init__(self):
        self.inner = OldGymCorridor()
        self.action_space, self.observation_space = self.inner.action_space, self.inner.observation_space

    def _seed(self, seed=None):
        return self.inner.seed(seed)

    def _reset(self):
        return self.inner.reset()

    def _step(self, action):
        return self.inner.step(action)


class SumReward(Processor):
    """The custom Processor of such scripts: the vector reward summed to keras-rl's scalar."""

    def process_reward(self, reward):
        return float(np.sum(reward))


@pytest.mark.parametrize("make", [OldGymCorridor, Gym09Corridor])
def test_old_gym_env_with_vector_reward_and_processor(make, tmp_path):
    env = KerasRLEnv(make(), seed=3)
    assert env.old_gym and env.reset().shape == (2,)
    agent = small_dqn((1, 2), processor=SumReward())
    agent.fit(env, nb_steps=120, verbose=0, callbacks=callbacks.training_callbacks(tmp_path, every_steps=60))
    rows = callbacks.load_rewards(tmp_path / "episodes.csv")
    assert len(rows) >= 7 and (rows["r"] < 1.0).all() and rows["l"].max() <= 15

    def trajectory(seed):  # seed() reaches the env's own RandomState (its slips)
        env = KerasRLEnv(make(), seed=seed)
        env.reset()
        return [env.step(1)[0][0] for _ in range(12)]

    assert trajectory(5) == trajectory(5) != trajectory(6)


class Book:
    """State held in an object a checkpoint cannot take apart (e.g. a trading env's order book)."""

    def __init__(self):
        self.level = 0


class ProtocolCorridor(OldGymCorridor):
    """An old-gym env with state in an object, and the protocol that saves it: get_state/set_state."""

    def __init__(self):
        super().__init__()
        self.book = Book()

    def step(self, action):
        self.book.level += int(action)
        obs, reward, done, info = super().step(action)
        return obs + np.float32(self.book.level % 2), reward, done, info

    def get_state(self):
        return {"pos": self.pos, "t": self.t, "trail": self.trail, "rng": self.np_random,
                "level": self.book.level}

    def set_state(self, state):
        self.pos, self.t, self.trail, self.np_random = state["pos"], state["t"], state["trail"], state["rng"]
        self.book.level = state["level"]


class OpaqueCorridor(ProtocolCorridor):
    """The same env without the protocol: its state cannot be restored."""

    get_state = set_state = None


def train(make, run_dir, nb_steps, resume_dir=None, save_at_end=True):
    """A DQN on a custom old-gym env passed to keras-rl directly, with the package's callbacks."""
    env = make()
    reproduce.seed_everything(0, env)
    agent = small_dqn((1, 2), processor=SumReward())
    state = callbacks.resume_from(resume_dir, agent, env) if resume_dir else None
    agent.fit(env, nb_steps=nb_steps, verbose=0, callbacks=callbacks.training_callbacks(
        run_dir, resume=state, every_steps=25, keep_last=None, save_at_end=save_at_end))
    return agent, callbacks.load_rewards(Path(run_dir) / "episodes.csv")


@pytest.mark.parametrize("make", [OldGymCorridor, ProtocolCorridor])
def test_a_custom_env_passed_directly_resumes_mid_episode_exactly(make, tmp_path):
    whole, whole_log = train(make, tmp_path / "whole", 70)
    train(make, tmp_path / "killed", 35, save_at_end=False)  # "killed" after its checkpoint at step 25
    ckpt = tmp_path / "killed" / "checkpoints" / "ckpt_000000025_steps"
    assert callbacks.load_checkpoint(ckpt)[1]["episode_in_progress"] is not None
    resumed, resumed_log = train(make, tmp_path / "killed", 70, resume_dir=tmp_path / "killed")
    assert resumed_log[["r", "l"]].equals(whole_log[["r", "l"]])
    for got, want in zip(resumed.model.get_weights(), whole.model.get_weights()):
        assert np.array_equal(got, want)


def test_an_env_that_cannot_be_restored_starts_a_new_episode_once(tmp_path):
    train(OpaqueCorridor, tmp_path, 35, save_at_end=False)
    with pytest.warns(UserWarning) as record:
        resumed, log = train(OpaqueCorridor, tmp_path, 70, resume_dir=tmp_path)
    said = [str(w.message) for w in record if "resume" in str(w.message)]
    assert said == ["resume: the env's state cannot be restored (OpaqueCorridor.book not saved; give the env "
                    "get_state()/set_state()), so the interrupted episode restarts as a new one"]
    assert resumed.step == 70 and log["total_steps"].is_monotonic_increasing


# --- resume and seeding from Python -------------------------------------------------------

def test_resume_without_memory_is_one_line_and_the_default_saves_it(tmp_path):
    agent = small_dqn()
    agent.fit(cartpole(), nb_steps=40, verbose=0,
              callbacks=callbacks.training_callbacks(tmp_path / "small", save_memory=False))
    words = r"holds no replay memory \(saved with save_memory=False\).*save_memory=True, the default"
    with pytest.raises(callbacks.CheckpointError, match=words):
        callbacks.resume_from(tmp_path / "small", small_dqn(), cartpole())
    agent.fit(cartpole(), nb_steps=40, verbose=0, callbacks=callbacks.training_callbacks(tmp_path / "full"))
    fresh = small_dqn()
    state = callbacks.resume_from(tmp_path / "full", fresh, cartpole())
    fresh.fit(cartpole(), nb_steps=60, verbose=0,
              callbacks=callbacks.training_callbacks(tmp_path / "full", resume=state))
    assert fresh.step == 60


def test_a_run_directory_holding_another_run_is_refused_unless_asked(tmp_path):
    small_dqn().fit(cartpole(), nb_steps=20, verbose=0, callbacks=callbacks.training_callbacks(tmp_path))
    with pytest.raises(callbacks.RunDirInUseError) as info:
        callbacks.training_callbacks(tmp_path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{tmp_path} holds another run (checkpoint at step 20)")
    assert "pass overwrite=True to start over there" in message
    callbacks.training_callbacks(tmp_path, overwrite=True)
    assert not (tmp_path / "checkpoints").exists()


def test_atari_hint_says_to_install_ale_py_where_it_is_missing(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    hint = compat._atari_hint("SpaceInvadersNoFrameskip-ram-v4")
    assert "pip install ale-py, then" in hint and "'ALE/SpaceInvaders-ram-v5'" in hint


def test_seed_everything_makes_a_run_repeatable():
    def run(seed):
        tf.compat.v1.keras.backend.clear_session()
        env = cartpole(seed=None)
        reproduce.seed_everything(seed, env)
        agent = small_dqn()
        history = agent.fit(env, nb_steps=80, verbose=0)
        return history.history["episode_reward"], agent.model.get_weights()

    (r1, w1), (r2, w2), (r3, w3) = run(1), run(1), run(2)
    assert r1 == r2 and all(np.array_equal(a, b) for a, b in zip(w1, w2))
    assert r1 != r3 or not all(np.array_equal(a, b) for a, b in zip(w1, w3))


def test_old_env_ids_name_their_new_id():  # fix atari-ids (gymnasium names renamed versions itself)
    words = r"doesn't exist\..* Atari envs moved to ale-py: .*gym\.make\('ALE/Breakout-v5'\)"
    with pytest.raises(gym.error.NameNotFound, match=words):
        gym.make("BreakoutDeterministic-v4")  # keras-rl's examples/dqn_atari.py
    installed = importlib.util.find_spec("ale_py") is not None
    assert ("pip install ale-py" in compat._atari_hint("PongNoFrameskip-v4")) is not installed
    for old, new in (("LunarLander-v2", "LunarLander-v3"), ("Taxi-v3", "Taxi-v4")):
        with pytest.raises(gym.error.DeprecatedEnv, match=f"Please use `{new}` instead"):
            gym.make(old)
    with pytest.raises(gym.error.NameNotFound, match=r"^Environment `NoSuchEnv` doesn't exist\.$"):
        gym.make("NoSuchEnv-v0")


# --- docs/keras-rl-scripts.md: its script runs as written -----------------------------------------

def test_the_documented_script_runs_as_written(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks and blocks[0].startswith("import reproduce")
    run = run_python("\n".join(blocks), cwd=tmp_path)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err[-2000:]
    rows = callbacks.load_rewards(tmp_path / "runs" / "mine" / "episodes.csv")
    assert rows["total_steps"].iloc[-1] <= 600 and list((tmp_path / "runs" / "mine").glob("checkpoints/*"))
