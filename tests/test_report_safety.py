"""A report that cannot half-write: built aside and swapped in, removes only its own files, reads only
regular files inside the results tree, skips malformed runs with one warning, says so when nothing is done."""

from __future__ import annotations

import json
import os

import pytest

from callbacks.monitor import MonitorWriter
from reproduce import cli, report
from reproduce.runs import RunDir, write_json


def make_run(root, seed, summary=None, episodes=(10.0, 20.0, 30.0)):
    path = root / "runs" / "cartpole-dqn" / f"seed{seed}"
    config = {"seed": seed, "env_id": "CartPole-v1"}
    run = RunDir(path, "cartpole-dqn", config, seed, command=["test"]).start()
    with MonitorWriter(path / "episodes.csv", ["episode"], {"env_id": "test"}) as log:
        for i, r in enumerate(episodes):
            log.write(r, 10, t=0.0, episode=i)
    write_json(path / "summary.json", {"env_id": "CartPole-v1", "eval_mean": 100.0 + seed, "solved": False,
                                       "reward_threshold": 475.0, "wall_time_s": 1.0, **(summary or {})})
    run.finish()
    return path


@pytest.fixture(autouse=True)
def one_quick_figure(monkeypatch):
    """The figures are someone else's tests; here one small file stands for them (fast)."""
    def draw(collection, reports, plots_dir):
        (plots_dir / "figure.png").write_bytes(b"png")
        return [(plots_dir / "figure.png", "a figure")]

    monkeypatch.setattr(report, "draw", draw)


@pytest.fixture
def results(tmp_path):
    for seed in range(2):
        make_run(tmp_path, seed)
    return tmp_path


def files(root) -> dict:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "runs" not in p.relative_to(root).parts}


def test_a_failed_report_leaves_the_previous_one_intact(results, monkeypatch):
    report.build(results)
    before = files(results)
    (results / "runs" / "cartpole-dqn" / "seed0" / "summary.json").write_text(json.dumps({"eval_mean": 1.0}))

    def broken(*args, **kwargs):
        raise RuntimeError("disk trouble while rendering")

    monkeypatch.setattr(report, "render_markdown", broken)
    with pytest.raises(RuntimeError):
        report.build(results)
    assert files(results) == before
    assert not [p for p in results.iterdir() if p.name.startswith(".report-")]  # no staging left behind


def test_only_files_it_wrote_are_removed(results):
    (results / "plots").mkdir()
    (results / "plots" / "mine.png").write_bytes(b"not the report's")
    (results / "plots" / "old_figure.png").write_bytes(b"the last report's")
    (results / ".report_files.json").write_text(json.dumps({"files": ["plots/old_figure.png"]}))
    outcome = report.build(results)
    assert (results / "plots" / "mine.png").read_bytes() == b"not the report's"
    assert not (results / "plots" / "old_figure.png").exists()
    written = json.loads((results / ".report_files.json").read_text())["files"]
    assert "REPORT.md" in written and all((results / name).is_file() for name in written)
    assert {p.name for p in outcome["plots"]} <= {name.split("/")[-1] for name in written}


def test_a_symlinked_plots_directory_is_not_followed(results, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "precious.png").write_bytes(b"x")
    (results / "plots").symlink_to(outside, target_is_directory=True)
    with pytest.raises(report.ConfigError, match="plots is not a directory"):
        report.build(results)
    assert [p.name for p in outside.iterdir()] == ["precious.png"]


def test_runs_linked_from_outside_the_tree_are_not_read(results, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    make_run(outside, 7)
    os.symlink(outside / "runs" / "cartpole-dqn" / "seed7", results / "runs" / "cartpole-dqn" / "seed7")
    outcome = report.build(results)
    assert outcome["runs"] == 2


@pytest.mark.parametrize("damage, fragment", [
    (lambda p: _edit(p / "manifest.json", seed="two"), "field 'seed' expects an integer, got 'two'"),
    (lambda p: _edit(p / "summary.json", eval_mean="high"), "field 'eval_mean' expects a number, got 'high'"),
    (lambda p: (p / "eval.csv").unlink() or os.mkfifo(p / "eval.csv"), "eval.csv is not a regular file"),
    (lambda p: _truncate(p / "episodes.csv"), "episodes.csv is truncated"),
])
def test_a_malformed_run_is_skipped_with_one_warning_naming_it(results, capsys, damage, fragment):
    bad = results / "runs" / "cartpole-dqn" / "seed1"
    (bad / "eval.csv").write_text("episode,r\n0,1.0\n")
    damage(bad)
    assert cli.main(["report", "--results", str(results)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    skipped = [line for line in err if line.startswith("skipped")]
    assert len(skipped) == 1 and str(bad) in skipped[0] and fragment in skipped[0], err


def _edit(path, **changes):
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-3])


def test_no_complete_run_is_one_line_and_changes_nothing(results, capsys):
    report.build(results)
    before = files(results)
    for seed in range(2):
        _edit(results / "runs" / "cartpole-dqn" / f"seed{seed}" / "manifest.json", status="interrupted")
    assert cli.main(["report", "--results", str(results)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no complete run under"), err
    assert files(results) == before
