"""``reproduce report``: read every run directory with pandas, write tables, REPORT.md and plots.

Run directories are found by their ``manifest.json`` anywhere under ``results/runs/``. A
directory that cannot be read is named with the reason and skipped; missing experiments are
listed; the rest of the report still builds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from reproduce.runs import ConfigError, atomic_write, write_csv
from reproduce.stats import mean_ci, wilson_ci

PUBLISHED_WINS = {"naive": 13, "greedy_q": 22, "eps_greedy_q": 65}
PUBLISHED_ROUNDS = 100
PUBLISHED_KERAS_Q = [[62.73, 61.35], [66.32, 62.27], [70.83, 63.26], [76.64, 64.76], [84.51, 66.50]]
NCHAIN_OPTIMUM = 3663.69
SOLVED_THRESHOLD = 475.0


@dataclass
class Run:
    """One run directory, read."""

    path: Path
    experiment: str
    seed: int
    config: dict
    manifest: dict
    summary: dict
    files: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass
class Collection:
    runs: list[Run]
    problems: list[tuple[Path, str]]


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"missing {path.name}") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"unreadable {path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def read_run(path: Path) -> Run:
    """Read one run directory; raises ``ValueError`` with the reason if it is unusable."""
    manifest = _read_json(path / "manifest.json")
    if manifest.get("status") != "complete":
        raise ValueError(f"run not complete (status {manifest.get('status')!r})")
    config = _read_json(path / "config.json")
    summary = _read_json(path / "summary.json")
    run = Run(path, manifest.get("experiment") or config.get("experiment", "?"),
              int(manifest.get("seed", config.get("seed", -1))), config, manifest, summary)
    for name in ("rounds.csv", "eval.csv", "q_table.csv", "q_tables.csv"):
        if (path / name).exists():
            try:
                run.files[name] = pd.read_csv(path / name)
            except (ValueError, pd.errors.ParserError) as exc:
                raise ValueError(f"malformed {name}: {exc}") from None
    if (path / "episodes.csv").exists():
        from callbacks.monitor import RewardLogError, load_rewards

        try:
            run.files["episodes.csv"] = load_rewards(path / "episodes.csv")
        except RewardLogError as exc:
            raise ValueError(str(exc)) from None
    return run


def collect(runs_dir: Path) -> Collection:
    runs, problems = [], []
    for manifest in sorted(Path(runs_dir).rglob("manifest.json")):
        try:
            runs.append(read_run(manifest.parent))
        except ValueError as exc:
            problems.append((manifest.parent, str(exc)))
    return Collection(runs, problems)


# --- per-experiment rows: one row per (experiment, agent, seed) -------------------------------

def _nchain_tabular_rows(run: Run) -> list[dict]:
    s, rule = run.summary, run.summary.get("rule", run.config.get("rule", "tutorial"))
    rows = []
    for method in ("naive", "greedy_q", "eps_greedy_q"):
        rows.append({
            "agent": f"{method} ({rule} rule)", "method": method, "rule": rule,
            "rounds": s.get("rounds"), "wins": s.get(f"wins_{method}"), "ties": s.get("ties"),
            "mean_return": s.get(f"mean_return_{method}"), "regret": s.get(f"regret_{method}"),
            "policy": s.get(f"policy_{method}"), "max_abs_q_error": s.get(f"max_abs_q_error_{method}"),
            "wall_time_s": s.get("wall_time_s"),
        })
    return rows


def _single_agent_row(agent: str) -> Callable[[Run], list[dict]]:
    def rows(run: Run) -> list[dict]:
        s = run.summary
        row = {"agent": agent, "wall_time_s": s.get("wall_time_s")}
        for key in ("eval_mean", "eval_ci_low", "eval_ci_high", "solved", "steps_to_solve",
                    "time_to_solve_s", "mean_return", "expected_return", "regret", "policy",
                    "max_abs_q_error", "env_id", "steps", "episodes"):
            if key in s:
                row[key] = s[key]
        return [row]

    return rows


ROWS: dict[str, Callable[[Run], list[dict]]] = {
    "nchain-tabular": _nchain_tabular_rows,
    "nchain-keras": _single_agent_row("Keras Q-network (tutorial)"),
    "nchain-dqn": _single_agent_row("keras-rl DQNAgent"),
    "cartpole-tabular": _single_agent_row("tabular eps-greedy Q (bucketed)"),
    "cartpole-dqn": _single_agent_row("keras-rl example DQN"),
    "cartpole-dqn-tuned": _single_agent_row("keras-rl DQN, tuned"),
    "sb3-zoo-dqn": _single_agent_row("SB3 DQN, rl-zoo hyperparameters"),
}


def tidy(collection: Collection) -> pd.DataFrame:
    """One row per (experiment, agent, seed) with the numbers the report quotes."""
    rows = []
    for run in collection.runs:
        make = ROWS.get(run.experiment)
        if make is None:
            collection.problems.append((run.path, f"unknown experiment {run.experiment!r}"))
            continue
        for row in make(run):
            env = run.summary.get("env_id") or run.config.get("env_id") or run.config.get("env")
            rows.append({"experiment": run.experiment, "seed": run.seed, "env_id": env,
                         "run_dir": str(run.path), **row})
    return pd.DataFrame(rows)


# --- verdicts ---------------------------------------------------------------------------------

def verdict(published: float, low: float, high: float) -> str:
    """'inside' when the published number lies in [low, high], else how far outside and where."""
    if low <= published <= high:
        return "inside"
    gap = low - published if published < low else published - high
    side = "below" if published < low else "above"
    return f"outside: published is {gap:.3g} {side} the interval"


def binomial_range(share: float, trials: int, confidence: float = 0.95) -> tuple[int, int]:
    """Where one run of ``trials`` rounds lands with ``confidence`` if the true share is ``share``."""
    low, high = stats.binom.interval(confidence, trials, share)
    return int(low), int(high)


def prediction_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval for one more run (a single published run is one draw, not a mean)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float(x.mean()), float(x.mean())
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) * np.sqrt(1 + 1 / x.size)
    return float(x.mean() - half), float(x.mean() + half)


def fmt_ci(mean: float, low: float, high: float, digits: int = 2) -> str:
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def published_vs_reproduced(runs: list[Run], table: pd.DataFrame) -> pd.DataFrame:
    """Each published number beside our estimate, its 95% CI and the verdict."""
    rows = []
    tutorial = [r for r in runs if r.experiment == "nchain-tabular"
                and r.summary.get("rule", r.config.get("rule")) == "tutorial"]
    if tutorial:
        total = sum(int(r.summary["rounds"]) for r in tutorial)
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
    keras = [r for r in runs if r.experiment == "nchain-keras" and "q_table.csv" in r.files]
    if keras:
        tables = np.stack([_q_array(r.files["q_table.csv"]) for r in keras])
        for state in range(5):
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
    example = table[table.experiment == "cartpole-dqn"] if len(table) else table
    if len(example):
        v1 = example[example.env_id.fillna("CartPole-v1") == "CartPole-v1"]
        if len(v1):
            solved = int(v1.solved.fillna(False).astype(bool).sum())
            low, high = wilson_ci(solved, len(v1))
            mean, elow, ehigh = mean_ci(v1.eval_mean.astype(float))
            rows.append({
                "published": "keras-rl CartPole example learns (solves CartPole-v1)",
                "published_value": "learns",
                "reproduced": f"solved {solved}/{len(v1)} seeds; greedy eval {mean:.1f}",
                "ci_95": f"solve rate [{100 * low:.0f}%, {100 * high:.0f}%]; eval [{elow:.1f}, {ehigh:.1f}]",
                "verdict": ("learns in every seed" if solved == len(v1) else
                            f"learns to solve in {solved} of {len(v1)} seeds"),
            })
    return pd.DataFrame(rows)


def _q_array(frame: pd.DataFrame) -> np.ndarray:
    frame = frame.sort_values("state")
    return frame[["q_forward", "q_backward"]].to_numpy(dtype=float)


# --- aggregate tables -------------------------------------------------------------------------

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
    rows = []
    nchain = table[table.experiment.str.startswith("nchain")] if len(table) else table
    for (experiment, agent), group in nchain.groupby(["experiment", "agent"], sort=False):
        ret_col = "mean_return" if group.get("mean_return", pd.Series(dtype=float)).notna().any() \
            else "expected_return"
        policies = group["policy"].dropna().astype(str) if "policy" in group else pd.Series(dtype=str)
        rows.append({
            "experiment": experiment, "agent": agent, "seeds": group.seed.nunique(),
            "greedy test return (95% CI)": _agg(group, ret_col),
            "regret vs 3663.69": _agg(group, "regret"),
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


# --- plots ------------------------------------------------------------------------------------

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
        if "episodes.csv" in run.files and len(run.files["episodes.csv"]):
            key = run.experiment + (f" ({run.summary.get('env_id')})" if run.summary.get("env_id") else "")
            by_exp.setdefault(key, []).append(run)
    for key, group in sorted(by_exp.items()):
        curves = [r.files["episodes.csv"]["r"].rolling(window, min_periods=1).mean().to_numpy()
                  for r in group]
        length = min(len(c) for c in curves)
        data = np.stack([c[:length] for c in curves])
        mean = data.mean(axis=0)
        fig, ax = plt.subplots(figsize=(7, 4))
        x = np.arange(1, length + 1)
        ax.plot(x, mean, label=f"mean of {len(group)} seeds")
        if len(group) > 1:
            half = stats.t.ppf(0.975, len(group) - 1) * data.std(axis=0, ddof=1) / np.sqrt(len(group))
            ax.fill_between(x, mean - half, mean + half, alpha=0.3, label="95% CI")
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
        tables = [_q_array(r.files["q_table.csv"]) for r in runs
                  if r.experiment == experiment and "q_table.csv" in r.files]
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
    ax.bar(x, [PUBLISHED_WINS[m] / 100 for m in methods], width, label="published [13, 22, 65]",
           color="lightgray", edgecolor="black")
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


# --- markdown ---------------------------------------------------------------------------------

DIFFERENCES = """\
- **The tutorial's Q-update.** The published code adds the reward outside the learning rate,
  `q[s,a] += r + lr*(y*max q[s'] - q[s,a])`; the textbook rule is
  `q[s,a] += lr*(r + y*max q[s'] - q[s,a])`. The tournament runs the published rule for the
  comparison with `[13, 22, 65]` and the textbook rule beside it. The published rule is the
  textbook rule on a table scaled by `1/lr`, so both choose the same actions and win the same
  rounds; only the Q-values differ (the published table tends to `Q*/lr = 1.25 Q*`). For the
  tabular methods, wall time is the whole tournament (all three methods, all rounds).
- **Truncation.** keras-rl2 treats every episode end, including the 1000-step (NChain) and
  500-step (CartPole-v1) time limits, as terminal. `cartpole-dqn` keeps that, to stay
  faithful; `cartpole-dqn-tuned` bootstraps through truncations.
- **Changed APIs.** gymnasium replaces gym (`reset` returns `(obs, info)`, `step` returns
  `terminated`/`truncated`); NChain is our port of old gym's env; TensorFlow runs in graph
  mode with tf-keras (Keras 2), and keras-rl2 is patched as `reproduce/compat.py` documents.
- **Random number streams.** Old gym seeded NChain through `np_random.rand()`; we use
  gymnasium's `np_random` (PCG64), and the fast engines draw from their own seeded streams.
  The algorithms are the same; individual runs cannot match the originals draw for draw, so
  we compare distributions (confidence intervals over seeds and rounds).
"""


def render_markdown(collection: Collection, table: pd.DataFrame, published: pd.DataFrame,
                    plots: list[Path], missing: list[str], results_dir: Path) -> str:
    lines = ["# Reproduction report", "",
             "Generated by `reproduce report` from the run directories under `results/runs/`. "
             "Intervals are 95%: Wilson for counts and rates, Student t over seeds for means.", ""]
    if missing or collection.problems:
        lines += ["## Missing or unreadable", ""]
        lines += [f"- no runs for `{name}`" for name in missing]
        lines += [f"- `{_rel(path, results_dir)}`: {reason}" for path, reason in collection.problems]
        lines.append("")
    lines += ["## Published vs reproduced", "",
              "`ci_95` is the interval of our estimate (pooled rounds or the mean over seeds); "
              "`one_run_95` is where a single run like the published one lands 95% of the time "
              "(binomial over 100 rounds at our win share; Student-t prediction interval over seeds). "
              "The originals published one run each, so `one_run_verdict` is the fair test; "
              "`verdict` says whether the published number also matches our estimate of the mean.", ""]
    lines += [published.fillna("").to_markdown(index=False) if len(published) else "_no comparable runs yet_",
              ""]
    lines += ["## NChain, every agent", "",
              "Greedy test return of a 1000-step game (optimum 3663.69), regret against it, the greedy "
              "policy (one letter per state: F forward, B backward), and the largest error against "
              "the exact Q* (gamma 0.95).", ""]
    nchain = nchain_table(table)
    lines += [nchain.to_markdown(index=False) if len(nchain) else "_no NChain runs_", ""]
    lines += ["## CartPole, every agent", "",
              f"Solved means a greedy evaluation mean >= {SOLVED_THRESHOLD:.0f} over 100 episodes "
              "on CartPole-v1.", ""]
    cart = cartpole_table(table)
    lines += [cart.to_markdown(index=False) if len(cart) else "_no CartPole runs_", ""]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{p.stem}](plots/{p.name})" for p in plots]
        lines.append("")
    lines += ["## Differences from the originals", "", DIFFERENCES]
    lines += ["## How to rerun", "", "```bash", "pip install -e .",
              "reproduce all          # the suite (complete runs are skipped), then this report",
              "reproduce report       # the report alone, from results/runs/", "```", ""]
    versions = _versions(collection.runs)
    if versions:
        lines += ["Versions recorded in the manifests:", ""]
        lines += [f"- {name}: {', '.join(sorted(v))}" for name, v in sorted(versions.items())]
        revs = sorted({r.manifest.get("git_revision", "unknown") for r in collection.runs})
        lines += [f"- git revision: {', '.join(revs)}", ""]
    return "\n".join(lines) + "\n"


def _versions(runs: list[Run]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for run in runs:
        for name, version in run.manifest.get("versions", {}).items():
            out.setdefault(name, set()).add(str(version))
    return out


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def build(results_dir: str | Path = "results", expected: list[str] | None = None) -> dict:
    """Build the report from ``results_dir/runs``; returns what was written and what was wrong."""
    results_dir = Path(results_dir)
    runs_dir = results_dir / "runs"
    if not runs_dir.is_dir() or not any(runs_dir.rglob("manifest.json")):
        raise NoRunsError(f"no run directories under {runs_dir}; run `reproduce all` (or `reproduce run "
                          f"NAME`) first, or pass --results DIR")
    collection = collect(runs_dir)
    table = tidy(collection)
    present = set(table.experiment) if len(table) else set()
    missing = [name for name in (expected or list(ROWS)) if name not in present and name != "sb3-zoo-dqn"]
    published = published_vs_reproduced(collection.runs, table)
    plots_dir = results_dir / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    plots = plot_learning_curves(collection.runs, plots_dir)
    plots += [p for p in (plot_q_heatmaps(collection.runs, plots_dir),
                          plot_win_shares(collection.runs, plots_dir)) if p is not None]
    write_csv(results_dir / "summary_runs.csv", table)
    write_csv(results_dir / "summary_published.csv", published)
    write_csv(results_dir / "summary_nchain.csv", nchain_table(table))
    write_csv(results_dir / "summary_cartpole.csv", cartpole_table(table))
    with atomic_write(results_dir / "REPORT.md") as handle:
        handle.write(render_markdown(collection, table, published, plots, missing, results_dir))
    return {"runs": len(collection.runs), "problems": collection.problems, "missing": missing,
            "plots": plots, "report": results_dir / "REPORT.md"}


class NoRunsError(ConfigError):
    """The results directory holds no run directories (CLI exit code 2)."""
