"""``reproduce all --quick``: the whole suite at smoke size, then the report, end to end."""

import pandas as pd

from reproduce import experiments, suite


def test_reproduce_all_quick_end_to_end(cli, tmp_path):
    result = cli("all", "--quick", "--results", tmp_path, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    root = tmp_path / "quick"
    sweep = pd.read_csv(root / "runs" / "sweep_summary.csv")
    assert len(sweep) == len(suite.jobs(root / "runs", quick=True))
    assert set(sweep.status) == {"complete"}
    runs = pd.read_csv(root / "summary_runs.csv")
    assert set(runs.experiment) == set(experiments.names()) - experiments.OPTIONAL  # all in the suite
    report = (root / "REPORT.md").read_text()
    for heading in ("## Published vs reproduced", "## Against the exact optimum", "## Solve rates",
                    "## Greedy return", "## Sources", "## Differences from the originals", "## How to rerun"):
        assert heading in report
    assert report.count("Smoke run") == 1 and "quick/runs/" in report  # it says what it is
    assert "Missing or unreadable" not in report
    assert (root / "plots" / "nchain_win_shares.png").stat().st_size > 0


def test_suite_jobs_have_distinct_run_directories(tmp_path):
    for quick in (False, True):
        jobs = suite.jobs(tmp_path, quick=quick)
        assert len({job.out for job in jobs}) == len(jobs)
