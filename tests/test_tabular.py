"""The tutorial's table methods: update rules, the numba engine against the per-step reference
on the real NChain-v0, determinism, tie counting, CIs, and the CartPole bucketed baseline."""

import gymnasium as gym
import numba
import numpy as np
import pytest

from reproduce.envs import NCHAIN_ID
from reproduce.evaluation import random_returns
from reproduce.stats import wilson_ci
from reproduce.tabular import agents, cartpole, engine

NO_U = np.empty(0)
NO_A = np.empty(0, np.int8)


def engine_train(method, rule, episodes, steps, slip=0.0, replay_u=NO_U, replay_a=NO_A, seed=1):
    q = np.zeros((5, 2))
    curve = np.zeros(episodes)
    state = engine.train_table(method, rule == "textbook", q, episodes, steps, slip, 5, 2.0, 10.0, 0.8,
                               0.95, 0.5, 0.999, np.uint64(seed), curve, replay_u, replay_a)
    return q, curve, state


# --- update rules, by hand -------------------------------------------------------------------

@pytest.mark.parametrize("rule, expected", [
    ("tutorial", 2 + 10 + 0.8 * (0.95 * 3 - 2)),  # reward outside lr: 12.68
    ("textbook", 2 + 0.8 * (10 + 0.95 * 3 - 2)),  # 10.68
])
def test_q_update_hand_computed(rule, expected):
    q = np.array([[2.0, 0.0], [1.0, 3.0]])
    agents.q_update(q, 0, 0, 10.0, 1, rule)
    assert q[0, 0] == pytest.approx(expected, abs=1e-12)
    assert q[0, 1] == 0.0 and q[1].tolist() == [1.0, 3.0]


def test_unknown_rule_rejected():
    with pytest.raises(ValueError, match="rule must be one of"):
        agents.q_update(np.zeros((5, 2)), 0, 0, 1.0, 1, "watkins")


@pytest.mark.parametrize("rule, after1, after2", [
    ("tutorial", 2.0, 2 + 2 + 0.8 * (0.95 * 2 - 2)),  # 2, then 3.92
    ("textbook", 0.8 * 2, 1.6 + 0.8 * (2 + 0.95 * 1.6 - 1.6)),  # 1.6, then 3.136
])
def test_engine_and_reference_rules_by_hand(rule, after1, after2):
    # greedy table, slip 0, state 0: the empty row draws a random action (replayed: backward,
    # reward 2, back to 0); the second step takes argmax = backward again.
    for steps, expected in ((1, after1), (2, after2)):
        q, _, _ = engine_train(engine.GREEDY_Q, rule, 1, steps, replay_u=np.zeros(4),
                               replay_a=np.ones(4, np.int8))
        assert q[0, 1] == pytest.approx(expected, abs=1e-12)
        env = gym.make(NCHAIN_ID, max_episode_steps=steps, slip=0.0)
        env.reset(seed=0)
        ref = agents.q_learning_with_table(env, 1, agents.Replay([], [1] * 4), rule)
        assert ref[0, 1] == pytest.approx(expected, abs=1e-12)


def test_published_rule_is_textbook_rule_scaled_by_lr():
    rng = np.random.default_rng(0)
    q_tut, q_text = np.zeros((5, 2)), np.zeros((5, 2))
    for _ in range(200):
        s, a, s2 = rng.integers(5), rng.integers(2), rng.integers(5)
        r = float(rng.choice([0.0, 2.0, 10.0]))
        agents.q_update(q_tut, s, a, r, s2, "tutorial")
        agents.q_update(q_text, s, a, r, s2, "textbook")
    np.testing.assert_allclose(q_text, 0.8 * q_tut, rtol=1e-12)
    assert np.abs(q_tut - q_text).max() > 1.0


# --- engine == reference where the randomness can be fixed ------------------------------------

@pytest.mark.parametrize("rule", agents.RULES)
@pytest.mark.parametrize("method", range(3))
def test_engine_matches_reference_exactly_with_slip0_and_fixed_draws(method, rule):
    episodes, steps = 6, 40
    rng = np.random.default_rng(10 + method)
    uniforms = rng.random(episodes * steps + 1)
    actions = rng.integers(0, 2, episodes * steps + 1).astype(np.int8)
    env = gym.make(NCHAIN_ID, max_episode_steps=steps, slip=0.0)
    env.reset(seed=0)
    replay = agents.Replay(uniforms, actions)
    if method == engine.NAIVE:
        ref = agents.naive_sum_reward_agent(env, episodes, replay)
    elif method == engine.GREEDY_Q:
        ref = agents.q_learning_with_table(env, episodes, replay, rule)
    else:
        ref = agents.eps_greedy_q_learning_with_table(env, episodes, replay, rule)
    q, curve, state = engine_train(method, rule, episodes, steps, replay_u=uniforms, replay_a=actions)
    assert replay.ia > 0  # some random actions were taken
    np.testing.assert_array_equal(q, ref)
    test_return, _ = engine.run_game(q, steps, 0.0, 5, 2.0, 10.0, state)
    assert test_return == agents.run_game(ref, env)
    assert curve.shape == (episodes,) and curve.sum() > 0


def test_run_game_deterministic_without_slip():
    q = np.zeros((5, 2))  # all ties: np.argmax picks forward everywhere
    total, _ = engine.run_game(q, 1000, 0.0, 5, 2.0, 10.0, np.uint64(3))
    assert total == 10.0 * (1000 - 4)
    q[:, 1] = 1.0  # always backward
    assert engine.run_game(q, 1000, 0.0, 5, 2.0, 10.0, np.uint64(3))[0] == 2.0 * 1000


# --- engine ~ reference statistically (slip 0.2, real draws) -----------------------------------

def _agree(ref, fast, sigmas=4.0):
    """|mean difference| <= sigmas * standard error of the difference, per column."""
    ref, fast = np.asarray(ref, float), np.asarray(fast, float)
    se = np.sqrt(ref.var(axis=0, ddof=1) / len(ref) + fast.var(axis=0, ddof=1) / len(fast))
    return np.abs(ref.mean(axis=0) - fast.mean(axis=0)) <= sigmas * se + 1e-9


def test_engine_agrees_statistically_with_reference_on_real_env():
    # 150 reference rounds of 3 x 10 episodes x 100 steps on gym.make("NChain-v0") (~3 s),
    # 3000 engine rounds. A 4-sigma bound on each mean difference (test returns, win shares,
    # every cell of the mean final tables) has a false-alarm rate of ~6e-5 per comparison.
    rounds, episodes, steps = 150, 10, 100
    ref_returns, ref_tables = agents.test_methods(rounds, episodes, seed=7, steps=steps)
    fast = engine.tournament(rounds=3000, episodes=episodes, seed=7, steps=steps)
    assert _agree(ref_returns, fast.returns).all()
    ref_win = np.eye(3)[engine.winners(ref_returns)[0]]
    fast_win = np.eye(3)[engine.winners(fast.returns)[0]]
    assert _agree(ref_win, fast_win).all()
    assert _agree(ref_tables.reshape(rounds, -1), fast.q.reshape(3000, -1)).all()
    # The same check has the power to see a wrong rule: textbook tables are 0.8x smaller.
    wrong = engine.tournament(rounds=3000, episodes=episodes, seed=7, steps=steps, rule="textbook")
    assert not _agree(ref_tables.reshape(rounds, -1), wrong.q.reshape(3000, -1)).all()


# --- determinism, ties, CIs ----------------------------------------------------------------------

def test_tournament_deterministic_prefix_stable_and_thread_independent():
    a = engine.tournament(rounds=6, episodes=5, seed=11, steps=200)
    b = engine.tournament(rounds=6, episodes=5, seed=11, steps=200, progress=True)
    prefix = engine.tournament(rounds=3, episodes=5, seed=11, steps=200)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = engine.tournament(rounds=6, episodes=5, seed=11, steps=200)
    finally:
        numba.set_num_threads(threads)
    for other in (b, single):
        np.testing.assert_array_equal(a.returns, other.returns)
        np.testing.assert_array_equal(a.q, other.q)
        np.testing.assert_array_equal(a.curves, other.curves)
    np.testing.assert_array_equal(a.returns[:3], prefix.returns)
    c = engine.tournament(rounds=6, episodes=5, seed=12, steps=200)
    assert not np.array_equal(a.returns, c.returns)


def test_winners_argmax_rule_and_tie_count():
    returns = np.array([[5, 5, 1], [1, 2, 3], [4, 4, 4], [1, 3, 3], [9, 2, 9], [0, 7, 1]])
    winner, tie = engine.winners(returns)
    assert winner.tolist() == [0, 2, 0, 1, 0, 1]  # np.argmax: the first method wins a tie
    assert tie.tolist() == [True, False, True, True, True, False]


def test_wilson_ci_known_cases():
    # Wilson 95% intervals (z = 1.95996): 5/10 -> (0.2366, 0.7634); 0/10 -> (0, 0.2775)
    assert wilson_ci(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_ci(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    low, high = wilson_ci(65, 100)
    assert low < 0.65 < high and low == pytest.approx(0.5525, abs=1e-4)


# --- CartPole ---------------------------------------------------------------------------------

def test_buckets_clip_and_split():
    b = cartpole.Buckets()
    assert b.index([0.0, 0.0, -1.0, -5.0]) == (0, 0, 0, 0)
    assert b.index([0.0, 0.0, 1.0, 5.0]) == (0, 0, 5, 2)
    assert b.index([0.0, 0.0, 0.01, 0.0]) == (0, 0, 3, 1)


def test_cartpole_baseline_beats_random_and_is_deterministic():
    def run():
        agent = cartpole.BucketQAgent(seed=3)
        env = gym.make(cartpole.ENV_ID)
        train = []
        cartpole.train(agent, env, 150, seed=3, on_episode=lambda t, r, n: train.append(r))
        evals = cartpole.evaluate(agent, 20, seed=10_003)
        return train, [r for r, _ in evals]

    train, evals = run()
    random_mean = np.mean(random_returns(cartpole.ENV_ID, 20, seed=10_003))
    assert random_mean < 40
    assert np.mean(evals) > max(3 * random_mean, 100), (np.mean(evals), random_mean)
    assert np.mean(train[-20:]) > 2 * np.mean(train[:20])
    assert run() == (train, evals)
