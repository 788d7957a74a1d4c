"""``reproduce run nchain-tabular`` / ``cartpole-tabular`` end to end, and their bad input."""

import json

import pandas as pd
import pytest

from reproduce import cli as cli_module
from reproduce.stats import wilson_ci

DETERMINISTIC = ("rounds.csv", "q_tables.csv", "curves.csv", "summary.csv")


def test_nchain_tabular_end_to_end_seeds_and_determinism(cli, tmp_path):
    args = ("--rounds", "12", "--episodes", "8", "--rule", "tutorial")
    first = cli("run", "nchain-tabular", *args, "--seed", "3", "--seeds", "2", "--out", tmp_path / "a")
    assert first.returncode == 0, first.stderr[-2000:]
    again = cli("run", "nchain-tabular", *args, "--seed", "4", "--out", tmp_path / "b")
    assert again.returncode == 0, again.stderr[-2000:]
    for name in DETERMINISTIC:  # same seed, byte-identical CSVs
        assert (tmp_path / "a" / "seed4" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    other_seed = (tmp_path / "a" / "seed3" / "rounds.csv").read_bytes()
    assert other_seed != (tmp_path / "b" / "rounds.csv").read_bytes()

    run = tmp_path / "b"
    assert {"config.json", "manifest.json", "summary.json", *DETERMINISTIC} <= {p.name for p in run.iterdir()}
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 4
    assert json.loads((run / "config.json").read_text())["rounds"] == 12
    rounds = pd.read_csv(run / "rounds.csv")
    assert list(rounds.columns) == ["round", "naive", "greedy_q", "eps_greedy_q", "winner_argmax", "tie"]
    assert len(rounds) == 12
    s = json.loads((run / "summary.json").read_text())
    methods = ("naive", "greedy_q", "eps_greedy_q")
    assert sum(s[f"wins_{m}"] for m in methods) == 12
    assert s["ties"] == int(rounds["tie"].sum())
    for m in methods:
        assert s[f"wins_{m}"] == int((rounds["winner_argmax"] == m).sum())
        assert (s[f"win_share_ci_low_{m}"], s[f"win_share_ci_high_{m}"]) == pytest.approx(
            wilson_ci(s[f"wins_{m}"], 12))
        assert s[f"mean_return_{m}"] == pytest.approx(rounds[m].mean())
        assert s[f"regret_{m}"] == pytest.approx(s["optimal_return"] - rounds[m].mean())
        assert len(s[f"policy_{m}"]) == 5
    assert s["optimal_return"] == pytest.approx(3663.69, abs=0.01)
    assert "max_abs_q_error_eps_greedy_q" in s and "max_abs_q_error_naive" not in s
    assert s["wall_time_s"] > 0
    tables = pd.read_csv(run / "q_tables.csv")
    assert list(tables.columns) == ["method", "state", "q_forward", "q_backward"]
    assert set(tables["method"]) == {*methods, "q_star"}
    per_method = pd.read_csv(run / "summary.csv").set_index("method")
    assert set("".join(per_method["policy"])) <= {"F", "B"}
    assert per_method.loc["eps_greedy_q", "wins"] == s["wins_eps_greedy_q"]
    assert per_method.loc["greedy_q", "regret"] == pytest.approx(s["regret_greedy_q"])


def test_cartpole_tabular_end_to_end(cli, tmp_path):
    result = cli("run", "cartpole-tabular", "--episodes", "30", "--seed", "2", "--out", tmp_path / "c")
    assert result.returncode == 0, result.stderr[-2000:]
    run = tmp_path / "c"
    from callbacks.monitor import load_rewards

    episodes = load_rewards(run)
    assert len(episodes) == 30 and episodes.attrs["header"]["env_id"] == "CartPole-v1"
    evals = pd.read_csv(run / "eval.csv")
    assert list(evals.columns) == ["episode", "r", "l"] and len(evals) == 100
    s = json.loads((run / "summary.json").read_text())
    assert s["eval_mean"] == pytest.approx(evals["r"].mean())
    assert s["solved"] == (s["eval_mean"] >= 475) and s["wall_time_s"] > 0


@pytest.mark.parametrize("argv, fragment", [
    (["run", "nchain-tabular", "--rule", "watkins"],
     "--rule expects one of tutorial, textbook, got 'watkins'"),
    (["run", "nchain-tabular", "--rounds", "0"], "--rounds expects a positive integer, got '0'"),
    (["run", "nchain-tabular", "--rounds", "-3"], "--rounds expects a positive integer, got '-3'"),
    (["run", "nchain-tabular", "--episodes", "1.5"], "--episodes expects a positive integer, got '1.5'"),
    (["run", "nchain-tabular", "--episodes", "many"], "--episodes expects a positive integer, got 'many'"),
    (["run", "cartpole-tabular", "--episodes", "0"], "--episodes expects a positive integer, got '0'"),
    (["run", "cartpole-tabular", "--episodes", "2.5"], "--episodes expects a positive integer, got '2.5'"),
])
def test_bad_input_in_process(argv, fragment, tmp_path, capsys):
    out = tmp_path / "never"
    assert cli_module.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and fragment in err[0]
    assert not out.exists()


@pytest.mark.parametrize("kind", ["rule", "out-file"])
def test_bad_input_subprocess(cli, tmp_path, kind):
    target = tmp_path / "run"
    if kind == "rule":
        result = cli("run", "nchain-tabular", "--rule", "Tutorial", "--out", target)
    else:
        target.write_text("not a directory")
        result = cli("run", "nchain-tabular", "--rounds", "2", "--episodes", "2", "--out", target)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ")
    assert not [line for line in lines if line.startswith(("error", "Traceback"))][:-1]
    if kind == "rule":
        assert not target.exists()
    else:
        assert "is an existing file" in lines[-1] and target.read_text() == "not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == (["run"] if kind == "out-file" else [])
