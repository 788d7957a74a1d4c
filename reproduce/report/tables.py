"""The aggregate tables: every NChain agent and every CartPole agent, one row per (experiment, agent)."""

from __future__ import annotations

import pandas as pd

from reproduce.stats import mean_ci


def fmt_ci(mean: float, low: float, high: float, digits: int = 2) -> str:
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _agg(group: pd.DataFrame, column: str, digits: int = 1) -> str:
    values = pd.to_numeric(group[column], errors="coerce").dropna() if column in group else []
    if len(values) == 0:
        return "n/a"
    mean, low, high = mean_ci(values)
    return fmt_ci(mean, low, high, digits) if len(values) > 1 else f"{mean:.{digits}f}"


def _mean(group: pd.DataFrame, column: str, digits: int = 1) -> str:
    values = pd.to_numeric(group[column], errors="coerce").dropna() if column in group else []
    return f"{values.mean():.{digits}f}" if len(values) else "n/a"


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
            "greedy test return (95% CI)": _agg(group, ret_col),
            f"regret vs {optimum:.2f}": _agg(group, "regret"),
            "greedy policy (majority)": policies.mode().iat[0] if len(policies) else "n/a",
            "max |Q - Q*|": _agg(group, "max_abs_q_error", 2),
            "train wall time s (mean)": _mean(group, "wall_time_s", 1),
        })
    return pd.DataFrame(rows)


def cartpole_table(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    cart = table[table.experiment.str.startswith(("cartpole", "sb3"))] if len(table) else table
    for (experiment, agent, env_id), group in cart.groupby(["experiment", "agent", "env_id"], sort=False,
                                                           dropna=False):
        solved = group["solved"].fillna(False).astype(bool) if "solved" in group else pd.Series([False])
        rows.append({
            "experiment": experiment, "agent": agent, "env": env_id, "seeds": group.seed.nunique(),
            "solve rate": f"{int(solved.sum())}/{len(group)}",
            "greedy eval mean (95% CI)": _agg(group, "eval_mean"),
            "steps to solve (solved seeds)": _agg(group[solved.values], "steps_to_solve", 0),
            "wall time s (mean)": _mean(group, "wall_time_s", 1),
        })
    return pd.DataFrame(rows)
