"""The aggregate tables: every NChain agent and every CartPole agent, one row per (experiment, agent).

Aggregates over seeds are the mean and the IQM, each with a 95% percentile-bootstrap interval
(never outside the observed scores); rates carry Wilson intervals; every row says how many
seeds (and greedy test episodes per seed) stand behind it, and what it cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reproduce.stats import bootstrap_ci, iqm, wilson_ci


def fmt_ci(point: float, low: float, high: float, digits: int = 2) -> str:
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _values(group: pd.DataFrame, column: str) -> pd.Series:
    if column not in group:
        return pd.Series(dtype=float)
    return pd.to_numeric(group[column], errors="coerce").dropna()


def _agg(group: pd.DataFrame, column: str, digits: int = 1, statistic=np.mean) -> str:
    """``statistic`` over seeds with its bootstrap interval (a single seed: the value alone)."""
    values = _values(group, column)
    if len(values) == 0:
        return "n/a"
    point, low, high = bootstrap_ci(values, statistic)
    return fmt_ci(point, low, high, digits) if len(values) > 1 else f"{point:.{digits}f}"


def _mean(group: pd.DataFrame, column: str, digits: int = 1) -> str:
    values = _values(group, column)
    return f"{values.mean():.{digits}f}" if len(values) else "n/a"


def rate(successes: int, trials: int) -> str:
    """``k/n [low%, high%]`` with the Wilson 95% interval."""
    low, high = wilson_ci(successes, trials)
    return f"{successes}/{trials} [{100 * low:.0f}%, {100 * high:.0f}%]"


def cost(group: pd.DataFrame) -> dict:
    """Env steps, wall time and time per env step (means over seeds)."""
    steps = _values(group, "env_steps")
    wall = _values(group, "wall_time_s")
    per_step = (wall / steps).dropna() if len(steps) and len(wall) else pd.Series(dtype=float)
    return {"env steps (mean)": f"{steps.mean():.0f}" if len(steps) else "n/a",
            "wall s (mean)": f"{wall.mean():.1f}" if len(wall) else "n/a",
            "ms per env step": f"{1000 * per_step.mean():.3f}" if len(per_step) else "n/a"}


def nchain_table(table: pd.DataFrame) -> pd.DataFrame:
    from reproduce.envs import solve

    optimum = solve().optimal_return
    rows = []
    nchain = table[table.experiment.str.startswith("nchain")] if len(table) else table
    for (experiment, agent), group in nchain.groupby(["experiment", "agent"], sort=False):
        ret_col = "mean_return" if group.get("mean_return", pd.Series(dtype=float)).notna().any() \
            else "expected_return"
        policies = group["policy"].dropna().astype(str) if "policy" in group else pd.Series(dtype=str)
        rows.append({
            "experiment": experiment, "agent": agent, "seeds": group.seed.nunique(),
            "greedy return: mean [95% CI]": _agg(group, ret_col),
            "greedy return: IQM [95% CI]": _agg(group, ret_col, statistic=iqm),
            f"regret vs {optimum:.2f}": _agg(group, "regret"),
            "greedy policy (majority)": policies.mode().iat[0] if len(policies) else "n/a",
            "max \\|Q - Q*\\|": _agg(group, "max_abs_q_error", 2),
            "max \\|Q - Q^pi\\| (SARSA)": _agg(group, "max_abs_q_pi_error", 2),
            **cost(group),
        })
    return pd.DataFrame(rows)


def cartpole_table(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    cart = table[table.experiment.str.startswith(("cartpole", "sb3"))] if len(table) else table
    for (experiment, agent, env_id), group in cart.groupby(["experiment", "agent", "env_id"], sort=False,
                                                           dropna=False):
        solved = group["solved"].fillna(False).astype(bool) if "solved" in group else pd.Series([False])
        episodes = _values(group, "eval_episodes")
        rows.append({
            "experiment": experiment, "agent": agent, "env": env_id, "seeds": group.seed.nunique(),
            "eval episodes / seed": f"{episodes.median():.0f}" if len(episodes) else "n/a",
            "solve rate [Wilson 95%]": rate(int(solved.sum()), len(group)),
            "greedy eval: mean [95% CI]": _agg(group, "eval_mean"),
            "greedy eval: IQM [95% CI]": _agg(group, "eval_mean", statistic=iqm),
            "steps to solve (solved seeds)": _agg(group[solved.values], "steps_to_solve", 0),
            "s to solve (solved seeds)": _agg(group[solved.values], "time_to_solve_s", 1),
            **cost(group),
        })
    return pd.DataFrame(rows)


def other_table(table: pd.DataFrame) -> pd.DataFrame:
    """Catch and Pendulum agents: greedy return, Catch's exact win rate against the optimum, cost."""
    rows = []
    other = table[table.experiment.str.startswith(("catch", "pendulum"))] if len(table) else table
    for (experiment, agent, env_id), group in other.groupby(["experiment", "agent", "env_id"], sort=False,
                                                            dropna=False):
        episodes = _values(group, "eval_episodes")
        rows.append({
            "experiment": experiment, "agent": agent, "env": env_id, "seeds": group.seed.nunique(),
            "test episodes / seed": f"{episodes.median():.0f}" if len(episodes) else "n/a",
            "greedy return: mean [95% CI]": _agg(group, "eval_mean", 2),
            "greedy return: IQM [95% CI]": _agg(group, "eval_mean", 2, statistic=iqm),
            "play accuracy": _agg(group, "play_accuracy", 2),
            "exact win rate, all starts (optimum 1.00)": _agg(group, "exact_win_rate", 2),
            "max \\|Q - Q*\\|": _agg(group, "max_abs_q_error", 2),
            **cost(group),
        })
    return pd.DataFrame(rows)
