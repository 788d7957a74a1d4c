"""sentdex part 6's image DQN: the numpy/numba agent against the tf-keras loop, and checkpoints."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from reproduce.originals import blob_dqn as bd

SHORT = bd.Settings(min_replay=100)  # training starts after 100 stored steps instead of 1,000


def test_network_is_the_tutorials():
    model = bd.build_model()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D",
        "Activation",
        "MaxPooling2D",
        "FedDropout",
        "Conv2D",
        "Activation",
        "MaxPooling2D",
        "FedDropout",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert model.layers[0].kernel.shape == (3, 3, 3, 256) and model.layers[4].kernel.shape == (3, 3, 256, 256)
    assert model.layers[9].units == 64 and model.layers[10].units == 9
    assert model.loss == "mse" and type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.001)
    assert model.output_shape == (None, 9)


def test_one_fit_equals_one_numpy_train_step():
    env = bd.make_env(0)
    env.reset(seed=0)
    images = np.array([env.reset()[0] for _ in range(64)])
    agent = bd.DQNAgent(0)
    net = bd.Network(bd.initial_weights(0))
    q_ref = agent.model.predict(images / 255, verbose=0)
    np.testing.assert_allclose(net.predict(images), q_ref, atol=1e-6)
    targets = q_ref.copy()
    targets[np.arange(64), np.arange(64) % 9] += 5.0
    m1, m2 = bd.draw_masks(np.random.default_rng(1), 64, 0.2)
    agent.model.layers[3].set_mask(m1)
    agent.model.layers[7].set_mask(m2)
    agent.model.fit(images / 255, targets, batch_size=64, verbose=0, shuffle=False)
    net.train_step(images, targets, (m1, m2))
    for a, b in zip(agent.weights(), net.w):
        np.testing.assert_allclose(b, a, atol=1e-6)


def test_fast_agent_replays_the_reference_loop():
    """70 training steps: the two runs' weights stay ~1e-7 apart (float32 summation order) until a
    near-tie that rounding decides differently (a max-pool position or a ReLU sign in one conv2 output
    channel); from then on that channel trains on other gradients and the difference grows to ~1e-2.
    Seed 1's first such step is training step 133 (seed 0's is 41: ``python bench/blob_dqn.py --seed 1
    --trace 133`` traces it), so 70 steps checks the arithmetic, not the luck of a tie."""
    agent, log = bd.train_reference(1, 100, SHORT, max_steps=170)
    fast = bd.FastBlobDQN(1, SHORT)
    flog = fast.run(100, max_steps=170)
    assert log.train_steps == flog.train_steps > 50
    assert flog.actions == log.actions and flog.rewards == log.rewards
    assert flog.episode_rewards == log.episode_rewards
    for a, b in zip(agent.weights(), fast.net.w):
        np.testing.assert_allclose(b, a, atol=1e-5)


def test_target_copies_after_more_than_five_terminal_steps(monkeypatch):
    fast = bd.FastBlobDQN(2, SHORT)
    monkeypatch.setattr(fast.net, "train_step", lambda *args: None)  # the counting alone, not the learning
    zeros = lambda images, weights=None: np.zeros((len(images), 9), np.float32)  # noqa: E731
    monkeypatch.setattr(fast.net, "predict", zeros)
    copies = []
    while fast.episode < 30:
        before = fast.target
        fast.run(fast.episode + 1)
        if fast.target is not before:
            copies.append(fast.episode)
    assert len(copies) >= 3 and all(b - a == 6 for a, b in zip(copies, copies[1:]))
    assert fast.target_update_counter <= 5


def test_epsilon_decays_per_episode_with_its_floor():
    fast = bd.FastBlobDQN(0, bd.Settings(min_replay=10**9))  # no training: just the schedule
    fast.run(3)
    assert fast.log.epsilon == [1.0, 0.99975, 0.99975**2]
    fast.epsilon = 0.0010001
    fast.run(5)
    assert fast.epsilon == 0.001
    assert fast.log.stats[0][0] == 1 and fast.log.stats[0][1] == np.mean(
        [-200.0, fast.log.episode_rewards[0]]
    )


def test_checkpoint_restore_continues_exactly():
    settings = bd.Settings(min_replay=64)  # seed 5's episodes: 14, 83, 91 steps; training from step 64
    straight = bd.FastBlobDQN(5, settings)
    straight.run(3)
    interrupted = bd.FastBlobDQN(5, settings)
    interrupted.run(2)
    assert interrupted.log.train_steps > 0  # Adam, target counter and replay are mid-run
    state, arrays = interrupted.state()
    state = json.loads(json.dumps(state))  # as the checkpoint's JSON stores it
    resumed = bd.FastBlobDQN.restore(state, arrays, settings)
    resumed.run(3)
    assert resumed.log.episode_rewards == straight.log.episode_rewards
    assert resumed.log.train_steps == straight.log.train_steps
    for a, b in zip(straight.net.w, resumed.net.w):
        np.testing.assert_array_equal(a, b)


def test_greedy_returns_batch_equals_one_episode_at_a_time():
    weights = bd.initial_weights(4)
    batched = bd.greedy_returns(weights, 3, 50)
    net = bd.Network(weights)
    for i in range(3):
        env = bd.make_env(0)
        state, _ = env.reset(seed=50 + i)
        total, done = 0.0, False
        while not done:
            state, reward, terminated, truncated, _ = env.step(int(np.argmax(net.predict(state[None])[0])))
            total += reward
            done = terminated or truncated
        assert batched[i] == total


def test_cli_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path):
    args = ["--episodes", "16", "--checkpoint-every", "4", "--eval-episodes", "3"]
    straight = tmp_path / "straight"
    result = subprocess.run(
        [sys.executable, "-m", "reproduce", "run", "blob-dqn", *args, "--out", straight],
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "reproduce", "run", "blob-dqn", *args, "--out", killed],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.time() + 600
    while time.time() < deadline and not list((killed / "checkpoints").glob("ckpt_*/COMPLETE")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list((killed / "checkpoints").glob("ckpt_*"))
    result = subprocess.run(
        [sys.executable, "-m", "reproduce", "run", "blob-dqn", "--resume", killed],
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    a = json.loads((straight / "summary.json").read_text())
    b = json.loads((killed / "summary.json").read_text())
    for key in ("eval_mean", "episodes", "env_steps", "train_steps", "last_stats_avg"):
        assert a[key] == b[key], key
    assert (straight / "episode_log.csv").read_text() == (killed / "episode_log.csv").read_text()
