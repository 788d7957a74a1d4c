"""A run that keeps training after a periodic check solves reports two numbers, each reproducible from
the run directory: when it first solved (and that agent's checkpoint), and how the final agent does."""

import dataclasses

import gymnasium as gym
import pandas as pd
import pytest

from reproduce.contract import Summary
from reproduce.evaluate_command import main as evaluate
from reproduce.runs import RunDir, read_json


@pytest.fixture
def easy_threshold(monkeypatch):
    """CartPole-v1 'solved' at 9: an untrained agent passes the first check, so a short run solves early."""
    monkeypatch.setattr(gym.spec("CartPole-v1"), "reward_threshold", 9.0)


def test_final_agent_and_first_solve_are_both_recorded_and_reproducible(tmp_path, easy_threshold, capsys):
    from reproduce import experiments

    experiment = experiments.get("cartpole-dqn")
    config = dataclasses.replace(experiment.config(), steps=600, check_every=200, check_episodes=2,
                                 eval_episodes=3, checkpoint_every=300)
    experiment.run(config, tmp_path)
    summary = Summary.from_json(read_json(tmp_path / RunDir.SUMMARY))
    assert summary["solved_during_training"] and summary.steps_to_solve == 200
    curve = pd.read_csv(tmp_path / RunDir.EVAL_CURVE)
    assert curve.step.tolist() == [200, 400, 600]  # the checks went on after the solve
    evals = pd.read_csv(tmp_path / RunDir.EVAL)
    assert summary.eval_mean == pytest.approx(evals.r.mean())  # eval.csv is the final agent's
    solved = sorted((tmp_path / "checkpoints_solved").iterdir())
    assert [p.name for p in solved] == ["ckpt_000000200_steps"]
    assert evaluate(str(solved[0]), episodes=3, seed=None) == 0
    assert f"{summary['solve_eval_mean']:.2f}" in capsys.readouterr().out  # the first-solve number
    assert evaluate(str(tmp_path), episodes=3, seed=None) == 0
    assert f"{summary.eval_mean:.2f}" in capsys.readouterr().out  # the final agent's number
