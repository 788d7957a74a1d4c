"""Qlearning4k's README example: the published settings, the replay update by hand, the effective
learning rate, the fast graph against the reference loop, and play/evaluation."""

import random

import numpy as np
import pytest
import tensorflow as tf

from reproduce.envs import CatchEnv, catch_states, solve_catch
from reproduce.errors import ConfigError
from reproduce.originals import qlearning4k as q4k

SHORT = q4k.Config(nb_epoch=20)  # the README's settings; eps falls 1.0 -> 0.01 over 11 epochs


@pytest.fixture(scope="module")
def short_runs():
    ref = q4k.train_reference(seed=3, config=SHORT)
    fast = q4k.train_fast(seed=3, config=SHORT)
    return ref, fast


def test_architecture_and_compile_settings_are_the_readmes():
    q4k.new_session(0)
    model = q4k.build_model()
    flatten, *dense = model.layers
    assert model.input_shape == (None, 1, 10, 10)
    assert isinstance(flatten, tf.keras.layers.Flatten)
    assert [(d.units, d.activation.__name__) for d in dense] == [(100, "relu"), (100, "relu"), (3, "linear")]
    assert model.loss == "mse"
    opt = model.optimizer
    assert type(opt) is tf.keras.optimizers.legacy.SGD  # Keras 1's sgd: no momentum, no decay
    config = opt.get_config()
    assert config["learning_rate"] == pytest.approx(0.2)
    assert (config["momentum"], config["nesterov"], config.get("decay", 0.0)) == (0.0, False, 0.0)


def test_epsilon_schedule_is_upstreams_subtraction():
    used, printed = q4k.epsilon_schedule(q4k.Config())
    assert used[0] == 1.0 and printed[0] == 1.0 - 0.9 / 500
    np.testing.assert_allclose(np.diff(used[:501]), -0.0018, rtol=1e-9)
    # 500 subtractions land just below 0.1, so the 501st epoch on stays there.
    assert used[500] == printed[499] == pytest.approx(0.1, abs=1e-12) and used[500] < 0.1
    assert np.all(used[500:] == used[500]) and f"{printed[-1]:.2f}" == "0.10"
    # With 20 epochs, 10 subtractions of 0.09 leave 0.1 + 1.4e-16 > 0.1: one more, down to 0.01.
    short, _ = q4k.epsilon_schedule(SHORT)
    assert short[10] == pytest.approx(0.1) and short[10] > 0.1 and short[11] == pytest.approx(0.01)
    fixed, fixed_printed = q4k.epsilon_schedule(q4k.Config(epsilon=0.1))  # examples/test_catch.py
    assert np.all(fixed == 0.1) and np.all(fixed_printed == 0.1)


class PredictRecorder:
    """Passes ``predict`` through to the model and records the shape of each call."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def predict(self, x, **kwargs):
        self.calls.append(x.shape)
        return self.model.predict(x, **kwargs)


def _mlp(weights, x):
    """The network in float64 numpy: activations for backprop."""
    w1, b1, w2, b2, w3, b3 = (np.asarray(w, np.float64) for w in weights)
    x = x.reshape(len(x), -1).astype(np.float64)
    z1 = x @ w1 + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ w2 + b2
    h2 = np.maximum(z2, 0)
    return x, z1, h1, z2, h2, h2 @ w3 + b3


def _flat(s, a, r, s2, over):
    return np.concatenate([s.ravel(), [a, r], s2.ravel(), [over]])


def test_targets_come_from_one_predict_over_s_and_s_prime():
    q4k.new_session(1)
    model = q4k.build_model()
    env = CatchEnv()
    rows, expected_terms = [], []
    for i, (col, basket, actions) in enumerate([(4, 4, [1] * 9), (0, 6, [2] * 9), (5, 2, [0, 2, 1])]):
        obs, _ = env.reset(seed=i, options={"fruit_col": col, "basket": basket})
        for a in actions:
            obs2, r, over, _, _ = env.step(a)
            rows.append(_flat(obs, a, r, obs2, over))
            expected_terms.append((obs, a, r, obs2, over))
            obs = obs2
    samples = np.array(rows, np.float32)
    recorder = PredictRecorder(model)
    s, targets = q4k.batch_targets(recorder, samples, (1, 10, 10), 0.9)
    assert recorder.calls == [(2 * len(rows), 1, 10, 10)]
    weights = model.get_weights()
    q_s = _mlp(weights, np.stack([t[0] for t in expected_terms]))[-1]
    q_s2 = _mlp(weights, np.stack([t[3] for t in expected_terms]))[-1]
    want = q_s.copy()
    for i, (_, a, r, _, over) in enumerate(expected_terms):
        want[i, a] = r if over else r + 0.9 * q_s2[i].max()  # terminal: the reward alone
    assert sum(t[4] for t in expected_terms) == 2 and {t[2] for t in expected_terms} == {0.0, 1.0, -1.0}
    np.testing.assert_allclose(targets, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(s, samples[:, :100].reshape(-1, 1, 10, 10))


def test_replay_memory_is_fifo_and_waits_for_a_batch():
    q4k.new_session(2)
    model = q4k.build_model()
    memory = q4k.ExperienceReplay(memory_size=5, sampler=random.Random(9))
    frame = np.zeros((1, 1, 10, 10), np.float32)
    for i in range(7):
        memory.remember(frame + i, i % 3, 0.0, frame + i + 1, False)
        if i < 3:
            assert memory.get_batch(model, 4, 0.9) is None  # fewer than batch_size: no training
    assert [row[0] for row in memory.memory] == [2, 3, 4, 5, 6]  # oldest dropped first
    s, _ = memory.get_batch(model, 4, 0.9)
    picked = random.Random(9).sample(range(5), 4)  # random.sample's draws depend on the length only
    assert s[:, 0, 0, 0].tolist() == [2 + j for j in picked]


def test_one_train_on_batch_is_sgd_at_0_2_on_the_mse_gradient():
    q4k.new_session(4)
    model = q4k.build_model()
    rng = np.random.default_rng(0)
    x = (rng.random((50, 1, 10, 10)) < 0.04).astype(np.float32)
    targets = rng.normal(size=(50, 3)).astype(np.float32)
    before = model.get_weights()
    loss = model.train_on_batch(x, targets)
    x2, z1, h1, z2, h2, out = _mlp(before, x)
    assert loss == pytest.approx(np.mean((out - targets) ** 2), rel=1e-5)
    d_out = 2 * (out - targets) / out.size  # mse: mean over the 3 outputs and the 50 rows
    w3 = np.asarray(before[4], np.float64)
    w2 = np.asarray(before[2], np.float64)
    d_z2 = (d_out @ w3.T) * (z2 > 0)
    d_z1 = (d_z2 @ w2.T) * (z1 > 0)
    grads = [x2.T @ d_z1, d_z1.sum(0), h1.T @ d_z2, d_z2.sum(0), h2.T @ d_out, d_out.sum(0)]
    for got, old, grad in zip(model.get_weights(), before, grads):
        assert np.abs(grad).max() > 0
        np.testing.assert_allclose(got - old, -0.2 * grad, rtol=1e-3, atol=1e-7)


def test_published_draws_replay_the_reference_loops_draws():
    config = q4k.Config(nb_epoch=12, batch_size=10, memory_size=30)
    draws = q4k.published_draws(5, config)
    rs, sampler, env = np.random.RandomState(5), random.Random(5), CatchEnv()
    for e in range(12):
        env.reset(seed=5 if e == 0 else None)
        assert tuple(draws.starts[e]) == env.state[1:]
        for k in range(9):
            explore = rs.random() < draws.eps[e]
            assert draws.explore[e, k] == explore
            if explore:
                assert draws.random_action[e, k] == rs.randint(3)
            t = e * 9 + k
            n = min(t + 1, 30)
            assert draws.train[e, k] == (n >= 10)
            if n >= 10:  # memory positions -> global steps (the FIFO has dropped t + 1 - n)
                assert draws.sample[e, k].tolist() == [t + 1 - n + j for j in sampler.sample(range(n), 10)]
    assert draws.explore.any() and not draws.explore.all()


def _assert_same_run(fast, ref):
    assert fast.actions.tolist() == ref.actions.tolist()
    assert fast.rewards.tolist() == ref.rewards.tolist()
    assert fast.won.tolist() == ref.won.tolist()
    np.testing.assert_array_equal(fast.epsilon, ref.epsilon)
    np.testing.assert_allclose(fast.loss, ref.loss, rtol=1e-4, atol=1e-6)
    for got, want in zip(fast.weights, ref.weights):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_fast_graph_equals_reference_loop_on_readme_settings(short_runs):
    ref, fast = short_runs
    _assert_same_run(fast, ref)
    draws = q4k.published_draws(3, SHORT)
    assert (~draws.explore).sum() > 60  # greedy actions from the network, not only random ones
    assert draws.train.sum() == 20 * 9 - 49  # trains from the 50th transition on
    assert ref.loss[:5].tolist() == [0.0] * 5 and np.all(ref.loss[6:] > 0)


def test_fast_graph_without_xla_is_bit_identical_to_the_reference_loop(short_runs):
    # Without XLA the graph runs the same TF kernels on the same shapes as predict/train_on_batch.
    ref, _ = short_runs
    plain = q4k.train_fast(seed=3, config=SHORT, jit=False)
    assert plain.actions.tolist() == ref.actions.tolist()
    np.testing.assert_array_equal(plain.loss, ref.loss)
    for got, want in zip(plain.weights, ref.weights):
        np.testing.assert_array_equal(got, want)


def test_fast_graph_equals_reference_loop_with_eviction_fixed_eps_and_chunks():
    # examples/test_catch.py's settings (batch 10, epsilon fixed at .1), a 30-transition memory
    # so the FIFO drops transitions, and the fast run split into two calls of 6 epochs.
    config = q4k.Config(nb_epoch=12, batch_size=10, memory_size=30, epsilon=0.1)
    ref = q4k.train_reference(seed=8, config=config)
    fast = q4k.train_fast(seed=8, config=config, epochs_per_call=6)
    _assert_same_run(fast, ref)
    assert np.all(fast.epsilon == 0.1)


def test_result_lines_are_upstreams_format(short_runs):
    ref, _ = short_runs
    lines = ref.log_lines()
    assert len(lines) == 20
    assert lines[0] == f"Epoch 001/020 | Loss 0.0000 | Epsilon 0.91 | Win count {int(ref.won[0])}"
    assert lines[-1].startswith("Epoch 020/020 | Loss ") and lines[-1].endswith(
        f"| Epsilon 0.01 | Win count {int(ref.won.sum())}")  # see the schedule test: 0.1 + 1 ulp


def test_q_values_from_model_and_from_weights_agree(short_runs):
    _, fast = short_runs
    q4k.new_session(0)
    model = q4k.build_model()
    model.set_weights(fast.weights)
    obs = np.stack([CatchEnv().reset(seed=i)[0] for i in range(7)])
    np.testing.assert_allclose(q4k.q_values(model, obs), q4k.q_values(fast.weights, obs),
                               rtol=1e-5, atol=1e-6)


def _constant_policy(action):
    """Weights whose Q is the same for every state, highest for ``action``."""
    shapes = [(100, 100), (100,), (100, 100), (100,), (100, 3), (3,)]
    weights = [np.zeros(s, np.float32) for s in shapes]
    weights[-1][action] = 1.0
    return weights


@pytest.mark.parametrize("action, wins", [
    (0, lambda col, basket: col <= 2),  # always left: the basket ends at centre 1
    (1, lambda col, basket: abs(col - basket) <= 1),  # stay
    (2, lambda col, basket: col >= 8),  # always right: centre ends at 9
])
def test_play_counts_greedy_wins_over_seeded_games(action, wins):
    env = CatchEnv()  # the one evaluator's convention: game i starts from reset(seed=11 + i)
    starts = [env.reset(seed=11 + i) and env.state for i in range(200)]
    expected = np.mean([wins(col, basket) for _, col, basket in starts])
    assert q4k.play(_constant_policy(action), games=200, seed=11) == expected
    assert 0 < expected < 1


def test_evaluate_against_q_star():
    stay = _constant_policy(1)
    result = q4k.evaluate(stay)
    assert result["exact_win_rate"] == pytest.approx(21 / 63)
    assert result["optimal_win_rate"] == 1.0
    q = np.tile([0.0, 1.0, 0.0], (len(catch_states()), 1))
    assert result["max_abs_q_error"] == pytest.approx(np.abs(q - solve_catch().q).max())


@pytest.mark.parametrize("kwargs, message", [
    ({"nb_epoch": 0}, "nb_epoch must be a positive integer, got 0; pass e.g. nb_epoch=1000"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer, got 2.5"),
    ({"memory_size": 20}, "memory_size (20) is below batch_size (50)"),
    ({"memory_size": -2}, "memory_size must be a positive integer, got -2"),
    ({"epsilon": (1.0,)}, "epsilon must be a number in [0, 1]"),
    ({"epsilon": 1.5}, "epsilon must be a number in [0, 1]"),
    ({"learning_rate": 0}, "learning_rate must be a number"),
    ({"gamma": -0.1}, "gamma must be a number in [0, 1]"),
    ({"grid_size": 3}, "Catch grid_size must be an integer >= 4"),
])
def test_bad_config_is_a_one_line_config_error(kwargs, message):
    with pytest.raises(ConfigError) as err:
        q4k.Config(**kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="positive integer number of games, got 0"):
        q4k.play(_constant_policy(1), games=0)
