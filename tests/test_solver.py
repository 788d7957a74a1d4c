import numpy as np

from reproduce.envs import episode_return, solve_nchain

Q_STAR = [[61.379, 60.578], [64.891, 61.456], [69.512, 62.611], [75.592, 64.131], [83.592, 66.131]]


def test_q_star_matches_design_numbers():
    solution = solve_nchain()
    np.testing.assert_allclose(solution.q, Q_STAR, atol=1e-3)


def test_optimal_policy_is_all_forward_with_known_return():
    solution = solve_nchain()
    assert solution.policy.tolist() == [0, 0, 0, 0, 0]
    assert abs(solution.optimal_return - 3663.69) < 1e-2


def test_always_backward_return():
    assert abs(episode_return([1] * 5) - 1603.19) < 1e-2


def test_no_slip_forward_return_is_exact():
    # 4 steps to reach the end, then 996 steps paying 10.
    assert episode_return([0] * 5, slip=0.0) == 9960.0
