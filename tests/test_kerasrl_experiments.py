"""Each keras-rl experiment that only ran inside `reproduce all --quick` now runs here on a budget of
seconds, and a number of its run directory is checked against what the env allows."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from reproduce import experiments
from reproduce.contract import Summary
from reproduce.runs import RunDir, read_json


def run(name, tmp_path, **options):
    experiment = experiments.get(name)
    config = experiment.validate(dataclasses.replace(experiment.config(), **options))
    experiment.run(config, tmp_path)
    evals = pd.read_csv(tmp_path / RunDir.EVAL)
    return Summary.from_json(read_json(tmp_path / RunDir.SUMMARY)), evals


def test_nchain_sarsa_reports_its_policy_against_the_exact_optimum(tmp_path):
    summary, _ = run("nchain-sarsa", tmp_path, steps=1500, eval_episodes=1)
    assert set(summary["policy"]) <= {"F", "B"} and len(summary["policy"]) == 5
    assert summary["regret"] == pytest.approx(summary["optimal_return"] - summary["expected_return"])
    assert 0.0 <= summary["regret"] <= summary["optimal_return"]
    q = pd.read_csv(tmp_path / RunDir.Q_TABLE)
    assert len(q) == 5 and np.isfinite(summary["max_abs_q_pi_error"])


@pytest.mark.parametrize("name, env_cap", [("cartpole-cem", 500), ("cartpole-duel-dqn", 500),
                                           ("cartpole-dotmask-kerasrl", 200)])
def test_cartpole_examples_score_one_per_step_within_the_time_limit(name, env_cap, tmp_path):
    summary, evals = run(name, tmp_path, steps=400, eval_episodes=3)
    assert len(evals) == 3 and (evals.r == evals.l).all()  # CartPole pays 1 per step
    assert evals.l.between(8, env_cap).all()
    assert summary.eval_mean == pytest.approx(evals.r.mean())


def test_pendulum_naf_test_returns_are_in_pendulums_range(tmp_path):
    summary, evals = run("pendulum-naf", tmp_path, steps=300, eval_episodes=2)
    assert (evals.l == 200).all()
    assert evals.r.between(-16.2736044 * 200, 0.0).all()  # Pendulum-v1's reward lies in [-16.27, 0]
    assert summary.solved is False


def test_catch_dqn_exact_win_rate_counts_the_63_starts(tmp_path):
    summary, evals = run("catch-dqn", tmp_path, steps=450, eval_episodes=3)
    assert summary["optimal_win_rate"] == 1.0
    assert round(summary["exact_win_rate"] * 63) == pytest.approx(summary["exact_win_rate"] * 63, abs=1e-9)
    assert evals.r.isin([-1.0, 1.0]).all()
