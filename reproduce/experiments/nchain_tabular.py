"""The NChain tutorial's 100-round tournament of its three handwritten table methods.

Each round trains the naive reward-sum table, the greedy Q-table and the eps-greedy
Q-table for ``episodes`` episodes on NChain-v0, plays one greedy 1000-step game with each
and names the highest return the winner (``np.argmax``: the first method wins a tie, as
published; ties are also counted). Runs on the compiled engine
(:mod:`reproduce.tabular.engine`), which agrees with the per-step reference on the real
env (:mod:`reproduce.tabular.agents`, tested).

Outputs: ``rounds.csv`` (per round: each method's test return, the argmax winner, a tie
flag), ``q_tables.csv`` (mean final table per method, plus ``q_star`` rows),
``curves.csv`` (mean training return per episode and method), ``summary.csv`` (one row
per method: wins, CIs, regret, Q error, majority greedy policy as F/B per state) and
``summary.json`` (all of it, flat).
Everything but the timings in ``summary.json``/``manifest.json`` is identical for the same
seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reproduce.runs import ConfigError, RunDir, to_jsonable, write_csv, write_json

DESCRIPTION = "NChain tutorial: naive / greedy Q / eps-greedy Q tables, 100-round tournament"
NAME = "nchain-tabular"
RULES = ("tutorial", "textbook")
PUBLISHED_WINS = (13, 22, 65)


@dataclass(frozen=True)
class Config:
    """Tournament settings; the agent hyperparameters are the tutorial's."""

    rounds: int = 100  #: train-and-test rounds
    episodes: int = 500  #: training episodes per method and round (1000 steps each)
    rule: str = "tutorial"  #: Q-update: "tutorial" (as published) or "textbook"
    seed: int = 0  #: seeds every (round, method) random stream
    lr: float = 0.8  #: Q-table learning rate
    y: float = 0.95  #: discount
    eps: float = 0.5  #: initial eps of the eps-greedy table
    decay: float = 0.999  #: eps multiplier at the start of each episode
    slip: float = 0.2  #: NChain-v0's action-flip probability
    steps: int = 1000  #: steps per episode (NChain-v0's time limit)


def add_arguments(parser) -> None:
    parser.add_argument("--rounds", default="100", help="train-and-test rounds (default 100)")
    parser.add_argument("--episodes", default="500", help="training episodes per method (default 500)")
    parser.add_argument("--rule", default="tutorial",
                        help="Q-update rule: tutorial (published, reward outside lr) or textbook")


def _positive_int(name: str, text) -> int:
    try:
        value = int(str(text))
    except ValueError:
        raise ConfigError(f"--{name} expects a positive integer, got {text!r}; e.g. --{name} 100") from None
    if value <= 0:
        raise ConfigError(f"--{name} expects a positive integer, got {text!r}; e.g. --{name} 100")
    return value


def config_from_args(args) -> Config:
    rule = str(args.rule)
    if rule not in RULES:
        raise ConfigError(f"--rule expects one of {', '.join(RULES)}, got {rule!r}; e.g. --rule tutorial")
    return Config(rounds=_positive_int("rounds", args.rounds),
                  episodes=_positive_int("episodes", args.episodes), rule=rule, seed=args.seed)


def run(config: Config, run_dir: Path) -> dict:
    from callbacks import save_arrays_state
    from reproduce.envs import policy_string, solve
    from reproduce.stats import mean_ci, wilson_ci
    from reproduce.tabular import engine

    rd = RunDir(run_dir, NAME, config, config.seed).start()
    t0 = time.perf_counter()
    engine.tournament(rounds=1, episodes=1, steps=1)  # load (or compile) the numba code, timed apart
    warmup = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = engine.tournament(
        rounds=config.rounds, episodes=config.episodes, seed=config.seed, rule=config.rule,
        steps=config.steps, slip=config.slip, lr=config.lr, y=config.y, eps0=config.eps,
        decay=config.decay, progress=True,
    )
    wall = time.perf_counter() - t0
    methods = engine.METHODS
    winner, tie = engine.winners(result.returns)
    rounds = pd.DataFrame({"round": np.arange(config.rounds)})
    for m, name in enumerate(methods):
        rounds[name] = result.returns[:, m]
    rounds["winner_argmax"] = [methods[w] for w in winner]
    rounds["tie"] = tie.astype(int)
    write_csv(rd.file("rounds.csv"), rounds)

    solution = solve(slip=config.slip, gamma=config.y, steps=config.steps)
    q_mean = result.q.mean(axis=0)
    tables = [(name, s, *q_mean[m, s]) for m, name in enumerate(methods) for s in range(q_mean.shape[1])]
    tables += [("q_star", s, *solution.q[s]) for s in range(solution.q.shape[0])]
    write_csv(rd.file("q_tables.csv"), pd.DataFrame(tables, columns=["method", "state", "q_forward",
                                                                     "q_backward"]))
    # Every round's final tables, in the package's checkpoint format (arrays + JSON, no pickle):
    # callbacks.load_arrays_state(run_dir / "checkpoints") reads them back.
    save_arrays_state(rd.file("checkpoints"), step=config.rounds * config.episodes * config.steps,
                      arrays={name: result.q[:, m] for m, name in enumerate(methods)},
                      state={"experiment": NAME, "config": to_jsonable(config),
                             "layout": "round, state, action"})
    curves = pd.DataFrame({"episode": np.arange(config.episodes)})
    for m, name in enumerate(methods):
        curves[name] = result.curves[:, m].mean(axis=0)
    write_csv(rd.file("curves.csv"), curves)

    summary: dict = {"rule": config.rule, "rounds": config.rounds, "episodes": config.episodes,
                     "seed": config.seed, "optimal_return": solution.optimal_return,
                     "ties": int(tie.sum()), "ci_method": "wilson 95% (win shares), student-t 95% (returns)"}
    # The tutorial rule's table converges to Q* / lr (see reproduce.tabular.agents).
    q_fixed = solution.q / config.lr if config.rule == "tutorial" else solution.q
    for m, name in enumerate(methods):
        wins = int((winner == m).sum())
        low, high = wilson_ci(wins, config.rounds)
        mean, mlow, mhigh = mean_ci(result.returns[:, m])
        policies = (result.q[:, m, :, 1] > result.q[:, m, :, 0]).astype(int)  # np.argmax per state
        majority = (policies.mean(axis=0) > 0.5).astype(int)
        summary.update({
            f"wins_{name}": wins,
            f"wins_strict_{name}": int(((winner == m) & ~tie).sum()),
            f"win_share_{name}": wins / config.rounds,
            f"win_share_ci_low_{name}": low,
            f"win_share_ci_high_{name}": high,
            f"mean_return_{name}": mean,
            f"mean_return_ci_low_{name}": mlow,
            f"mean_return_ci_high_{name}": mhigh,
            f"regret_{name}": solution.optimal_return - mean,
            f"policy_{name}": policy_string(majority),
            f"policy_optimal_share_{name}": float((policies == solution.policy).all(axis=1).mean()),
        })
        if name != "naive":
            summary[f"max_abs_q_error_{name}"] = float(np.abs(q_mean[m] - solution.q).max())
            summary[f"max_abs_q_error_fixed_point_{name}"] = float(np.abs(q_mean[m] - q_fixed).max())
    if config.rounds == 100 and config.rule == "tutorial":
        for name, published in zip(methods, PUBLISHED_WINS):
            summary[f"published_wins_{name}"] = published
            low, high = summary[f"win_share_ci_low_{name}"], summary[f"win_share_ci_high_{name}"]
            summary[f"published_in_ci_{name}"] = bool(low <= published / 100 <= high)
    per_method = ("wins", "wins_strict", "win_share", "win_share_ci_low", "win_share_ci_high", "mean_return",
                  "mean_return_ci_low", "mean_return_ci_high", "regret", "max_abs_q_error", "policy",
                  "policy_optimal_share")
    table = pd.DataFrame([{"method": name, **{k: summary.get(f"{k}_{name}", np.nan) for k in per_method}}
                          for name in methods])
    write_csv(rd.file("summary.csv"), table)
    summary["wall_time_s"] = wall
    summary["jit_load_s"] = warmup
    write_json(rd.file("summary.json"), summary)
    rd.finish(wall_time_s=wall)
    keys = ("wins_naive", "wins_greedy_q", "wins_eps_greedy_q", "ties", "wall_time_s")
    return {k: summary[k] for k in keys}
