"""The report's table families (:data:`reproduce.contract.TABLES`), one row per (experiment, agent, env).

Each experiment declares its family and any extra columns on its :class:`~reproduce.contract.Report`;
nothing here knows an experiment by name. Aggregates over seeds are the mean and the IQM, each with a
95% percentile-bootstrap interval (never outside the observed scores); rates carry Wilson intervals;
every row says how many seeds stand behind it and what it cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reproduce.stats import bootstrap_ci, iqm, wilson_ci

TITLES = {
    "optimum": ("Against the exact optimum",
                "Tasks with an exact solver: the greedy policy's return (`mean_return`, else its exact "
                "`expected_return`, else the greedy test mean), the optimum it could reach and the regret "
                "against it, the greedy policy, and the largest error of the learned Q against Q*."),
    "solve": ("Solve rates",
              "Episodic tasks with a reward threshold. **Final agent**: the greedy test episodes of the "
              "agent at the end of training (`eval.csv`); solved when their mean reaches the env's "
              "threshold. "
              "**At some point**: a periodic greedy check during training reached it (the first such step "
              "and time are the steps and seconds to solve). Early-stopping configs stop at that point, so "
              "for them both columns count the same agent."),
    "return": ("Greedy return", "The greedy test return of the final agent (no exploration)."),
}


def fmt_ci(point: float, low: float, high: float, digits: int = 2) -> str:
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def values(group: pd.DataFrame, column: str) -> pd.Series:
    if column not in group:
        return pd.Series(dtype=float)
    return pd.to_numeric(group[column], errors="coerce").dropna()


def agg(group: pd.DataFrame, column: str, digits: int = 1, statistic=np.mean) -> str:
    """``statistic`` over seeds with its bootstrap interval (a single seed: the value alone)."""
    vals = values(group, column)
    if len(vals) == 0:
        return "n/a"
    point, low, high = bootstrap_ci(vals, statistic)
    return fmt_ci(point, low, high, digits) if len(vals) > 1 else f"{point:.{digits}f}"


def rate(successes: int, trials: int) -> str:
    """``k/n [low%, high%]`` with the Wilson 95% interval."""
    low, high = wilson_ci(successes, trials)
    return f"{successes}/{trials} [{100 * low:.0f}%, {100 * high:.0f}%]"


def cost(group: pd.DataFrame) -> dict:
    """Env steps, wall time and time per env step (means over seeds)."""
    steps = values(group, "env_steps")
    wall = values(group, "wall_time_s")
    per_step = (wall / steps).dropna() if len(steps) and len(wall) else pd.Series(dtype=float)
    return {"env steps (mean)": f"{steps.mean():.0f}" if len(steps) else "n/a",
            "wall s (mean)": f"{wall.mean():.1f}" if len(wall) else "n/a",
            "ms per env step": f"{1000 * per_step.mean():.3f}" if len(per_step) else "n/a"}


def _flags(group: pd.DataFrame, column: str) -> pd.Series:
    if column not in group:
        return pd.Series([False] * len(group), index=group.index)
    return group[column].map(lambda v: bool(v) if v is not None and v == v else False)


def _return_column(group: pd.DataFrame) -> str:
    for column in ("mean_return", "expected_return", "eval_mean"):
        if len(values(group, column)):
            return column
    return "eval_mean"


def optimum_columns(group: pd.DataFrame) -> dict:
    ret = _return_column(group)
    policies = group["policy"].dropna().astype(str) if "policy" in group else pd.Series(dtype=str)
    return {
        "greedy return: mean [95% CI]": agg(group, ret, 2),
        "greedy return: IQM [95% CI]": agg(group, ret, 2, statistic=iqm),
        "optimum": agg(group, "optimal_return", 2),
        "regret": agg(group, "regret", 2),
        "greedy policy (majority)": policies.mode().iat[0] if len(policies) else "n/a",
        "max \\|Q - Q*\\|": agg(group, "max_abs_q_error", 2),
    }


def solve_columns(group: pd.DataFrame) -> dict:
    final = _flags(group, "solved")
    ever = _flags(group, "solved_during_training") | final if "solved_during_training" in group else final
    episodes = values(group, "eval_episodes")
    return {
        "eval episodes / seed": f"{episodes.median():.0f}" if len(episodes) else "n/a",
        "final agent solves [Wilson 95%]": rate(int(final.sum()), len(group)),
        "solved at some point [Wilson 95%]": rate(int(ever.sum()), len(group)),
        "final greedy eval: mean [95% CI]": agg(group, "eval_mean"),
        "final greedy eval: IQM [95% CI]": agg(group, "eval_mean", statistic=iqm),
        "steps to first solve": agg(group[ever.values], "steps_to_solve", 0),
        "s to first solve": agg(group[ever.values], "time_to_solve_s", 1),
    }


def return_columns(group: pd.DataFrame) -> dict:
    episodes = values(group, "eval_episodes")
    return {
        "test episodes / seed": f"{episodes.median():.0f}" if len(episodes) else "n/a",
        "greedy return: mean [95% CI]": agg(group, "eval_mean", 2),
        "greedy return: IQM [95% CI]": agg(group, "eval_mean", 2, statistic=iqm),
    }


COLUMNS = {"optimum": optimum_columns, "solve": solve_columns, "return": return_columns}


def family_table(table: pd.DataFrame, family: str, reports: dict) -> pd.DataFrame:
    """One row per (experiment, agent, env) of the experiments in ``family``; ``reports`` maps experiment
    names to their :class:`~reproduce.contract.Report` (its extra columns join the table)."""
    if not len(table):
        return pd.DataFrame()
    members = [name for name, report in reports.items() if report.table == family]
    rows = []
    part = table[table.experiment.isin(members)]
    for (experiment, agent, env_id), group in part.groupby(["experiment", "agent", "env_id"], sort=False,
                                                           dropna=False):
        row = {"experiment": experiment, "agent": agent, "env": env_id, "seeds": group.seed.nunique(),
               **COLUMNS[family](group)}
        for column in reports[experiment].columns:
            row[column.label] = agg(group, column.key, column.digits)
        rows.append({**row, **cost(group)})
    frame = pd.DataFrame(rows)
    # a declared column shows "n/a" in the other experiments' rows of the family
    return frame.fillna("n/a") if len(frame) else frame
