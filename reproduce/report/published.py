"""Every number the originals published, defined once, and the rows comparing them with our runs.

Each published-versus-reproduced row keeps two tests: ``ci_95`` (the interval of our estimate:
pooled rounds or the mean over seeds) and ``one_run_95`` (where a single run like the published
one lands 95% of the time). The originals published one run each, so the second is the fair one.
"""

from __future__ import annotations

import numpy as np

from reproduce.stats import binomial_range, mean_ci, prediction_interval, wilson_ci

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
            values = tables[:, state, action]
            mean, low, high = mean_ci(values)
            run_low, run_high = prediction_interval(values)
            published = PUBLISHED_KERAS_Q[state][action]
            rows.append({
                "published": f"Keras Q-network Q(s={state}, {name})", "published_value": published,
                "reproduced": f"{mean:.2f} (mean of {len(keras)} seeds)",
                "ci_95": f"[{low:.2f}, {high:.2f}] (t)", "verdict": verdict(published, low, high),
                "one_run_95": f"[{run_low:.2f}, {run_high:.2f}]",
                "one_run_verdict": verdict(published, run_low, run_high),
            })
    return rows


def cartpole_example_learns(runs) -> list[dict]:
    """keras-rl's README says its CartPole example learns: how many seeds solve CartPole-v1."""
    v1 = [r for r in runs if r.summary.get("env_id", "CartPole-v1") == "CartPole-v1"]
    if not v1:
        return []
    solved = sum(bool(r.summary.get("solved")) for r in v1)
    low, high = wilson_ci(solved, len(v1))
    mean, elow, ehigh = mean_ci([float(r.summary["eval_mean"]) for r in v1])
    return [{
        "published": "keras-rl CartPole example learns (solves CartPole-v1)", "published_value": "learns",
        "reproduced": f"solved {solved}/{len(v1)} seeds; greedy eval {mean:.1f}",
        "ci_95": f"solve rate [{100 * low:.0f}%, {100 * high:.0f}%]; eval [{elow:.1f}, {ehigh:.1f}]",
        "verdict": ("learns in every seed" if solved == len(v1)
                    else f"learns to solve in {solved} of {len(v1)} seeds"),
    }]
