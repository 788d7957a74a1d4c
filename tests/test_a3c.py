"""The TensorFlow blog's A3C: the loss by hand, the worker loop's quirks, the fast backend against the
tf.keras reference with one worker, threads, and the experiment."""

import numpy as np
import pytest

from reproduce.originals import a3c


def test_returns_and_moving_average_are_the_published_formulas():
    np.testing.assert_allclose(a3c.discounted([1.0, 1.0, -1.0], 0.0)[:, 0],
                               [1 + 0.99 * (1 - 0.99), 1 - 0.99, -1.0], rtol=1e-6)
    np.testing.assert_allclose(a3c.discounted([1.0, 1.0], 10.0)[:, 0], [1 + 0.99 * (1 + 9.9), 1 + 9.9],
                               rtol=1e-6)
    assert a3c.record(0.0, 5.0) == 5.0 and a3c.record(5.0, 15.0) == pytest.approx(5.1)
    assert a3c.record(0.0, 7.0) == 7.0  # a moving average of exactly 0 restarts from the score


class Recorder:
    """Uniform policy, zero value; records each push's length."""

    def __init__(self):
        self.pushes = []

    def probs(self, idx, state):
        return np.array([0.5, 0.5], np.float32)

    def value(self, idx, state):
        return 0.0

    def push(self, idx, states, actions, returns):
        self.pushes.append((len(states), float(returns.reshape(-1)[-1]), returns.ndim))
        return 0.0

    def global_weights(self):
        return []


def test_pushes_cover_21_then_20_transitions_and_the_score_is_length_minus_2():
    nets = Recorder()
    result = a3c.train(nets, seed=0, workers=1, max_eps=30)
    pushes, k = nets.pushes, 0
    for episode in result.episodes:  # each episode: 21, 20, 20, ..., then the rest (ending in -1)
        sizes = []
        while sum(sizes) < episode.steps:
            sizes.append(pushes[k][0])
            k += 1
        assert sizes[:-1] == ([21] + [20] * (len(sizes) - 2))[:len(sizes) - 1] and pushes[k - 1][1] == -1.0
        assert sum(sizes) == episode.steps and episode.score == episode.steps - 2
    assert k == len(pushes) and max(e.steps for e in result.episodes) > 21  # some episode pushed twice
    assert {(size == 20 or size == 21, ndim) for size, last, ndim in pushes if last != -1.0} == {(True, 3)}
    assert {ndim for _, last, ndim in pushes if last == -1.0} == {2}  # bootstrapped: (n, 1, 1); final: (n, 1)


@pytest.mark.parametrize("bootstrapped", [False, True])
def test_published_loss_broadcasts_as_written(bootstrapped):
    # The loss TF computes, against the closed forms of the published broadcasts: (n,) x (n, 1) weights
    # every action by the mean advantage; after a bootstrap the returns are (n, 1, 1), so the value
    # loss is mean_ij (R_i - V_j)^2. quirks=False: the per-sample A3C loss.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 4)).astype(np.float32)
    actions = rng.integers(0, 2, 7).astype(np.int32)
    returns = rng.normal(size=(7, 1)).astype(np.float32)
    fed = returns[:, None] if bootstrapped else returns
    for quirks in (True, False):
        tf_nets = a3c.TFNets(seed=1, quirks=quirks)
        w = tf_nets.session.run(tf_nets.locals[0].trainable_weights)
        _, logits, _, values = a3c.NumpyNets.forward([np.float64(v) for v in w], x.astype(np.float64))
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        adv, xent = returns - values, -np.log(p[np.arange(7), actions])
        entropy = (p * np.log(p + 1e-10)).sum(1)
        policy = xent.mean() * adv.mean() if quirks else np.mean(xent * adv[:, 0])
        value = np.mean((returns - values.T) ** 2) if quirks and bootstrapped else np.mean(adv ** 2)
        want = 0.5 * value + policy + 0.01 * entropy.mean()
        assert tf_nets.push(0, x, actions, fed) == pytest.approx(want, rel=1e-5)
        fast = a3c.NumpyNets(seed=1, quirks=quirks)
        assert fast.push(0, x, actions, fed) == pytest.approx(want, rel=1e-5)
        for got, ref in zip(fast.global_weights(), tf_nets.global_weights()):  # one Adam step, same gradient
            np.testing.assert_allclose(got, ref, atol=1e-6)
    assert abs(xent.mean() * adv.mean() - np.mean(xent * adv[:, 0])) > 1e-3  # the quirks matter here
    assert abs(np.mean((returns - values.T) ** 2) - np.mean(adv ** 2)) > 1e-3


@pytest.mark.parametrize("quirks", [True, False])
def test_numpy_backend_equals_the_tf_keras_reference_with_one_worker(quirks):
    ref = a3c.train(a3c.TFNets(seed=2, quirks=quirks), seed=2, max_eps=25)
    fast = a3c.train(a3c.NumpyNets(seed=2, quirks=quirks), seed=2, max_eps=25)
    assert fast.actions == ref.actions and sum(len(a) for a in ref.actions[0:1]) > 400
    assert [e.score for e in fast.episodes] == [e.score for e in ref.episodes]
    assert fast.best_score == ref.best_score
    for got, want in zip(fast.weights + fast.best_weights, ref.weights + ref.best_weights):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("backend", [a3c.NumpyNets, a3c.TFNets])
def test_threads_race_on_the_global_weights_and_overshoot_by_at_most_workers_minus_one(backend):
    result = a3c.train(backend(seed=3, workers=2), seed=3, workers=2, max_eps=12)
    assert 12 <= len(result.episodes) <= 13 and {e.worker for e in result.episodes} == {0, 1}
    assert result.best_score == max(e.score for e in result.episodes) and len(result.best_weights) == 8


def test_experiment_writes_episodes_and_evaluates_the_best_weights(tmp_path):
    import pandas as pd

    from reproduce import experiments
    from reproduce.runs import read_json

    exp = experiments.get("cartpole-a3c")
    exp.run(exp.validate(exp.config(episodes=15, eval_episodes=3, seed=4)), tmp_path / "run")
    summary = read_json(tmp_path / "run" / "summary.json")
    log = pd.read_csv(tmp_path / "run" / "episodes.csv", skiprows=1)
    assert len(log) == summary["episodes"] == 15 and (log.r == log.l - 2).all()
    assert summary["best_score"] == log.r.max() and summary["env_steps"] == log.l.sum()
    assert summary["moving_final"] == pytest.approx(log.moving_average.iloc[-1])
    assert summary["eval_episodes"] == 3 and 8 <= summary["eval_mean"] <= 200


def test_local_models_start_unsynced_and_copy_the_global_weights_after_a_push():
    nets = a3c.NumpyNets(seed=5, workers=2)
    assert not np.allclose(nets.local[0][0], nets.global_w[0])
    assert not np.allclose(nets.local[1][0], nets.local[0][0])
    x = np.ones((3, 4), np.float32)
    nets.push(0, x, np.array([0, 1, 0], np.int32), np.ones((3, 1), np.float32))
    assert all(np.array_equal(a, b) for a, b in zip(nets.local[0], nets.global_w))
    assert not np.allclose(nets.local[1][0], nets.global_w[0])  # the other worker syncs at its own push


def test_train_cap_cuts_episodes_and_bootstraps_instead_of_the_minus_one():
    nets = Recorder()
    result = a3c.train(nets, seed=1, max_eps=40, max_steps=12)
    assert max(e.steps for e in result.episodes) == 12
    scores = {e.score for e in result.episodes if e.steps == 12}
    assert scores == {12.0, 10.0}  # cut: twelve rewards of 1, no -1; fallen at the 12th step: 12 - 2
