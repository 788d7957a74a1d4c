"""The report's figures: learning curves, NChain Q heatmaps beside Q*, tournament win shares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from reproduce.report.collect import Run
from reproduce.report.published import PUBLISHED_WINS, q_array
from reproduce.runs import RunDir
from reproduce.stats import wilson_ci


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curves(runs: list[Run], out: Path, window: int = 10) -> list[Path]:
    """Per experiment: mean episode reward across seeds with a 95% t-band."""
    plt = _plt()
    written = []
    by_exp: dict[str, list[Run]] = {}
    for run in runs:
        if RunDir.EPISODES in run.files and len(run.files[RunDir.EPISODES]):
            key = run.experiment + (f" ({run.summary.get('env_id')})" if run.summary.get("env_id") else "")
            by_exp.setdefault(key, []).append(run)
    for key, group in sorted(by_exp.items()):
        curves = [r.files[RunDir.EPISODES]["r"].rolling(window, min_periods=1).mean().to_numpy()
                  for r in group]
        length = min(len(c) for c in curves)
        data = np.stack([c[:length] for c in curves])
        mean = data.mean(axis=0)
        fig, ax = plt.subplots(figsize=(7, 4))
        x = np.arange(1, length + 1)
        ax.plot(x, mean, label=f"mean of {len(group)} seeds")
        if len(group) > 1:
            low, high = stats.t.interval(0.95, len(group) - 1, loc=mean, scale=stats.sem(data, axis=0))
            ax.fill_between(x, low, high, alpha=0.3, label="95% CI")
        ax.set_xlabel("episode")
        ax.set_ylabel(f"episode reward ({window}-episode moving average)")
        ax.set_title(f"Learning curve: {key}")
        ax.legend()
        fig.tight_layout()
        path = out / f"learning_{_slug(key)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_q_heatmaps(runs: list[Run], out: Path) -> Path | None:
    """Mean learned Q-tables (Keras Q-network, DQN, tabular) beside Q*."""
    from reproduce.envs import solve

    plt = _plt()
    panels = [("Q* (exact)", solve().q)]
    for experiment, title in (("nchain-keras", "Keras Q-network"), ("nchain-dqn", "keras-rl DQN")):
        tables = [q_array(r.files[RunDir.Q_TABLE]) for r in runs
                  if r.experiment == experiment and RunDir.Q_TABLE in r.files]
        if tables:
            panels.append((f"{title} (mean of {len(tables)})", np.mean(tables, axis=0)))
    if len(panels) == 1:
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_win_shares(runs: list[Run], out: Path) -> Path | None:
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()
