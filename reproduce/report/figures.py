"""The report's generic figures, drawn for every experiment alike: greedy-check and training curves
against env steps, and a performance profile per env of the solve table. Experiments add their own
figures on their :class:`~reproduce.contract.Report`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reproduce import figures as fig_
from reproduce.report.collect import Run
from reproduce.runs import RunDir


def _by_key(runs: list[Run], has) -> dict[str, list[Run]]:
    """Runs grouped by ``experiment (env)``, keeping those for which ``has(run)`` holds."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        if has(run):
            env = run.summary.get("env_id")
            groups.setdefault(run.experiment + (f" ({env})" if env else ""), []).append(run)
    return dict(sorted(groups.items()))


def eval_curves(runs: list[Run], out: Path) -> list[tuple[Path, str]]:
    """Greedy evaluation return against env steps (the runs' periodic checks); (path, caption) each.

    A run whose checks stopped early (an early-stopping config) is drawn up to its last check only:
    no value is carried forward."""
    plt = fig_.plt()
    written = []
    groups = _by_key(runs, lambda r: len(r.files.get(RunDir.EVAL_CURVE, ())) >= 2)
    for key, group in groups.items():
        curves = [r.files[RunDir.EVAL_CURVE] for r in group]
        steps = np.unique(np.concatenate([c.step.to_numpy() for c in curves]))
        data = np.stack([np.interp(steps, c.step, c.r_mean, right=np.nan) for c in curves])
        stopped = sum(int(c.step.iloc[-1]) < steps[-1] for c in curves)
        episodes = int(curves[0].episodes.iloc[0])
        fig, ax = plt.subplots(figsize=fig_.SIZE)
        full = ~np.isnan(data).any(axis=0)
        fig_.band(ax, steps[full], data[:, full], fig_.mean_label(len(group)))
        if stopped:
            for row in data:
                ax.plot(steps, row, lw=0.5, alpha=0.4, color="gray")
        fig_.label(ax, "env steps", f"greedy return ({episodes} episodes)", f"Greedy checks: {key}",
                   outside=True)
        caption = (f"Greedy return ({episodes} test episodes per check) against env steps, "
                   f"{fig_.band_caption(len(group))}"
                   + (f"; {stopped} run(s) stopped early (grey lines end there), so the mean is drawn up to "
                      "the first stop" if stopped else "") + ".")
        written.append((fig_.save(fig, out / f"eval_{fig_.slug(key)}.png"), caption))
    return written


def training_curves(runs: list[Run], out: Path, window: int = 10) -> list[tuple[Path, str]]:
    """Training-episode return (moving average) against env steps; (path, caption) each."""
    plt = fig_.plt()
    written = []
    groups = _by_key(runs, lambda r: len(r.files.get(RunDir.EPISODES, ())) > 1)
    for key, group in groups.items():
        logs = [r.files[RunDir.EPISODES] for r in group]
        ends = [np.cumsum(log["l"].to_numpy()) for log in logs]
        grid = np.linspace(0, min(e[-1] for e in ends), 200)
        data = np.stack([np.interp(grid, e, fig_.moving_average(log["r"], window))
                         for e, log in zip(ends, logs)])
        fig, ax = plt.subplots(figsize=fig_.SIZE)
        fig_.band(ax, grid, data, fig_.mean_label(len(group)))
        fig_.label(ax, "env steps", f"training return ({window}-ep. avg)", f"Training episodes: {key}",
                   outside=True)
        caption = (f"Training-episode return ({window}-episode moving average, exploration on) against env "
                   f"steps up to the shortest run, {fig_.band_caption(len(group))}.")
        written.append((fig_.save(fig, out / f"training_{fig_.slug(key)}.png"), caption))
    return written


def performance_profiles(runs: list[Run], out: Path) -> list[tuple[Path, str]]:
    """Per env of the solve table with two or more agents: the fraction of seeds whose final greedy mean
    exceeds each score tau, a line per agent (offset a little so equal lines stay visible)."""
    plt = fig_.plt()
    by_env: dict[str, dict[str, list[Run]]] = {}
    for run in runs:
        if run.summary.get("eval_mean") is not None and run.summary.get("reward_threshold") is not None:
            by_env.setdefault(run.summary.get("env_id"), {}).setdefault(run.experiment, []).append(run)
    written = []
    for env_id, groups in sorted(by_env.items()):
        if len(groups) < 2:
            continue
        top = max(max(float(r.summary["eval_mean"]) for r in g) for g in groups.values())
        taus = np.linspace(0, max(top, 1.0), 251)
        fig, ax = plt.subplots(figsize=(8.4, 3.8))
        for k, (key, group) in enumerate(sorted(groups.items())):
            scores = np.array([float(r.summary["eval_mean"]) for r in group])
            fraction = (scores[:, None] > taus).mean(axis=0)
            ax.step(taus, fraction + 0.006 * k, where="post", label=f"{key}, {len(group)} seeds",
                    ls=("-", "--", ":", "-.")[k % 4])
        fig_.label(ax, "final greedy eval mean tau", "fraction of seeds above tau",
                   f"Performance profile on {env_id}", legend_size=7, outside=True)
        caption = (f"Performance profile on {env_id}: for each score tau, the fraction of seeds whose final "
                   "greedy evaluation mean exceeds it (higher and further right is better; lines are offset "
                   "by 0.006 each so that equal ones stay visible).")
        written.append((fig_.save(fig, out / f"profile_{fig_.slug(env_id)}.png"), caption))
    return written


GENERIC = (eval_curves, training_curves, performance_profiles)
