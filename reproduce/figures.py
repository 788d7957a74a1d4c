"""Plot helpers shared by every figure (the report's and the experiments' own): one look for all.

Imports matplotlib lazily (``plt()``), so experiment modules can declare figures without paying for it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SIZE = (6.4, 3.6)  # inches, every line plot


def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def band(ax, x, data, label, color=None):
    """Mean over seeds (rows of ``data``): with 5 or more seeds a 95% percentile-bootstrap band; with
    fewer, each seed's own thin line (a band from two or three runs would only be their spread)."""
    data = np.atleast_2d(np.asarray(data, dtype=float))
    (line,) = ax.plot(x, data.mean(axis=0), label=label, color=color)
    if len(data) >= 5:
        rng = np.random.default_rng(0)
        boots = data[rng.integers(0, len(data), size=(2000, len(data)))].mean(axis=1)
        low, high = np.percentile(boots, [2.5, 97.5], axis=0)
        ax.fill_between(x, low, high, alpha=0.25, color=line.get_color(), label="95% bootstrap CI over seeds")
    elif len(data) > 1:
        for k, row in enumerate(data):
            ax.plot(x, row, lw=0.6, alpha=0.5, color=line.get_color(), label="each seed" if k == 0 else None)
    return line


def mean_label(seeds: int) -> str:
    """A band's legend entry: "mean of 3 seeds", or "one seed"."""
    return f"mean of {seeds} seeds" if seeds != 1 else "one seed"


def band_caption(seeds: int) -> str:
    """How :func:`band` drew the spread, for a caption."""
    if seeds >= 5:
        return f"mean of {seeds} seeds with a 95% bootstrap band over seeds"
    return f"mean of {seeds} seeds, each seed's line beside it" if seeds > 1 else "one seed"


def label(ax, xlabel: str, ylabel: str, title: str, legend_size: int = 8, outside: bool = False) -> None:
    """Axis labels, a small title, a light grid and the legend (``outside``: right of the axes)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    try:  # no "1e6" offset labels on step axes
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    except AttributeError:  # a categorical axis has no such formatter
        pass
    if outside:
        ax.legend(fontsize=legend_size, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    else:
        ax.legend(fontsize=legend_size)


def save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt().close(fig)
    return path


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()


def moving_average(values, window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` values (shorter at the start): pandas' rolling(min_periods=1)."""
    values = np.asarray(values, dtype=float)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (sums[idx] - sums[lo]) / (idx - lo)
