"""A run directory is owned by one run: reruns, --force, --resume, sweeps and evaluate respect it."""

from __future__ import annotations

import json

import pytest

from reproduce import cli
from reproduce.errors import ConfigError
from reproduce.kerasrl.config import DQNRunConfig
from reproduce.runs import RunDir, fingerprint, run_config
from reproduce.sweep import Job, LocalExecutor, sweep

TAB = ("--rounds", "2", "--episodes", "3")


def main(capsys, *argv) -> tuple[int, list[str], list[str]]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out.strip().splitlines(), captured.err.strip().splitlines()


def snapshot(path) -> dict:
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def complete(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(capsys, "run", "nchain-tabular", *TAB, "--out", out)[0] == 0
    return out


def test_the_manifest_records_the_config_fingerprint(complete):
    config = json.loads((complete / "config.json").read_text())
    manifest = json.loads((complete / "manifest.json").read_text())
    assert manifest["fingerprint"] == fingerprint(config) and config["experiment"] == "nchain-tabular"


def test_a_rerun_of_a_complete_run_changes_nothing(complete, capsys):
    before = snapshot(complete)
    code, out, _ = main(capsys, "run", "nchain-tabular", *TAB, "--out", complete)
    assert code == 0 and "already complete" in out[-1]
    assert snapshot(complete) == before


@pytest.mark.parametrize("argv, fragment", [
    (("nchain-tabular", "--rounds", "3", "--episodes", "3"), "rounds 2 there, 3 here"),
    (("nchain-tabular", *TAB, "--seed", "4"), "seed 0 there, 4 here"),
    (("cartpole-tabular", "--episodes", "3"), "a run of 'nchain-tabular', not 'cartpole-tabular'"),
])
def test_another_run_into_a_run_directory_is_refused_in_one_line(complete, capsys, argv, fragment):
    before = snapshot(complete)
    code, _, err = main(capsys, "run", *argv, "--out", complete)
    assert code == 2 and len(err) == 1 and fragment in err[0] and "--force" in err[0], err
    assert snapshot(complete) == before


def test_force_replaces_the_run_and_its_checkpoints(complete, capsys):
    stale = complete / "checkpoints" / "ckpt_999999999_steps"
    stale.mkdir(parents=True)
    (stale / "COMPLETE").write_text("{}")
    code, _, _ = main(capsys, "run", "nchain-tabular", "--rounds", "3", "--episodes", "3", "--out", complete,
                      "--force")
    assert code == 0 and not stale.exists()  # retention and evaluate only ever see this run's checkpoints
    assert json.loads((complete / "config.json").read_text())["rounds"] == 3


def test_a_directory_that_holds_no_run_is_not_written(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep")
    code, _, err = main(capsys, "run", "nchain-tabular", *TAB, "--out", tmp_path)
    assert code == 2 and len(err) == 1 and "holds no run" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def fake_dqn_run(path, status="complete", **changes) -> dict:
    """A nchain-dqn run directory as the runner writes it (no training: only its config and manifest)."""
    from reproduce import experiments

    config = experiments.get("nchain-dqn").config()
    rd = RunDir(path, "nchain-dqn", config, 0, command=["test"]).start()
    if status == "complete":
        rd.finish()
    else:
        rd.release()
    data = run_config("nchain-dqn", config)
    for key, value in changes.items():
        target = data
        *parents, last = key.split(".")
        for parent in parents:
            target = target[parent]
        target[last] = value
    if changes:
        (path / "config.json").write_text(json.dumps(data))
    return data


def test_resume_of_a_complete_run_says_so_and_changes_nothing(tmp_path, capsys):
    fake_dqn_run(tmp_path / "run")
    before = snapshot(tmp_path / "run")
    code, out, _ = main(capsys, "run", "nchain-dqn", "--resume", tmp_path / "run")
    assert code == 0 and "already complete" in out[-1] and "nothing changed" in out[-1]
    assert snapshot(tmp_path / "run") == before


@pytest.mark.parametrize("extra, fragment", [
    (("--steps", "10000"), "steps 30000 there, 10000 here"),
    (("--seed", "5"), "seed 0 there, 5 here"),
    (("--out", "elsewhere"), "drop --out"),
    (("--seeds", "2"), "drop --seeds"),
])
def test_resume_with_contradicting_options_is_refused(tmp_path, capsys, extra, fragment):
    fake_dqn_run(tmp_path / "run", status="interrupted")
    code, _, err = main(capsys, "run", "nchain-dqn", "--resume", tmp_path / "run", *extra)
    assert code == 2 and len(err) == 1 and fragment in err[0], err


@pytest.mark.parametrize("field, value, fragment", [
    ("seed", "abc", "field 'seed' expects an integer, got 'abc'"),
    ("dqn.policy", "boltzmann", "field 'dqn.policy' expects an object"),
    ("dqn.learning_rate", "fast", "field 'dqn.learning_rate' expects a number, got 'fast'"),
    ("dqn", [], "field 'dqn' expects an object"),
    ("bogus", 1, "unknown field 'bogus'"),
    ("steps", 10**13, "field 'steps' expects"),
    ("dqn.policy.name", "softmax", "field 'dqn.policy.name' expects one of"),
])
def test_a_damaged_config_json_is_one_line_naming_the_field(tmp_path, capsys, field, value, fragment):
    fake_dqn_run(tmp_path / "run", status="interrupted", **{field: value})
    code, _, err = main(capsys, "run", "nchain-dqn", "--resume", tmp_path / "run")
    assert code == 2 and len(err) == 1 and fragment in err[0], err


def test_a_sweep_applies_the_rule_per_seed(tmp_path):
    other = tmp_path / "seed1"
    assert cli.main(["run", "cartpole-tabular", "--episodes", "3", "--out", str(other)]) == 0
    before = snapshot(other)
    jobs = [Job("nchain-tabular", seed, tmp_path / f"seed{seed}", TAB) for seed in (0, 1)]
    first = sweep(jobs, LocalExecutor(2))
    assert first.status.tolist() == ["complete", "failed"]
    assert "a run of 'cartpole-tabular', not 'nchain-tabular'" in first.error[1]
    assert snapshot(other) == before  # another experiment's run is neither skipped as done nor overwritten
    changed = [Job("nchain-tabular", 0, tmp_path / "seed0", ("--rounds", "3", "--episodes", "3"))]
    again = sweep(jobs[:1] + changed, LocalExecutor(1))
    assert again.status.tolist() == ["skipped", "failed"]  # same options: done; other options: refused
    assert "rounds 2 there, 3 here" in again.error[1]


def test_a_job_resumes_only_a_run_of_its_own_options(tmp_path):
    run = tmp_path / "seed0"
    fake_dqn_run(run, status="interrupted")
    (run / "checkpoints" / "ckpt_000000500_steps").mkdir(parents=True)
    (run / "checkpoints" / "ckpt_000000500_steps" / "COMPLETE").write_text("{}")
    assert "--resume" in Job("nchain-dqn", 0, run).command()
    assert "--resume" not in Job("nchain-dqn", 0, run, ("--steps", "900")).command()


def test_evaluate_refuses_a_checkpoint_of_another_run(tmp_path):
    from reproduce.evaluate_command import check_belongs

    run = tmp_path / "run"
    config = fake_dqn_run(run)
    ckpt = run / "checkpoints" / "ckpt_000000500_steps"
    check_belongs(ckpt, {"config": config})  # its own: fine
    other = run_config("cartpole-dqn", DQNRunConfig())
    with pytest.raises(ConfigError, match="does not belong to the run"):
        check_belongs(ckpt, {"config": other})
