"""Counters summed over a run survive a resume: ``checks`` counts the checks made before it too."""

from __future__ import annotations


def test_checks_made_before_a_resume_still_count(tmp_path):
    from reproduce.kerasrl.training import SolveCheck

    curve = tmp_path / "eval_curve.csv"
    curve.write_text("step,r_mean,r_min,r_max,episodes\n100,1.0,1.0,1.0,2\n200,2.0,2.0,2.0,2\n"
                     "300,3.0,3.0,3.0,2\n")
    check = SolveCheck("CartPole-v1", 475.0, 100, 2, 10, 0, 0.0, curve_path=curve, resumed_step=200)
    assert check.checks == 2  # the check at 300 came after the checkpoint: it is made again
    assert curve.read_text().splitlines()[-1].startswith("200,")
    fresh = SolveCheck("CartPole-v1", 475.0, 100, 2, 10, 0, 0.0, curve_path=tmp_path / "new.csv")
    assert fresh.checks == 0
