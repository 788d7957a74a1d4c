"""The report's figures: greedy and training curves against env steps, performance profiles, NChain Q
heatmaps beside Q* and the published table, tournament win shares."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reproduce.report.collect import Run
from reproduce.report.published import PUBLISHED_KERAS_Q, PUBLISHED_WINS, q_array
from reproduce.runs import RunDir
from reproduce.stats import wilson_ci


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _by_key(runs: list[Run], has) -> dict[str, list[Run]]:
    """Runs grouped by ``experiment (env)``, keeping those for which ``has(run)`` holds."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        if has(run):
            env = run.summary.get("env_id")
            groups.setdefault(run.experiment + (f" ({env})" if env else ""), []).append(run)
    return dict(sorted(groups.items()))


def _band(ax, x, data, label):
    """Mean over seeds (rows of ``data``) with a 95% percentile-bootstrap band."""
    mean = data.mean(axis=0)
    ax.plot(x, mean, label=label)
    if len(data) > 1:
        rng = np.random.default_rng(0)
        boots = data[rng.integers(0, len(data), size=(2000, len(data)))].mean(axis=1)
        low, high = np.percentile(boots, [2.5, 97.5], axis=0)
        ax.fill_between(x, low, high, alpha=0.25, label="95% bootstrap CI over seeds")


def _label(ax, xlabel: str, ylabel: str, title: str, legend_size: int = 8) -> None:
    """Axis labels, a small title, a light grid and the legend: every line plot of the report."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=legend_size)


def _save(fig, plt, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_eval_curves(runs: list[Run], out: Path) -> list[tuple[Path, str]]:
    """Greedy evaluation return against env steps (the runs' periodic checks); (path, caption) each."""
    plt = _plt()
    written = []
    groups = _by_key(runs, lambda r: RunDir.EVAL_CURVE in r.files and len(r.files[RunDir.EVAL_CURVE]))
    for key, group in groups.items():
        curves = [r.files[RunDir.EVAL_CURVE] for r in group]
        steps = np.unique(np.concatenate([c.step.to_numpy() for c in curves]))
        # a run that stopped once solved keeps its last value from then on
        data = np.stack([np.interp(steps, c.step, c.r_mean, right=c.r_mean.iloc[-1]) for c in curves])
        stopped = sum(int(c.step.iloc[-1]) < steps[-1] for c in curves)
        episodes = int(curves[0].episodes.iloc[0])
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        _band(ax, steps, data, f"mean of {len(group)} seeds")
        _label(ax, "env steps", f"greedy return ({episodes} episodes)", f"Greedy evaluation: {key}")
        caption = (f"Greedy return ({episodes} test episodes per check) against env steps, mean of "
                   f"{len(group)} seeds with a 95% bootstrap band over seeds"
                   + (f"; {stopped} run(s) stopped once solved and carry their last value forward"
                      if stopped else "") + ".")
        written.append((_save(fig, plt, out / f"eval_{_slug(key)}.png"), caption))
    return written


def plot_training_curves(runs: list[Run], out: Path, window: int = 10) -> list[tuple[Path, str]]:
    """Training-episode return (moving average) against env steps; (path, caption) each."""
    plt = _plt()
    written = []
    groups = _by_key(runs, lambda r: RunDir.EPISODES in r.files and len(r.files[RunDir.EPISODES]) > 1)
    for key, group in groups.items():
        logs = [r.files[RunDir.EPISODES] for r in group]
        ends = [np.cumsum(log["l"].to_numpy()) for log in logs]
        grid = np.linspace(0, min(e[-1] for e in ends), 200)
        data = np.stack([np.interp(grid, e, log["r"].rolling(window, min_periods=1).mean())
                         for e, log in zip(ends, logs)])
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        _band(ax, grid, data, f"mean of {len(group)} seeds")
        _label(ax, "env steps", f"training episode return ({window}-ep. avg)", f"Training episodes: {key}")
        caption = (f"Training-episode return ({window}-episode moving average, exploration on) against env "
                   f"steps, mean of {len(group)} seeds up to the shortest run, 95% bootstrap band.")
        written.append((_save(fig, plt, out / f"training_{_slug(key)}.png"), caption))
    return written


def plot_performance_profile(runs: list[Run], out: Path, env_id: str = "CartPole-v1"):
    """Fraction of seeds whose greedy eval mean exceeds each score tau, a line per agent; (path, caption)."""
    plt = _plt()
    groups = _by_key(runs, lambda r: r.summary.get("env_id") == env_id and "eval_mean" in r.summary)
    if not groups:
        return None
    taus = np.linspace(0, 500, 251)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for key, group in groups.items():
        scores = np.array([float(r.summary["eval_mean"]) for r in group])
        fraction = (scores[:, None] > taus).mean(axis=0)
        ax.step(taus, fraction, where="post", label=f"{key}, {len(group)} seeds")
    _label(ax, "greedy eval mean tau", "fraction of seeds above tau", f"Performance profile on {env_id}",
           legend_size=7)
    caption = (f"Performance profile on {env_id}: for each score tau, the fraction of seeds whose final "
               "greedy evaluation mean exceeds it (higher and further right is better).")
    return _save(fig, plt, out / "cartpole_performance_profile.png"), caption


def plot_up_time(runs: list[Run], out: Path):
    """The Dot-mask notebook's printed curve over ours: a mean band and a one-run band; (path, caption)."""
    from reproduce.originals.dotmask import PUBLISHED_CURVE
    from reproduce.stats import prediction_interval

    plt = _plt()
    group = [r for r in runs if RunDir.UP_TIME in r.files and r.summary.get("quirks", True)]
    if not group:
        return None
    logs = [r.files[RunDir.UP_TIME] for r in group]
    n = min(len(log) for log in logs)
    steps = logs[0].step.to_numpy()[:n]
    data = np.stack([log.up_time.to_numpy()[:n] for log in logs])
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    _band(ax, steps, data, f"ours, mean of {len(group)} seeds")
    if len(group) > 1:
        bands = np.array([prediction_interval(data[:, k]) for k in range(n)]).clip(0, 200)
        ax.fill_between(steps, bands[:, 0], bands[:, 1], alpha=0.1, color="gray", label="one run, 95% (t)")
    published = np.array(PUBLISHED_CURVE[:n])
    ax.plot(steps[:len(published)], published, "k.-", label="published (one run)")
    _label(ax, "env steps", "mean up time, last 100 episodes",
           "Dot-mask CartPole-v0 notebook: the printed log")
    caption = ("The notebook's log (mean up time of the last 100 episodes, every 5,000 steps): the published "
               f"run (black) against our mean over {len(group)} seeds (95% bootstrap band) and the range one "
               "run lands in (95% t prediction interval, clipped to [0, 200]).")
    return _save(fig, plt, out / "dotmask_up_time.png"), caption


def plot_win_counts(runs: list[Run], out: Path):
    """Qlearning4k's training log: wins per 50 epochs, mean over seeds; (path, caption)."""
    plt = _plt()
    group = [r for r in runs if RunDir.WIN_COUNTS in r.files]
    if not group:
        return None
    n = min(len(r.files[RunDir.WIN_COUNTS]) for r in group)
    window = 50
    data = np.stack([r.files[RunDir.WIN_COUNTS].won.to_numpy()[:n].astype(float) for r in group])
    rates = np.stack([np.convolve(row, np.ones(window) / window, mode="valid") for row in data])
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    _band(ax, np.arange(window, n + 1), rates, f"mean of {len(group)} seeds")
    ax.axhline(1.0, color="k", ls="--", lw=0.8, label="optimum (every start is catchable)")
    _label(ax, "epoch (one game)", f"win rate, last {window} training games",
           "Qlearning4k Catch: training games won (exploring)")
    caption = (f"Qlearning4k's training log as a rate: games won over the last {window} epochs while "
               f"exploring (epsilon 1.0 -> 0.1 over the first half), mean of {len(group)} seeds with a 95% "
               "bootstrap band.")
    return _save(fig, plt, out / "catch_win_rate.png"), caption


def plot_q_heatmaps(runs: list[Run], out: Path):
    """Mean learned Q-tables (Keras Q-network, DQN, tabular) beside Q*."""
    from reproduce.envs import solve

    plt = _plt()
    panels = [("Q* (exact)", solve().q), ("published Keras table", np.array(PUBLISHED_KERAS_Q))]
    for experiment, title in (("nchain-keras", "Keras Q-network"), ("nchain-dqn", "keras-rl DQN"),
                              ("nchain-sarsa", "keras-rl SARSA")):
        tables = [q_array(r.files[RunDir.Q_TABLE]) for r in runs
                  if r.experiment == experiment and RunDir.Q_TABLE in r.files]
        if tables:
            panels.append((f"{title} (mean of {len(tables)})", np.mean(tables, axis=0)))
    if len(panels) == 2:
        return None
    vmin = min(p.min() for _, p in panels)
    vmax = max(p.max() for _, p in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 4), squeeze=False)
    for ax, (title, q) in zip(axes[0], panels):
        image = ax.imshow(q, cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
        for (s, a), value in np.ndenumerate(q):
            ax.text(a, s, f"{value:.1f}", ha="center", va="center", color="white", fontsize=9)
        ax.set_xticks([0, 1], ["forward", "backward"])
        first = ax is axes[0][0]
        ax.set_yticks(range(q.shape[0]), [f"state {s}" for s in range(q.shape[0])] if first else [])
        ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="Q")
    path = out / "nchain_q_heatmaps.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    counts = ", ".join(title for title, _ in panels[2:])
    return path, ("NChain Q-values (rows: states 0-4; columns: forward, backward): the exact Q* at gamma "
                  f"0.95, the tutorial's published Keras table, and our mean tables ({counts}), one colour "
                  "scale.")


def plot_win_shares(runs: list[Run], out: Path):
    """Win shares per method and rule, with Wilson error bars, and the published shares."""
    plt = _plt()
    by_rule: dict[str, list[Run]] = {}
    for r in runs:
        if r.experiment == "nchain-tabular":
            by_rule.setdefault(r.summary.get("rule", r.config.get("rule", "tutorial")), []).append(r)
    if not by_rule:
        return None
    methods = list(PUBLISHED_WINS)
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / (len(by_rule) + 1)
    x = np.arange(len(methods))
    ax.bar(x, [PUBLISHED_WINS[m] / 100 for m in methods], width, color="lightgray", edgecolor="black",
           label=f"published {list(PUBLISHED_WINS.values())}")
    for i, (rule, group) in enumerate(sorted(by_rule.items()), start=1):
        total = sum(int(r.summary["rounds"]) for r in group)
        shares, errs = [], [[], []]
        for m in methods:
            wins = sum(int(r.summary[f"wins_{m}"]) for r in group)
            low, high = wilson_ci(wins, total)
            shares.append(wins / total)
            errs[0].append(wins / total - low)
            errs[1].append(high - wins / total)
        ax.bar(x + i * width, shares, width, yerr=errs, capsize=4, label=f"reproduced, {rule} rule")
    ax.set_xticks(x + width * len(by_rule) / 2, ["naive sum", "greedy Q", "eps-greedy Q"])
    ax.set_ylabel("share of rounds won (95% Wilson CI)")
    ax.set_title("NChain tournament: who wins a greedy test game")
    ax.legend()
    fig.tight_layout()
    path = out / "nchain_win_shares.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    rounds = {rule: sum(int(r.summary["rounds"]) for r in group) for rule, group in by_rule.items()}
    return path, ("Share of tournament rounds each table method wins, published (grey) against ours per "
                  f"update rule (rounds pooled over seeds: {rounds}), with Wilson 95% intervals.")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()
