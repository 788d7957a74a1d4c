"""The tutorial's Keras Q-network: published settings, the fast path against numpy and against the
published loop, determinism, and the ``nchain-keras`` experiment end to end."""

import json

import numpy as np
import pytest
import tensorflow as tf
from gymnasium.utils import seeding

from callbacks.monitor import load_rewards
from reproduce import cli as reproduce_cli
from reproduce.envs import q_star
from reproduce.originals import keras_qnet as kq


def test_architecture_and_compile_settings_are_the_published_ones():
    kq.new_session(0)
    model = kq.build_model()
    dense = model.layers
    assert model.input_shape == (1, 5)
    assert [(d.units, d.activation.__name__) for d in dense] == [(10, "sigmoid"), (2, "linear")]
    for layer in dense:
        assert isinstance(layer.kernel_initializer, tf.keras.initializers.GlorotUniform)
        assert isinstance(layer.bias_initializer, tf.keras.initializers.Zeros)
    assert model.loss == "mse"
    opt = model.optimizer
    # 'adam' in graph mode (eager off, as in this process) resolves to the legacy Adam.
    assert type(opt) is tf.keras.optimizers.legacy.Adam
    assert type(tf.keras.optimizers.get("adam")) is type(opt)
    config = opt.get_config()
    assert config["learning_rate"] == pytest.approx(1e-3)
    assert (config["beta_1"], config["beta_2"], config["epsilon"], config["amsgrad"]) == \
        (pytest.approx(0.9), pytest.approx(0.999), pytest.approx(1e-7), False)
    assert model.get_weights()[1].tolist() == [0.0] * 10  # zero biases


def _numpy_steps(weights, start_state, actions, slipped, n=5, small=2.0, large=10.0):
    """The published update by hand: forward, target, d(mse)/dw, Adam (epsilon-hat form)."""
    w1, b1, w2, b2 = (np.asarray(w, np.float64) for w in weights)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-7
    s, rewards = start_state, []

    def forward(state):
        x = np.eye(n)[state]
        h = 1 / (1 + np.exp(-(x @ w1 + b1)))
        return x, h, h @ w2 + b2

    for t, (a, slip) in enumerate(zip(actions, slipped), start=1):
        x, h, q = forward(s)
        taken = a ^ int(slip)
        s2, r = (0, small) if taken == 1 else (min(s + 1, n - 1), large if s == n - 1 else 0.0)
        target_vec = q.copy()
        target_vec[a] = r + 0.95 * forward(s2)[2].max()
        dq = 2 * (q - target_vec) / 2  # mse is the mean over the 2 outputs
        dz = (dq @ w2.T) * h * (1 - h)
        grads = [np.outer(x, dz), dz, np.outer(h, dq), dq]
        lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        for i, g in enumerate(grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            params[i] -= lr_t * m[i] / (np.sqrt(v[i]) + eps)
        rewards.append(r)
        s = s2
    return params, rewards


def test_online_steps_equal_a_hand_computed_update():
    actions = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], np.int32)  # reaches state 4 (large reward)
    slipped = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], bool)
    net = kq.FastQNet(seed=11, steps_per_episode=len(actions))
    before = net.model.get_weights()
    rewards, taken = net.run_episode(np.ones(len(actions), bool), actions, slipped)
    expected, expected_rewards = _numpy_steps(before, 0, actions, slipped)
    assert taken.tolist() == actions.tolist()
    assert rewards.tolist() == expected_rewards
    assert 10.0 in expected_rewards and 2.0 in expected_rewards
    for got, want, old in zip(net.model.get_weights(), expected, before):
        assert not np.allclose(got, old)
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-7)


def test_published_streams_replay_the_published_draws():
    seed, episodes, steps = 5, 3, 400
    streams = kq.published_streams(seed, episodes, steps, slip=0.2)
    rs, (env_rng, _) = np.random.RandomState(seed), seeding.np_random(seed)
    eps = 0.5
    for e in range(episodes):
        eps *= 0.999
        assert streams.eps[e] == eps
        for t in range(steps):
            explore = rs.random() < eps  # the published loop's draws, in its order
            assert streams.explore[e, t] == explore
            if explore:
                assert streams.random_action[e, t] == rs.randint(0, 2)
            assert streams.slipped[e, t] == (env_rng.random() < 0.2)
    assert 0.3 < streams.explore.mean() < 0.7 and 0.1 < streams.slipped.mean() < 0.3


def _assert_same_run(fast, ref):
    assert fast.actions.ravel().tolist() == ref.actions.tolist()
    assert fast.episode_rewards.tolist() == ref.episode_rewards.tolist()
    for got, want in zip(fast.weights, ref.weights):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fast.q_table, ref.q_table, rtol=1e-4, atol=1e-4)


def test_fast_path_equals_published_loop_on_fixed_actions_without_slip():
    steps, episodes = 100, 2
    actions = np.random.default_rng(1).integers(0, 2, episodes * steps)
    actions[20:40] = 0  # walk to the end of the chain and collect the large reward
    ref = kq.train_reference(seed=2, total_steps=episodes * steps, steps_per_episode=steps,
                             slip=0.0, actions=actions)
    fast = kq.train_fast(seed=2, steps_per_episode=steps,
                         streams=kq.Streams.fixed_actions(actions, steps))
    _assert_same_run(fast, ref)
    assert 10.0 * 5 < fast.episode_rewards[0]


def test_fast_path_equals_published_loop_with_its_random_draws():
    steps, episodes = 100, 2  # eps-greedy from RandomState(seed), slip 0.2 from the env's seed
    ref = kq.train_reference(seed=3, total_steps=episodes * steps, steps_per_episode=steps)
    fast = kq.train_fast(seed=3, episodes=episodes, steps_per_episode=steps)
    _assert_same_run(fast, ref)


def test_short_seeded_run_is_deterministic():
    a = kq.train_fast(seed=7, episodes=3, steps_per_episode=200)
    b = kq.train_fast(seed=7, episodes=3, steps_per_episode=200)
    c = kq.train_fast(seed=8, episodes=3, steps_per_episode=200)
    assert a.episode_rewards.tolist() == b.episode_rewards.tolist()
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_cli_end_to_end_two_seeds(cli, tmp_path):
    out = tmp_path / "keras"
    result = cli("run", "nchain-keras", "--episodes", "3", "--steps-per-episode", "300",
                 "--seed", "4", "--seeds", "2", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    for seed in (4, 5):
        run = out / f"seed{seed}"
        assert {p.name for p in run.iterdir()} == {
            "config.json", "manifest.json", "episodes.csv", "q_table.csv", "summary.json",
            "reward_per_step.png"}
        manifest = json.loads((run / "manifest.json").read_text())
        assert (manifest["status"], manifest["seed"]) == ("complete", seed)
        config = json.loads((run / "config.json").read_text())
        assert (config["episodes"], config["steps_per_episode"]) == (3, 300)
        log = load_rewards(run)
        assert log.episode.tolist() == [0, 1, 2] and log.l.tolist() == [300] * 3
        assert log.total_steps.tolist() == [300, 600, 900]
        np.testing.assert_allclose(log.avg_reward_per_step, log.r / 300)
        np.testing.assert_allclose(log.eps, [0.5 * 0.999, 0.5 * 0.999**2, 0.5 * 0.999**3])
        summary = json.loads((run / "summary.json").read_text())
        q = np.loadtxt(run / "q_table.csv", delimiter=",", skiprows=1)[:, 1:]
        assert summary["max_abs_q_error"] == pytest.approx(np.abs(q - q_star()).max())
        assert len(summary["policy"]) == 5 and set(summary["policy"]) <= {"F", "B"}
        assert summary["steps"] == 900 and summary["wall_time_s"] > 0
        assert (run / "reward_per_step.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = json.loads((out / "seed4" / "summary.json").read_text())["q_table"]
    assert first != json.loads((out / "seed5" / "summary.json").read_text())["q_table"]


def test_cli_rejects_zero_episodes_and_writes_nothing(cli, tmp_path):
    out = tmp_path / "never"
    result = cli("run", "nchain-keras", "--episodes", "0", "--out", out)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors == ["error: --episodes expects a positive integer, got '0'; e.g. --episodes 1000"]
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--episodes", "-5"], "error: --episodes expects a positive integer, got '-5'"),
    (["--episodes", "1.5"], "error: --episodes expects a positive integer, got '1.5'"),
    (["--steps-per-episode", "0"], "error: --steps-per-episode expects a positive integer, got '0'"),
    (["--seed", "x"], "argument --seed: expected an integer seed >= 0, got 'x'"),
    (["--seed", "1.5"], "argument --seed: expected an integer seed >= 0, got '1.5'"),
])
def test_bad_input_exits_2_with_one_error_line(args, message, tmp_path, capsys):
    out = tmp_path / "never"
    try:
        code = reproduce_cli.main(["run", "nchain-keras", *args, "--out", str(out)])
    except SystemExit as exc:  # argparse's own errors (the shared --seed option)
        code = exc.code
    assert code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]
    assert not out.exists()
