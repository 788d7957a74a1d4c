"""Published-versus-reproduced rows, shared by every experiment that compares with its original.

Each row keeps two tests: ``ci_95`` (the interval of our estimate: pooled rounds, Wilson; or the mean
over seeds, bootstrap) and ``one_run_95`` (where a single run like the published one lands 95% of the
time). The originals published one run each, so the second is the fair one. An interval that covers
(nearly) the whole range of the score cannot fail, and its verdict says so: ``uninformative``.
"""

from __future__ import annotations

import numpy as np

UNINFORMATIVE = 0.9  # an interval covering this share of the score's range or more tests nothing


def verdict(published: float, low: float, high: float, score_range: tuple[float, float] | None = None) -> str:
    """'inside' when the published number lies in [low, high], else how far outside and where;
    'uninformative' when the interval spans >= 90% of ``score_range``."""
    if score_range is not None and (high - low) >= UNINFORMATIVE * (score_range[1] - score_range[0]):
        return "uninformative (the interval spans almost the whole score range)"
    if low <= published <= high:
        return "inside"
    gap = low - published if published < low else published - high
    side = "below" if published < low else "above"
    return f"outside: published is {gap:.3g} {side} the interval"


def mean_over_seeds_row(label: str, published: float, values, digits: int,
                        score_range: tuple[float, float] | None = None) -> dict:
    """A published number against the mean of ``values`` over seeds: the mean's bootstrap interval,
    and the t prediction interval of one run (clipped to ``score_range`` when the score has one)."""
    from reproduce.stats import bootstrap_ci, prediction_interval

    values = np.asarray(values, dtype=float)
    mean, low, high = bootstrap_ci(values)
    run_low, run_high = prediction_interval(values)
    if score_range is not None:
        run_low, run_high = max(score_range[0], run_low), min(score_range[1], run_high)
    return {
        "published": label, "published_value": published,
        "reproduced": f"{mean:.{digits}f} (mean of {len(values)} seeds)",
        "ci_95": f"[{low:.{digits}f}, {high:.{digits}f}] (bootstrap)",
        "verdict": verdict(published, low, high),
        "one_run_95": f"[{run_low:.{digits}f}, {run_high:.{digits}f}]",
        "one_run_verdict": verdict(published, run_low, run_high, score_range),
    }


def curve_rows(name: str, published: dict[int, float], curves: list[dict[int, float]], digits: int = 1,
               score_range: tuple[float, float] | None = None, unit: str = "step") -> list[dict]:
    """A published learning curve read at a few points (``{x: value}``) against our runs' curves
    (one ``{x: value}`` per seed), a :func:`mean_over_seeds_row` per point."""
    rows = []
    for x, value in published.items():
        ours = [c[x] for c in curves if x in c]
        if len(ours):
            rows.append(mean_over_seeds_row(f"{name} at {unit} {x:,}", value, ours, digits, score_range))
    return rows


def learns_row(claim: str, runs, env_id: str) -> list[dict]:
    """A published "it learns" against our runs on ``env_id``: how many seeds' final agents solve it, and
    how many solved at some point during training."""
    from reproduce.stats import bootstrap_ci, wilson_ci

    runs = [r for r in runs if r.summary.get("env_id", env_id) == env_id]
    if not runs:
        return []
    final = sum(bool(r.summary.get("solved")) for r in runs)
    ever = sum(bool(r.summary.get("solved_during_training", r.summary.get("solved"))) for r in runs)
    low, high = wilson_ci(final, len(runs))
    mean, elow, ehigh = bootstrap_ci([float(r.summary["eval_mean"]) for r in runs])
    return [{
        "published": claim, "published_value": "learns",
        "reproduced": (f"final agent solves in {final}/{len(runs)} seeds (greedy eval {mean:.1f}); solved at "
                       f"some point in {ever}/{len(runs)}"),
        "ci_95": f"final solve rate [{100 * low:.0f}%, {100 * high:.0f}%]; eval [{elow:.1f}, {ehigh:.1f}]",
        "verdict": ("the final agent solves in every seed" if final == len(runs)
                    else f"the final agent solves in {final} of {len(runs)} seeds"),
    }]
