"""A new experiment is one module plus one registry line: the report finds its table row and its figure
without an edit anywhere else."""

import sys
import types

import pandas as pd

from reproduce import experiments, report
from reproduce.contract import Column, Experiment, Report, RunContext, Source, Summary
from reproduce.runs import RunDir, write_csv


def throwaway_module():
    """An experiment module as a maintainer would write it: a config, a run, a figure, a published row."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Config:
        seed: int = 0

    def run(config, run_dir):
        ctx = RunContext("throwaway", config, run_dir)
        write_csv(ctx.file("scores.csv"), pd.DataFrame({"x": [0, 1, 2], "y": [1.0, 2.0, 3.0 + config.seed]}))
        ctx.evaluate([10.0 + config.seed, 12.0], [1, 1], env_id=None, threshold=11.5)
        return ctx.finish(widgets=7 + config.seed)

    def figure(runs, out):
        from reproduce import figures as fig_

        mine = [r for r in runs if r.experiment == "throwaway"]
        if not mine:
            return []
        plt = fig_.plt()
        fig, ax = plt.subplots(figsize=fig_.SIZE)
        for r in mine:
            ax.plot(r.files["scores.csv"].x, r.files["scores.csv"].y)
        return [(fig_.save(fig, out / "throwaway_scores.png"), "throwaway scores")]

    def published(runs):
        return [{"published": "throwaway widgets", "published_value": 7,
                 "reproduced": f"{sum(r.summary['widgets'] for r in runs) / len(runs):.1f}"}]

    module = types.ModuleType("throwaway_experiment")
    module.EXPERIMENT = Experiment(
        "throwaway", "a throwaway experiment", Config, run,
        Report("throwaway agent", table="solve", columns=(Column("widgets", "widgets", 1),),
               figures=(figure,), published=published,
               source=Source("The throwaway paper", "A. Author", "https://example.org")),
        differences=("it is a throwaway",))
    return module


def test_a_new_experiment_is_one_module_and_one_registry_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "throwaway_experiment", throwaway_module())
    monkeypatch.setitem(experiments.REGISTRY, "throwaway", "throwaway_experiment")
    experiment = experiments.get("throwaway")
    for seed in (0, 1):
        experiment.run(experiment.config(seed=seed), tmp_path / "runs" / "throwaway" / f"seed{seed}")
    outcome = report.build(tmp_path, expected=["throwaway"])
    assert outcome["problems"] == [] and outcome["missing"] == []
    assert (tmp_path / "plots" / "throwaway_scores.png").stat().st_size > 0
    solve = pd.read_csv(tmp_path / report.family_csv("solve"))
    row = solve[solve.experiment == "throwaway"].iloc[0]
    assert row.agent == "throwaway agent" and row.widgets.startswith("7.5 [7.0, 8.0]")
    assert row["final agent solves [Wilson 95%]"].startswith("1/2 ")
    text = (tmp_path / "REPORT.md").read_text()
    assert "throwaway widgets" in text and "[The throwaway paper](https://example.org)" in text
    assert "- `throwaway`: it is a throwaway" in text and "plots/throwaway_scores.png" in text


def test_summary_round_trips_standard_and_extra_fields():
    summary = Summary(env_id="CartPole-v1", eval_mean=1.5, extra={"policy": "FFFFF"})
    data = summary.to_json()
    assert data == {"env_id": "CartPole-v1", "eval_mean": 1.5, "policy": "FFFFF"}
    back = Summary.from_json(data)
    assert back == summary and back["policy"] == "FFFFF" and back.get("solved") is None
    assert "eval_mean" in back and "solved" not in back


def test_every_registered_experiment_declares_a_table_family_and_runs_rowwise():
    for name in experiments.names():
        declared = experiments.get(name).report
        assert declared.table in ("optimum", "solve", "return"), name
        assert RunDir.EVAL == "eval.csv"
