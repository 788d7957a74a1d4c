"""Every number the originals published, defined once, and the rows comparing them with our runs.

Each published-versus-reproduced row keeps two tests: ``ci_95`` (the interval of our estimate:
pooled rounds, Wilson; or the mean over seeds, bootstrap) and ``one_run_95`` (where a single run
like the published one lands 95% of the time). The originals published one run each, so the second
is the fair one.
"""

from __future__ import annotations

import numpy as np

from reproduce.stats import binomial_range, bootstrap_ci, prediction_interval, wilson_ci

# Adventures in ML, NChain tutorial (seed 001): winner counts over 100 rounds, and the Keras
# Q-network's Q-values after 1000 episodes (rows: states 0..4; columns: forward, backward).
PUBLISHED_WINS = {"naive": 13, "greedy_q": 22, "eps_greedy_q": 65}
PUBLISHED_ROUNDS = 100
PUBLISHED_KERAS_Q = [[62.73, 61.35], [66.32, 62.27], [70.83, 63.26], [76.64, 64.76], [84.51, 66.50]]


def verdict(published: float, low: float, high: float) -> str:
    """'inside' when the published number lies in [low, high], else how far outside and where."""
    if low <= published <= high:
        return "inside"
    gap = low - published if published < low else published - high
    side = "below" if published < low else "above"
    return f"outside: published is {gap:.3g} {side} the interval"


def mean_over_seeds_row(label: str, published: float, values, digits: int,
                        score_range: tuple[float, float] | None = None) -> dict:
    """A published number against the mean of ``values`` over seeds: the mean's bootstrap interval,
    and the t prediction interval of one run (clipped to ``score_range`` when the score has one)."""
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
        "one_run_verdict": verdict(published, run_low, run_high),
    }


def q_array(frame) -> np.ndarray:
    """A ``state, q_forward, q_backward`` table as a (states x 2) array."""
    frame = frame.sort_values("state")
    return frame[["q_forward", "q_backward"]].to_numpy(dtype=float)


def tournament_wins(runs) -> list[dict]:
    """The tutorial's [13, 22, 65] against our pooled win shares (tutorial rule)."""
    tutorial = [r for r in runs if r.summary.get("rule", r.config.get("rule")) == "tutorial"]
    if not tutorial:
        return []
    total = sum(int(r.summary["rounds"]) for r in tutorial)
    rows = []
    for method, published in PUBLISHED_WINS.items():
        wins = sum(int(r.summary[f"wins_{method}"]) for r in tutorial)
        low, high = wilson_ci(wins, total)
        run_low, run_high = binomial_range(wins / total, PUBLISHED_ROUNDS)
        rows.append({
            "published": f"wins of {method} out of 100 rounds", "published_value": published,
            "reproduced": f"{100 * wins / total:.1f} per 100 ({wins}/{total} rounds)",
            "ci_95": f"[{100 * low:.1f}, {100 * high:.1f}] (Wilson)",
            "verdict": verdict(published, 100 * low, 100 * high),
            "one_run_95": f"[{run_low}, {run_high}]",
            "one_run_verdict": verdict(published, run_low, run_high),
        })
    return rows


def keras_q_values(runs) -> list[dict]:
    """The tutorial's Keras Q-network table, cell by cell, against the mean over our seeds."""
    from reproduce.runs import RunDir

    keras = [r for r in runs if RunDir.Q_TABLE in r.files]
    if not keras:
        return []
    tables = np.stack([q_array(r.files[RunDir.Q_TABLE]) for r in keras])
    rows = []
    for state in range(tables.shape[1]):
        for action, name in ((0, "forward"), (1, "backward")):
            rows.append(mean_over_seeds_row(f"Keras Q-network Q(s={state}, {name})",
                                            PUBLISHED_KERAS_Q[state][action], tables[:, state, action], 2))
    return rows


def cartpole_example_learns(runs) -> list[dict]:
    """keras-rl's README says its CartPole example learns: how many seeds solve CartPole-v1."""
    v1 = [r for r in runs if r.summary.get("env_id", "CartPole-v1") == "CartPole-v1"]
    if not v1:
        return []
    solved = sum(bool(r.summary.get("solved")) for r in v1)
    low, high = wilson_ci(solved, len(v1))
    mean, elow, ehigh = bootstrap_ci([float(r.summary["eval_mean"]) for r in v1])
    return [{
        "published": "keras-rl CartPole example learns (solves CartPole-v1)", "published_value": "learns",
        "reproduced": f"solved {solved}/{len(v1)} seeds; greedy eval {mean:.1f}",
        "ci_95": f"solve rate [{100 * low:.0f}%, {100 * high:.0f}%]; eval [{elow:.1f}, {ehigh:.1f}]",
        "verdict": ("learns in every seed" if solved == len(v1)
                    else f"learns to solve in {solved} of {len(v1)} seeds"),
    }]


def up_time_curve(runs) -> list[dict]:
    """The Dot-mask notebook's printed curve, point by point, against the mean over our seeds (quirks on).

    Up time lies in [0, 200] on CartPole-v0: the mean's interval is a bootstrap over seeds and the
    one-run interval a t prediction interval clipped to that range. A last row says whether we
    reproduce the curve's shape: its peak at 75,000 steps and the decline after it.
    """
    from reproduce.originals.dotmask import PUBLISHED_CURVE

    faithful = [r for r in runs if r.summary.get("quirks", True) and "up_time" in r.summary]
    if not faithful:
        return []
    rows = []
    steps = sorted(int(k) for k in faithful[0].summary["up_time"])
    means = []
    for k, step in enumerate(steps[:len(PUBLISHED_CURVE)]):
        values = np.array([float(r.summary["up_time"][str(step)]) for r in faithful])
        means.append(float(np.mean(values)))
        rows.append(mean_over_seeds_row(f"notebook up time at step {step:,}", PUBLISHED_CURVE[k], values, 1,
                                        score_range=(0.0, 200.0)))
    peak = int(np.argmax(means))
    declines = means[-1] < 0.8 * means[peak]
    rows.append({
        "published": "notebook curve shape: peak at 75,000 steps, then a decline to about half",
        "published_value": "peak 75,000",
        "reproduced": f"mean curve peaks at {steps[peak]:,} ({means[peak]:.1f}), ends at {means[-1]:.1f}",
        "verdict": ("peak and late decline reproduced" if declines and steps[peak] >= 50_000 else
                    "late decline reproduced, peak elsewhere" if declines else "no late decline"),
    })
    return rows
