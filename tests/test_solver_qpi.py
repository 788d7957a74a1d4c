"""Exact Q^pi of stochastic NChain policies (what SARSA converges to) against Q* and by hand."""

import numpy as np
import pytest

from reproduce.envs import eps_greedy_probs, q_pi, q_star, solve_nchain
from reproduce.envs.solver import transition_model
from reproduce.errors import ConfigError


def test_greedy_optimal_policy_has_q_star():
    solution = solve_nchain()
    np.testing.assert_allclose(q_pi(eps_greedy_probs(solution.q, 0.0)), solution.q, rtol=0, atol=1e-8)


@pytest.mark.parametrize("slip, gamma", [(0.2, 0.95), (0.0, 0.9), (0.5, 0.5)])
def test_q_pi_satisfies_its_bellman_equation(slip, gamma):
    probs = np.random.default_rng(3).dirichlet([1.0, 1.0], size=5)
    q = q_pi(probs, slip=slip, gamma=gamma)
    p, r = transition_model(slip=slip)
    v = (probs * q).sum(axis=1)
    np.testing.assert_allclose(q, r + gamma * p @ v, rtol=0, atol=1e-9)


@pytest.mark.parametrize("eps", [0.05, 0.5, 1.0])
def test_eps_greedy_q_pi_is_below_q_star(eps):
    star = q_star()
    q = q_pi(eps_greedy_probs(star, eps))
    assert np.all(q <= star + 1e-9)
    assert np.max(star - q) > 0.1


def test_two_state_chain_by_hand():
    # No slip, gamma 0.5, uniform policy. V0 = 1 + (V0 + V1)/4 and V1 = 6 + (V0 + V1)/4 give
    # V0 = 4.5, V1 = 9.5; then Q(0,F) = 0 + V1/2, Q(0,B) = 2 + V0/2, Q(1,F) = 10 + V1/2, Q(1,B) = 2 + V0/2.
    q = q_pi(np.full((2, 2), 0.5), n=2, slip=0.0, gamma=0.5)
    np.testing.assert_allclose(q, [[4.75, 4.25], [14.75, 4.25]], rtol=0, atol=1e-12)


def test_eps_greedy_probs_breaks_ties_like_argmax():
    probs = eps_greedy_probs([[1.0, 1.0], [0.0, 2.0], [3.0, -1.0]], 0.2)
    np.testing.assert_allclose(probs, [[0.9, 0.1], [0.1, 0.9], [0.9, 0.1]])


@pytest.mark.parametrize("probs", [np.full((5, 2), 0.4), np.full((4, 2), 0.5), [[1.5, -0.5]] * 5])
def test_bad_policy_is_a_config_error(probs):
    with pytest.raises(ConfigError, match="policy_probs"):
        q_pi(probs)


def test_bad_eps_is_a_config_error():
    with pytest.raises(ConfigError, match="eps must be in"):
        eps_greedy_probs(np.zeros((5, 2)), 1.5)
