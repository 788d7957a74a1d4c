"""The Dot-masked CartPole-v0 DQN notebook: published settings, the replayed draws, the in-graph physics,
the fast version against the notebook's loop (with and without the notebook's quirks), demo and
evaluation."""

import numpy as np
import pytest
import tensorflow as tf

from reproduce.errors import ConfigError
from reproduce.originals import dotmask as dm

# Short runs that train: the quirks run needs observe >= memory - 2 (the notebook samples from a full
# deque); the fixed run samples from a deque that is still filling (202 .. 300 transitions).
QUIRKS = dict(steps=800, memory=300, observe=300, log_every=200)
FIXED = dict(steps=600, memory=300, observe=200, log_every=200)


@pytest.fixture(scope="module")
def quirks_runs():
    kw = dict(QUIRKS)
    steps = kw.pop("steps")
    return dm.train_reference(5, steps, True, **kw), dm.train_fast(5, steps, True, **kw)


@pytest.fixture(scope="module")
def fixed_runs():
    kw = dict(FIXED)
    steps = kw.pop("steps")
    return dm.train_reference(5, steps, False, **kw), dm.train_fast(5, steps, False, **kw)


def test_model_and_settings_are_the_notebooks():
    s = dm.Settings()
    assert (s.steps, s.memory, s.observe, s.batch, s.gamma) == (100_000, 5000, 5000, 128, 0.9)
    assert (s.eps_start, s.eps_final, s.eps_decay, s.log_every, s.quirks) == (0.1, 1e-4, 0.9, 5000, True)
    from reproduce.originals.keras_qnet import new_session

    new_session(0)
    model, out = dm.build_models()
    dense = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Dense)]
    assert [(d.units, d.activation.__name__) for d in dense] == [(4, "relu"), (4, "relu"), (2, "linear")]
    dot = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Dot)]
    assert len(dot) == 1 and dot[0].axes == -1 and not dot[0].normalize
    assert model.input_shape == [(None, 4), (None, 2)] and model.output_shape == (None, 1)
    assert out.input_shape == (None, 4) and out.output_shape == (None, 2)
    assert all(any(w is v for v in model.weights) for w in out.weights) and len(out.weights) == 6
    assert model.loss == "mse"
    opt = model.optimizer
    assert type(opt) is tf.keras.optimizers.legacy.RMSprop
    config = opt.get_config()
    assert config["learning_rate"] == pytest.approx(1e-3) and config["rho"] == pytest.approx(0.9)
    assert (config["momentum"], config["centered"]) == (0.0, False)
    assert config["epsilon"] == pytest.approx(1e-8)  # Keras 2.0's default; 'rmsprop' today means 1e-7
    assert tf.keras.optimizers.get("rmsprop").get_config()["epsilon"] == pytest.approx(1e-7)


def test_eps_decays_66_times_after_observe():
    eps = dm.eps_schedule(dm.Settings(steps=6000))
    assert np.all(eps[:5002] == 0.1)  # the step t = 5001 still acts with 0.1, then decays
    changes = np.flatnonzero(np.diff(eps)) + 1
    assert changes.tolist() == list(range(5002, 5068))
    assert eps[5066] > 1e-4 > eps[5067] == eps[-1]
    assert eps[-1] == pytest.approx(0.1 * 0.9**66)


def test_published_draws_are_the_notebooks_np_random_calls():
    for quirks, kw in ((True, dict(steps=1500, memory=400, observe=398)), (False, FIXED)):
        s = dm.Settings(quirks=quirks, **{**kw, "eps_final": 1e-2})
        draws = dm.published_draws(11, s)
        rs = np.random.RandomState(11)
        assert draws.first_action == (rs.choice(2) if quirks else -1)
        eps = dm.eps_schedule(s)
        samples = []
        for t in range(s.steps):
            explore = rs.random() <= eps[t]
            assert draws.explore[t] == explore
            assert draws.random_action[t] == (rs.choice(2) if explore else 0)
            if t > s.observe:
                population = s.memory if quirks else min(t + 1, s.memory)
                samples.append(rs.choice(population, s.batch, replace=False))
        assert np.array_equal(draws.sample, np.array(samples))
        assert 10 < draws.explore.sum() < 400
    # the env's reset states, in order, whatever the steps between them
    import gymnasium as gym

    env = gym.make("CartPole-v0")
    first, _ = env.reset(seed=11)
    later = [env.reset()[0] for _ in range(5)]
    assert np.array_equal(np.array([first, *later]), draws.resets[:6].astype(np.float32))
    assert np.array_equal(env.unwrapped.state, draws.resets[5])


def test_graph_physics_equals_gymnasium_bit_for_bit():
    physics_np, _, limit = dm.cartpole_constants()
    assert limit == 200
    rng = np.random.default_rng(1)
    states = rng.uniform(-0.25, 0.25, (4000, 4)) * [1, 6, 1, 12]
    actions = rng.integers(0, 2, 4000).astype(np.int32)
    tf.compat.v1.keras.backend.clear_session()
    physics, zero = tf.Variable(physics_np), tf.Variable(np.int64(0))
    s_ph = tf.compat.v1.placeholder(tf.float64, states.shape)
    a_ph = tf.compat.v1.placeholder(tf.int32, actions.shape)

    def steps(s, a):
        return tf.map_fn(lambda z: dm.cartpole_step(z[0], z[1], physics, zero.read_value()), (s, a),
                         fn_output_signature=tf.float64)

    xla = tf.function(steps, jit_compile=True, autograph=False)(s_ph, a_ph)
    with tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        got = session.run(xla, {s_ph: states, a_ph: actions})
    import gymnasium as gym

    env = gym.make("CartPole-v0").unwrapped
    env.reset(seed=0)
    for state, action, new in zip(states, actions, got):
        env.state, env.steps_beyond_terminated = state.copy(), None
        env.step(int(action))
        assert np.array_equal(env.state, new)


def _assert_same_run(ref, fast):
    assert np.array_equal(ref.actions, fast.actions)
    assert np.array_equal(ref.rewards, fast.rewards) and set(ref.rewards.tolist()) == {1.0}
    assert np.array_equal(ref.terminals, fast.terminals)
    assert np.array_equal(ref.curve_steps, fast.curve_steps)
    assert np.array_equal(ref.curve, fast.curve) and np.array_equal(ref.up_time, fast.up_time)
    assert np.array_equal(ref.episode_lengths, fast.episode_lengths)
    for key in ("s", "a", "r", "s1", "terminal"):
        assert np.array_equal(ref.replay[key], fast.replay[key]), key
    assert len(ref.losses) == len(fast.losses) == ref.settings.steps - ref.settings.observe - 1
    np.testing.assert_allclose(fast.losses, ref.losses, rtol=1e-4, atol=1e-5)
    for a, b in zip(ref.weights, fast.weights):
        np.testing.assert_allclose(b, a, atol=1e-5)
    assert max(np.abs(a - b).max() for a, b in zip(ref.weights, fast.weights)) < 1e-5


def test_fast_equals_the_notebooks_loop(quirks_runs):
    ref, fast = quirks_runs
    _assert_same_run(ref, fast)
    assert ref.first_action == fast.first_action
    assert ref.terminals.sum() > 20  # many episodes, so the reset quirks are exercised


def test_fast_equals_the_fixed_loop(fixed_runs):
    ref, fast = fixed_runs
    _assert_same_run(ref, fast)
    assert ref.first_action == fast.first_action == -1


def test_quirk_stale_observation_after_terminal(quirks_runs):
    ref, _ = quirks_runs
    rep = ref.replay
    # every stored s is the previous transition's s1, also after a terminal step: the reset's
    # observation was thrown away
    assert np.array_equal(rep["s"][1:], rep["s1"][:-1])
    offset = ref.settings.steps - ref.settings.memory  # the replay holds the last `memory` steps
    assert np.array_equal(rep["terminal"], ref.terminals[offset:])
    ends = np.flatnonzero(ref.terminals)
    truncated = ref.episode_lengths == 200
    keep = (ends >= offset) & (ends < ref.settings.steps - 1)
    ends, truncated = ends[keep] - offset, truncated[keep]
    assert ends.size > 5
    _, (x_lim, theta_lim), _ = dm.cartpole_constants()
    stale = rep["s"][ends + 1]
    fell = (np.abs(stale[:, 0]) > x_lim) | (np.abs(stale[:, 2]) > theta_lim)
    assert np.array_equal(fell, ~truncated)  # the agent acts on a fallen pole ...
    assert (np.abs(rep["s1"][ends + 1][:, 2]) < 0.1).all()  # ... while the env restarted near upright


def test_fixed_run_uses_the_reset_observation(fixed_runs):
    ref, _ = fixed_runs
    rep = ref.replay
    ends = np.flatnonzero(rep["terminal"][:-1])
    assert ends.size > 5
    assert not np.array_equal(rep["s"][ends + 1], rep["s1"][ends])
    assert (np.abs(rep["s"][ends + 1]) <= 0.05).all()  # a fresh reset state
    keep = np.setdiff1d(np.arange(len(rep["s"]) - 1), ends)
    assert np.array_equal(rep["s"][keep + 1], rep["s1"][keep])


def test_up_time_excludes_the_terminal_step_with_quirks(quirks_runs, fixed_runs):
    ref, _ = quirks_runs
    lengths = ref.episode_lengths
    assert ref.up_time[0] == lengths[0] - 2  # the pre-loop step and the terminal step
    assert np.array_equal(ref.up_time[1:len(lengths)], lengths[1:] - 1)
    fixed, _ = fixed_runs
    assert np.array_equal(fixed.up_time[:len(fixed.episode_lengths)], fixed.episode_lengths)
    # the same per-step data counted both ways
    up_q, _, _ = dm.up_time_log(ref.rewards, ref.terminals, quirks=True)
    up_f, _, _ = dm.up_time_log(ref.rewards, ref.terminals, quirks=False)
    assert np.array_equal(up_f[:-1] - 1, up_q[:-1]) and up_f[-1] == up_q[-1]


def test_quirk_sampling_assumes_a_full_deque():
    s = dm.Settings()
    first_train = s.observe + 1
    assert min(first_train + 1, s.memory) == s.memory == s.population(first_train)  # full: no IndexError
    dm.Settings(memory=300, observe=298)  # exactly full at the first training step
    with pytest.raises(ConfigError, match="IndexError"):
        dm.Settings(memory=300, observe=297)
    draws = dm.published_draws(3, dm.Settings(quirks=False, **FIXED))
    population = np.minimum(np.arange(FIXED["observe"] + 1, FIXED["steps"]) + 1, FIXED["memory"])
    assert (draws.sample.max(axis=1) < population).all()  # only what is stored
    assert (draws.sample.max(axis=1)[:50] > 200).all()  # and from all of it


def test_bad_settings_raise_config_errors():
    for kwargs in (dict(steps=0), dict(steps=2.5), dict(batch=0), dict(memory=100, batch=128, observe=98),
                   dict(log_every=-1), dict(observe=-1)):
        steps = kwargs.pop("steps", 1000)
        with pytest.raises(ConfigError):
            dm.train_fast(0, steps, **kwargs)
    with pytest.raises(ConfigError, match="settings are"):
        dm.train_reference(0, 1000, gama=0.9)
    with pytest.raises(ConfigError):
        dm.evaluate([], episodes=0)


def test_numpy_forward_is_the_acting_model(quirks_runs):
    _, fast = quirks_runs
    from reproduce.originals.keras_qnet import new_session

    new_session(0)
    _, out = dm.build_models()
    out.set_weights(fast.weights[:6])
    states = np.random.default_rng(0).normal(0, 0.5, (2000, 4)).astype(np.float32)
    keras_q = out.predict(states, verbose=0)
    np.testing.assert_allclose(dm.q_values(fast.weights, states), keras_q, rtol=1e-5, atol=1e-6)


def test_demo_and_evaluate(quirks_runs):
    _, fast = quirks_runs
    demo = dm.demo_episode(fast.weights, 7)
    assert demo.steps == demo.printed + 1 and 8 <= demo.steps <= 200
    assert dm.demo_episode(fast.weights, 7) == demo
    random_demo = dm.demo_episode(None, 7)
    assert 8 <= random_demo.steps <= 200
    returns = dm.evaluate(fast.weights, episodes=5, seed=3)
    assert returns.shape == (5,) and ((returns >= 8) & (returns <= 200)).all()
    assert np.array_equal(returns, dm.evaluate(fast.weights, episodes=5, seed=3))


def test_published_log_table_lists_every_print(quirks_runs):
    _, fast = quirks_runs
    table = dm.published_log_table(fast).splitlines()
    assert len(table) == 1 + len(fast.curve_steps) == 5
    assert table[1].split()[:3] == ["0", "1.00", "1.00"]
    assert len(dm.PUBLISHED_CURVE) == len(dm.PUBLISHED_SECONDS) == 20
