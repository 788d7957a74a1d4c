"""keras-rl's own callbacks work through the gymnasium adapter, next to ours.

A short DQN fit on ``KerasRLEnv(gym.make("CartPole-v1"))`` with ``FileLogger``,
``ModelIntervalCheckpoint``, ``TrainEpisodeLogger`` and ``TrainIntervalLogger``: the JSON log,
the weight files and the printed logs are what keras-rl documents, and agree with our
reward log. ``Visualizer`` (``fit``/``test`` with ``visualize=True``) renders every action
through gymnasium's ``render_mode``: ``rgb_array`` frames on CartPole (pygame, gymnasium's
``classic-control`` extra) and ``ansi`` text on FrozenLake (no extra needed).
"""

from __future__ import annotations

import json
import re

import checkpoint_worker  # registered by tests/conftest.py
import gymnasium as gym
import numpy as np
import pytest

import callbacks
from reproduce.adapters import KerasRLEnv, OneHotProcessor

STEPS = 300


class Frames(gym.Wrapper):
    """Keeps what each ``render()`` returned (the frames keras-rl's Visualizer asked for)."""

    def __init__(self, env):
        super().__init__(env)
        self.frames = []

    def render(self):
        frame = self.env.render()
        self.frames.append(frame)
        return frame


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """One 300-step DQN fit on CartPole with keras-rl's four logging/saving callbacks and ours."""
    from rl.callbacks import FileLogger, ModelIntervalCheckpoint, TrainEpisodeLogger, TrainIntervalLogger

    w = checkpoint_worker
    out = tmp_path_factory.mktemp("keras_rl_callbacks")
    config = w.agent_config("dqn")
    w.seed_everything(0)
    env, agent = w.make_env(config), w.build_agent(config)
    keras_rl = [
        FileLogger(str(out / "log.json"), interval=1),
        ModelIntervalCheckpoint(str(out / "weights_{step}.h5f"), interval=100, verbose=1),
        TrainEpisodeLogger(),
        TrainIntervalLogger(interval=100),
    ]
    ours = callbacks.RewardLogger(out / "episodes.csv")
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        agent.fit(env, nb_steps=STEPS, verbose=0, callbacks=[ours, *keras_rl])
    return out, agent, config, printed.getvalue()


def test_file_logger_writes_every_episode_with_keras_rls_keys(fitted):
    out, agent, _, _ = fitted
    data = json.loads((out / "log.json").read_text())
    assert set(data) == {*agent.metrics_names, "episode_reward", "nb_episode_steps", "nb_steps", "episode",
                         "duration"}
    assert set(agent.metrics_names) == {"loss", "mae", "mean_q", "mean_eps"}
    ours = callbacks.load_rewards(out / "episodes.csv")
    assert data["episode"] == list(range(len(ours))) and len(ours) >= 5
    assert data["episode_reward"] == pytest.approx(ours["r"].tolist())
    assert data["nb_episode_steps"] == ours["l"].tolist() and data["nb_steps"] == ours["total_steps"].tolist()
    assert data["loss"][1:] == pytest.approx(ours["loss"].tolist()[1:], nan_ok=True)


def test_model_interval_checkpoint_saves_loadable_weights(fitted):
    out, agent, config, printed = fitted
    for step in (100, 200, 300):
        assert f"Step {step}: saving model to {out / f'weights_{step}.h5f'}" in printed
        assert list(out.glob(f"weights_{step}.h5f*")), step
    fresh = checkpoint_worker.build_agent(config)
    fresh.load_weights(str(out / "weights_300.h5f"))
    for got, want in zip(fresh.model.get_weights(), agent.model.get_weights()):
        assert np.array_equal(got, want)
    for got, want in zip(fresh.target_model.get_weights(), agent.model.get_weights()):
        assert np.array_equal(got, want)  # keras-rl's load_weights also syncs the target


def test_train_episode_logger_prints_one_line_per_episode(fitted):
    out, _, _, printed = fitted
    episodes = len(callbacks.load_rewards(out / "episodes.csv"))
    # (Progbar output of TrainIntervalLogger may precede a line: no ^ anchor)
    lines = re.findall(r"\b(\d+)/300: episode: (\d+), duration: [\d.]+s, episode steps: +(\d+), .*"
                       r"episode reward: +([\d.]+), .*loss: ", printed)
    assert [int(e) for _, e, _, _ in lines] == list(range(1, episodes + 1))
    rows = callbacks.load_rewards(out / "episodes.csv")
    assert [int(n) for _, _, n, _ in lines] == rows["l"].tolist()
    assert [int(s) for s, _, _, _ in lines] == rows["total_steps"].tolist()
    assert printed.count(f"Training for {STEPS} steps ...") == 2  # both loggers
    assert len(re.findall(r"^done, took [\d.]+ seconds$", printed, flags=re.M)) == 2


def test_train_interval_logger_prints_each_interval(fitted):
    _, _, _, printed = fitted
    for n, done in ((1, 0), (2, 100), (3, 200)):
        assert f"Interval {n} ({done} steps performed)" in printed
    summaries = re.findall(r"\b(\d+) episodes - episode_reward: [\d.]+ \[[\d.]+, [\d.]+\] - loss: [\d.]+ - "
                           r"mae: [\d.]+ - mean_q: [-\d.]+ - mean_eps: [\d.]+", printed)
    assert len(summaries) == 2  # printed when intervals 2 and 3 begin


def dqn_for(env, n_obs: int, processor=None):
    """A tiny compiled DQN for ``n_obs`` observation values (after ``processor``)."""
    import tensorflow as tf
    from rl.agents.dqn import DQNAgent
    from rl.memory import SequentialMemory

    model = checkpoint_worker.mlp(n_obs, int(env.action_space.n), 8)
    agent = DQNAgent(model=model, nb_actions=int(env.action_space.n), nb_steps_warmup=10, batch_size=4,
                     memory=SequentialMemory(100, window_length=1), processor=processor)
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3))
    return agent


def test_visualizer_renders_rgb_array_frames():
    pytest.importorskip("pygame", reason="CartPole's rgb_array rendering needs gymnasium[classic-control]")
    checkpoint_worker.seed_everything(0)
    env = Frames(gym.make("CartPole-v1", render_mode="rgb_array"))
    keras_env = KerasRLEnv(env, seed=0)
    agent = dqn_for(keras_env, 4)
    agent.fit(keras_env, nb_steps=30, verbose=0, visualize=True)
    assert len(env.frames) == 30
    steps = []
    from rl.callbacks import Callback

    class Count(Callback):
        def on_episode_end(self, episode, logs=None):
            steps.append(int(logs["nb_steps"]))

    agent.test(keras_env, nb_episodes=2, visualize=True, verbose=0, callbacks=[Count()])
    assert len(env.frames) == 30 + sum(steps)
    assert all(f.shape == (400, 600, 3) and f.dtype == np.uint8 for f in env.frames)
    assert len({f.tobytes() for f in env.frames}) > 1  # real frames of a moving cart


def test_visualizer_renders_ansi_text(capsys):
    checkpoint_worker.seed_everything(0)
    env = Frames(gym.make("FrozenLake-v1", render_mode="ansi"))
    keras_env = KerasRLEnv(env, seed=0)
    agent = dqn_for(keras_env, 16, processor=OneHotProcessor(16))
    agent.test(keras_env, nb_episodes=1, visualize=True, nb_max_episode_steps=20)
    assert 1 <= len(env.frames) <= 20
    # the lake's map, the agent's cell highlighted in red
    assert all(isinstance(f, str) and "F" in f and "\x1b[41m" in f for f in env.frames)
    assert "Testing for 1 episodes ..." in capsys.readouterr().out  # keras-rl's TestLogger (verbose=1)

