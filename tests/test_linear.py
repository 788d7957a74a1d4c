"""The Lazy Programmer-style linear baseline: RBF features, one SGDRegressor per action, Q-learning."""

import gymnasium as gym
import numpy as np
import pytest

from reproduce.errors import ConfigError
from reproduce.evaluation import random_returns
from reproduce.tabular import linear

SMALL = {"n_components": 100, "scaler_samples": 2000}


def cartpole_agent(seed, **overrides):
    env = gym.make(linear.CARTPOLE_ID)
    return linear.make_agent(env, linear.default_config(linear.CARTPOLE_ID, **overrides), seed), env


def train_returns(seed, episodes, **overrides):
    agent, env = cartpole_agent(seed, **overrides)
    returns = []
    linear.train(agent, env, episodes, seed, lambda t, r, n: returns.append(r))
    return agent, returns


def test_same_seed_same_results():
    agent_a, returns_a = train_returns(5, 15, **SMALL)
    agent_b, returns_b = train_returns(5, 15, **SMALL)
    _, returns_c = train_returns(6, 15, **SMALL)
    assert returns_a == returns_b
    for ma, mb in zip(agent_a.models, agent_b.models):
        assert np.array_equal(ma.coef_, mb.coef_) and np.array_equal(ma.intercept_, mb.intercept_)
    assert returns_a != returns_c


def test_features_equal_the_sklearn_pipeline():
    agent, env = cartpole_agent(0, **SMALL)
    states = linear.sample_states(env, 300, "episodes", seed=1) * 3.0  # also far outside the fitted states
    assert agent.features.dimensions == 4 * 100
    np.testing.assert_allclose(agent.features.transform(states), agent.features.pipeline.transform(states),
                               rtol=0, atol=1e-12)


def test_q_values_are_the_models_predictions():
    agent, _ = train_returns(2, 5, **SMALL)
    x = agent.features.transform([0.1, -0.2, 0.03, 0.4])
    np.testing.assert_allclose(agent.q_values(x), [m.predict(x)[0] for m in agent.models], rtol=1e-12)


@pytest.mark.parametrize("terminated", [False, True])
def test_update_moves_the_chosen_action_toward_the_td_target(terminated):
    agent, _ = train_returns(1, 10, **SMALL)
    x = agent.features.transform([0.05, 0.3, -0.04, -0.5])
    x_next = agent.features.transform([0.06, 0.5, -0.05, -0.8])
    q_next = agent.q_values(x_next)
    before = agent.q_values(x)
    target = agent.update(x, 1, 1.0, x_next, terminated)
    after = agent.q_values(x)
    assert target == pytest.approx(1.0 if terminated else 1.0 + 0.99 * q_next.max(), abs=1e-12)
    # One SGD step with constant eta0 moves the prediction by eta0 * error * (|x|^2 + 1 for the intercept)
    # (the L2 shrinkage, eta0 * alpha = 1e-6 per step, is below the tolerance).
    moved = agent.config.eta0 * (target - before[1]) * (x @ x.T + 1.0).item()
    assert after[1] - before[1] == pytest.approx(moved, rel=1e-3)
    assert abs(target - after[1]) < abs(target - before[1])
    assert after[0] == before[0]


def test_epsilon_schedules():
    assert [linear.epsilon(n, "inv-sqrt") for n in (0, 3, 99)] == pytest.approx([1.0, 0.5, 0.1])
    assert [linear.epsilon(n, "exp") for n in (0, 1, 2)] == pytest.approx([0.1, 0.097, 0.1 * 0.97**2])


def test_mountaincar_scaler_samples_its_box_and_trains():
    env = gym.make(linear.MOUNTAINCAR_ID)
    config = linear.default_config(linear.MOUNTAINCAR_ID, **SMALL)
    assert config.rbf_gammas == (5.0, 2.0, 1.0, 0.5) and config.eps_schedule == "exp"
    agent = linear.make_agent(env, config, seed=0)
    scaler = agent.features.pipeline.steps[0][1]
    box = env.observation_space
    assert np.all(np.abs(scaler.mean_ - (box.low + box.high) / 2) < 0.02 * (box.high - box.low))
    assert np.all(np.abs(scaler.scale_ - (box.high - box.low) / np.sqrt(12)) < 0.02 * (box.high - box.low))
    returns = []
    linear.train(agent, env, 2, 0, lambda t, r, n: returns.append((r, n)))
    assert returns == [(-200.0, 200), (-200.0, 200)]
    assert all(np.any(m.coef_ != 0) for m in agent.models)


def test_bad_input_is_a_config_error():
    with pytest.raises(ConfigError, match="defaults for"):
        linear.default_config("Pong-v5")
    with pytest.raises(ConfigError, match="bounded observation space"):
        linear.make_agent(gym.make(linear.CARTPOLE_ID),
                          linear.default_config(linear.CARTPOLE_ID, state_sampling="box"))
    with pytest.raises(ConfigError, match="eps_schedule"):
        linear.make_agent(gym.make(linear.CARTPOLE_ID),
                          linear.default_config(linear.CARTPOLE_ID, eps_schedule="linear"))


def test_short_training_beats_random_on_cartpole():
    # Three seeds of 50 episodes: each greedy policy is well above a random one and training improves
    # (bench/cartpole_linear.py shows where longer runs go).
    random_mean = np.mean(random_returns(linear.CARTPOLE_ID, 50, seed=10_000))
    assert random_mean < 30
    for seed in (0, 1, 3):
        agent, returns = train_returns(seed, 50)
        evals = [r for r, _ in linear.evaluate(agent, linear.CARTPOLE_ID, 10, seed=10_000 + seed)]
        assert np.mean(evals) > 2 * random_mean, (seed, np.mean(evals), random_mean)
        assert np.mean(returns[-20:]) > 1.5 * np.mean(returns[:20]), (seed, returns)


@pytest.mark.parametrize("learning_rate, penalty, fit_intercept", [
    ("constant", "l2", True), ("invscaling", "l2", True), ("optimal", "l2", False), ("constant", None, True)])
def test_fast_sgd_equals_sklearn_partial_fit(learning_rate, penalty, fit_intercept):
    from sklearn.linear_model import SGDRegressor

    from reproduce.tabular.sgd import FastSGDRegressor

    rng = np.random.default_rng(0)
    options = dict(learning_rate=learning_rate, penalty=penalty, fit_intercept=fit_intercept, eta0=0.05,
                   alpha=1e-3, power_t=0.3, random_state=1)
    reference, fast = SGDRegressor(**options), FastSGDRegressor(**options)
    for _ in range(300):  # one row per call, as the agent does
        x, y = rng.normal(size=(1, 20)), [float(rng.normal(3.0, 2.0))]
        reference.partial_fit(x, y)
        fast.partial_fit(x, y)
    rows, ys = rng.normal(size=(50, 20)), rng.normal(size=50)  # several rows in order (no shuffling)
    reference.set_params(shuffle=False).partial_fit(rows, ys)
    fast.partial_fit(rows, ys)
    assert np.array_equal(fast.coef_, reference.coef_)
    assert np.array_equal(fast.intercept_, reference.intercept_)
    assert fast.t_ == reference.t_ == 351.0
    np.testing.assert_allclose(fast.predict(rows), reference.predict(rows), rtol=1e-12)
    with pytest.raises(ValueError, match="averaging"):
        FastSGDRegressor(average=True)


def test_fast_agent_equals_the_sklearn_reference():
    # The experiment's agent (numba partial_fit) against scikit-learn's SGDRegressor: the same actions,
    # returns and, bit for bit, weights, intercepts and t counters after a short run.
    def run(reference):
        env = gym.make(linear.CARTPOLE_ID)
        agent = linear.make_agent(env, linear.default_config(linear.CARTPOLE_ID, **SMALL), 3, reference)
        actions, act = [], agent.act
        agent.act = lambda x, eps=0.0: actions.append(act(x, eps)) or actions[-1]
        returns = []
        linear.train(agent, env, 30, 3, lambda t, r, n: returns.append(r))
        return agent, actions, returns

    (fast, fast_actions, fast_returns), (ref, ref_actions, ref_returns) = run(False), run(True)
    assert type(ref.models[0]).__name__ == "SGDRegressor"
    assert type(fast.models[0]).__name__ == "FastSGDRegressor"
    assert fast_actions == ref_actions and fast_returns == ref_returns and len(fast_actions) > 300
    for f, r in zip(fast.models, ref.models):
        assert np.array_equal(f.coef_, r.coef_) and np.array_equal(f.intercept_, r.intercept_)
        assert f.t_ == r.t_
