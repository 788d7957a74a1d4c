"""The report, built from small synthetic run directories written by the package's own writers."""

import json

import numpy as np
import pandas as pd
import pytest

from callbacks.monitor import MonitorWriter
from reproduce import report
from reproduce.compare import verdict
from reproduce.experiments.nchain_keras import PUBLISHED_KERAS_Q
from reproduce.report import collect, declared, family_table, published_vs_reproduced, tidy
from reproduce.runs import RunDir, write_csv, write_json
from reproduce.stats import binomial_range, bootstrap_ci, prediction_interval, wilson_ci


def make_run(root, experiment, seed, summary, config=None, episodes=(), q_table=None, sub=""):
    path = root / "runs" / experiment / sub / f"seed{seed}"
    run = RunDir(path, experiment, {"seed": seed, **(config or {})}, seed, command=["test"]).start()
    with MonitorWriter(path / "episodes.csv", ["episode"], {"env_id": "test"}) as log:
        for i, r in enumerate(episodes):
            log.write(r, 10, t=0.0, episode=i)
    if q_table is not None:
        write_csv(path / "q_table.csv", pd.DataFrame({"state": range(5), "q_forward": q_table[:, 0],
                                                      "q_backward": q_table[:, 1]}))
    write_json(path / "summary.json", summary)
    run.finish()
    return path


def tabular_summary(rule, wins, regret):
    s = {"rule": rule, "rounds": sum(wins.values()), "ties": 1, "wall_time_s": 1.0, "optimal_return": 3663.69}
    for m, w in wins.items():
        s |= {f"wins_{m}": w, f"mean_return_{m}": 3663.69 - regret[m], f"regret_{m}": regret[m],
              f"policy_{m}": "FFFFF", f"max_abs_q_error_{m}": 1.0}
    return s


@pytest.fixture
def results(tmp_path):
    wins = [{"naive": 1, "greedy_q": 3, "eps_greedy_q": 6}, {"naive": 3, "greedy_q": 1, "eps_greedy_q": 6}]
    for seed, w in enumerate(wins):
        make_run(tmp_path, "nchain-tabular", seed, tabular_summary("tutorial", w,
                 {"naive": 100.0 + seed, "greedy_q": 50.0, "eps_greedy_q": 10.0 * (seed + 1)}),
                 {"rule": "tutorial"}, sub="tutorial")
    q_star = np.array(PUBLISHED_KERAS_Q)
    for seed, shift in enumerate([-1.0, 0.0, 1.0]):
        make_run(tmp_path, "nchain-keras", seed,
                 {"env_id": "NChain-v0", "max_abs_q_error": 1.0 + seed, "policy": "FFFFF",
                  "expected_return": 3663.69,
                  "regret": 0.0, "wall_time_s": 20.0 + seed},
                 episodes=[1.0, 2.0, 3.0], q_table=q_star + shift)
    for seed, (mean, solved) in enumerate([(500.0, True), (180.0, False)]):
        make_run(tmp_path, "cartpole-dqn", seed,
                 {"env_id": "CartPole-v1", "eval_mean": mean, "solved": solved,
                  "steps_to_solve": 40000, "reward_threshold": 475.0, "solved_during_training": True,
                  "wall_time_s": 100.0}, {"env_id": "CartPole-v1"}, episodes=[10.0, 20.0, 30.0])
    return tmp_path


def test_tidy_table_has_one_row_per_experiment_agent_seed(results):
    table = tidy(collect(results / "runs"))
    assert len(table) == 2 * 3 + 3 + 2
    row = table[(table.experiment == "nchain-tabular") & (table.seed == 1) & (table.method == "naive")]
    assert row.wins.item() == 3 and row.regret.item() == 101.0


def test_published_vs_reproduced_cells(results):
    collection = collect(results / "runs")
    reports = declared(["nchain-tabular", "nchain-keras", "cartpole-dqn"])
    published = published_vs_reproduced(collection, reports)
    naive = published.iloc[0]
    low, high = wilson_ci(4, 20)  # 1 + 3 naive wins out of 20 pooled rounds
    assert naive.reproduced == "20.0 per 100 (4/20 rounds)"
    assert naive.ci_95 == f"[{100 * low:.1f}, {100 * high:.1f}] (Wilson)"
    assert naive.verdict == "inside"  # 13 per 100 lies in [8.1, 41.6]
    q00 = published[published.published == "Keras Q-network Q(s=0, forward)"].iloc[0]
    mean, lo, hi = bootstrap_ci([61.73, 62.73, 63.73])
    assert q00.reproduced == f"{mean:.2f} (mean of 3 seeds)"
    assert q00.ci_95 == f"[{lo:.2f}, {hi:.2f}] (bootstrap)"
    assert q00.verdict == "inside"
    example = published.iloc[-1]
    assert example.reproduced.startswith(
        "final agent solves in 1/2 seeds (greedy eval 340.0); solved at some point in 2/2")
    assert example.verdict == "the final agent solves in 1 of 2 seeds"


def test_optimum_and_solve_tables(results):
    table = tidy(collect(results / "runs"))
    reports = declared(["nchain-tabular", "nchain-keras", "cartpole-dqn"])
    optimum = family_table(table, "optimum", reports).set_index("agent")
    # over 2 seeds the percentile bootstrap of the mean spans exactly the two values
    assert optimum.loc["eps_greedy_q (tutorial rule)", "regret"] == "15.00 [10.00, 20.00]"
    assert optimum.loc["eps_greedy_q (tutorial rule)", "optimum"] == "3663.69 [3663.69, 3663.69]"
    assert optimum.loc["Keras Q-network (tutorial)", "max \\|Q - Q*\\|"] == "2.00 [{:.2f}, {:.2f}]".format(
        *bootstrap_ci([1.0, 2.0, 3.0])[1:])
    solve = family_table(table, "solve", reports).iloc[0]
    low, high = wilson_ci(1, 2)
    assert solve["final agent solves [Wilson 95%]"] == f"1/2 [{100 * low:.0f}%, {100 * high:.0f}%]"
    assert solve["solved at some point [Wilson 95%]"].startswith("2/2 ")
    assert solve["steps to first solve"] == "40000 [40000, 40000]"


def test_no_interval_leaves_the_range_of_its_score(results):
    """CartPole returns lie in [0, 500]: every interval the report gives for them stays there."""
    import re

    for seed, mean in enumerate([500.0, 500.0, 12.0], start=2):  # t over these would reach far below 0
        make_run(results, "cartpole-dqn", seed, {"env_id": "CartPole-v1", "eval_mean": mean,
                                                  "solved": mean == 500.0, "wall_time_s": 1.0},
                 {"env_id": "CartPole-v1"})
    report.build(results)
    text = (results / "REPORT.md").read_text()
    solve = pd.read_csv(results / report.family_csv("solve"))
    columns = [c for c in solve.columns if "greedy eval" in c or "[Wilson" in c]
    cells = " ".join(map(str, solve[columns].to_numpy().ravel()))
    intervals = [(float(a), float(b)) for a, b in re.findall(r"\[(-?[\d.]+)%?, (-?[\d.]+)%?\]", cells)]
    assert intervals and all(0 <= a <= b <= 500 for a, b in intervals), intervals
    example = text[text.index("keras-rl CartPole example learns"):].splitlines()[0]
    pairs = re.findall(r"eval \[(-?[\d.]+), (-?[\d.]+)\]", example)
    assert pairs and all(0 <= float(a) <= float(b) <= 500 for a, b in pairs)


@pytest.mark.parametrize("published, low, high, expected", [
    (5.0, 4.0, 6.0, "inside"),
    (4.0, 4.0, 6.0, "inside"),
    (3.5, 4.0, 6.0, "outside: published is 0.5 below the interval"),
    (7.25, 4.0, 6.0, "outside: published is 1.25 above the interval"),
])
def test_verdict(published, low, high, expected):
    assert verdict(published, low, high) == expected


def test_an_interval_over_the_whole_score_range_is_uninformative():
    assert verdict(100.0, 0.0, 200.0, (0.0, 200.0)).startswith("uninformative")
    assert verdict(100.0, 50.0, 150.0, (0.0, 200.0)) == "inside"


def test_build_writes_report_csvs_and_plots_and_names_bad_runs(results):
    bad = results / "runs" / "nchain-keras" / "seed1" / "q_table.csv"
    bad.write_text('state,q_forward\n0,"unterminated\n')
    outcome = report.build(results)
    assert [(p.name, "malformed q_table.csv" in why) for p, why in outcome["problems"]] == [("seed1", True)]
    text = (results / "REPORT.md").read_text()
    assert "## Published vs reproduced" in text and "seed1" in text
    assert "no runs for `nchain-dqn`" in text
    assert (results / "plots" / "nchain_q_heatmaps.png").stat().st_size > 0
    assert (results / "plots" / "nchain_win_shares.png").stat().st_size > 0
    runs = pd.read_csv(results / "summary_runs.csv")
    assert set(runs.experiment) == {"nchain-tabular", "nchain-keras", "cartpole-dqn"}


def test_incomplete_run_is_reported_not_crashing(results):
    manifest = results / "runs" / "cartpole-dqn" / "seed0" / "manifest.json"
    data = json.loads(manifest.read_text()) | {"status": "running"}
    manifest.write_text(json.dumps(data))
    outcome = report.build(results)
    assert any("not complete" in why for _, why in outcome["problems"])


def test_empty_results_dir_exits_2(cli, tmp_path):
    result = cli("report", "--results", tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: no run directories under")


def test_cli_report_builds(cli, results):
    result = cli("report", "--results", results)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (results / "REPORT.md").exists()
    assert np.isfinite(pd.read_csv(results / "summary_runs.csv").wall_time_s).all()


def test_one_run_intervals_against_known_values():
    assert binomial_range(0.5, 100) == (40, 60)
    low, high = prediction_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 * (4 / 3) ** 0.5  # t(0.975, 2) * sd * sqrt(1 + 1/n)
    assert low == pytest.approx(2 - half) and high == pytest.approx(2 + half)


def test_published_win_count_gets_a_one_run_verdict(results):
    collection = collect(results / "runs")
    published = published_vs_reproduced(collection, declared(["nchain-tabular"]))
    eps = published[published.published == "wins of eps_greedy_q out of 100 rounds"].iloc[0]
    low, high = binomial_range(12 / 20, 100)
    assert eps.one_run_95 == f"[{low}, {high}]"
    assert low <= 65 <= high and eps.one_run_verdict == "inside"


def test_the_report_names_the_tournament_methods_in_the_engines_order():
    from reproduce.experiments import nchain_tabular
    from reproduce.tabular import engine

    assert nchain_tabular.METHODS == tuple(engine.METHODS)
