"""``dungeon-qlearning``: Valohai's tutorial parts 1-2, the Drunkard, the Accountant and the Gambler.

Each run plays ``repeats`` independent streams of ``iterations`` steps (``train.py``'s default 2,000;
``valohai.yaml``'s 10,000) with each table agent on ``Dungeon-v0``, compiled
(:func:`reproduce.originals.dungeon.run_fast`, which replays exactly the draws of the published loop,
:func:`~reproduce.originals.dungeon.run_reference`, tested). Stream ``r`` is seeded ``seed * 10000 + r``
(agent draws and the dungeon's slips).

Scores, against the exact solution (:func:`reproduce.envs.solve_dungeon`): the tutorial's printed
performance (reward per step over each 250 steps) next to what the optimal policy earns in the same
windows from tile 0; each agent's final greedy policy, its exact long-run reward per step against the
optimal 6.105; the Gambler's table against Q* at its discount.

Outputs: ``performance.csv`` (the printed curve: mean over streams per agent, and the optimum's),
``repeats.csv`` (one row per agent and stream), ``q_tables.csv`` (mean tables and Q*).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Column, Experiment, Report, RunContext, Source
from reproduce.options import POSITIVE, Check, option
from reproduce.runs import RunDir

NAME = "dungeon-qlearning"
SOURCE = Source(
    "Reinforcement Learning Tutorial, parts 1-3 (qlearning-simple at 2f6aac0)",
    "Valohai",
    "https://github.com/valohai/qlearning-simple/tree/2f6aac0",
)
PERFORMANCE = RunDir.PERFORMANCE
REPEATS = RunDir.REPEATS
Q_TABLES = RunDir.Q_TABLES
REPEAT_LIMIT = 10_000  # streams are seeded seed * 10000 + r
LABELS = {
    "drunkard": "Drunkard (random)",
    "accountant": "Accountant (reward sums)",
    "gambler": "Gambler (Q-table)",
    "deepgambler": "DeepGambler (Keras Q-network)",
}
COLUMNS = (
    Column("training reward/step", "train_reward_per_step"),
    Column("last printed window", "last_window"),
    Column("greedy policy optimal (share)", "policy_optimal"),
)
NOTES = (
    "Dungeon-v0 (NChain, 5 tiles, slip 0.1) has no episodes: the 'greedy return' of these rows is the exact "
    "long-run reward per step of the agent's final greedy policy (ties counted as the agent breaks them), "
    "the optimum is the optimal policy's 6.105 (always FORWARD; random play earns 1.3125). Each row "
    "stands for one independent stream; 'training reward/step' is what the agent earned while learning, "
    "'last printed window' the tutorial's last printed performance. Q* is at the agent's discount."
)
REPEATS_CHECK = Check(f"an integer in [1, {REPEAT_LIMIT}]", lambda v: 1 <= v <= REPEAT_LIMIT)


@dataclass(frozen=True)
class Config:
    """``train.py`` with each table agent, ``repeats`` times."""

    iterations: int = option(
        2000, "steps of the one stream (train.py: 2000; valohai.yaml: 10000)", check=POSITIVE
    )
    repeats: int = option(100, "independent streams per agent", check=REPEATS_CHECK)
    variant: str = option(
        "2019",
        "2019 (commit 2f6aac0: lr 0.1, discount 0.95) or 2020 (train.py's lr 0.5, discount 0.98)",
        choices=("2019", "2020"),
    )
    seed: int = 0
    """stream r is seeded seed * 10000 + r"""


def stream_seed(seed: int, r: int) -> int:
    return seed * REPEAT_LIMIT + r


def greedy_policy(q) -> tuple[str, object]:
    """The agent's greedy policy from its table (states x actions): letters (``?`` on a tie) and the action
    probabilities it plays (a tie is a coin flip in every published agent but the DeepGambler)."""
    import numpy as np

    q = np.asarray(q, dtype=float)
    probs = np.zeros(q.shape)
    letters = []
    for s, (f, b) in enumerate(q):
        if f > b:
            probs[s, 0], letter = 1.0, "F"
        elif b > f:
            probs[s, 1], letter = 1.0, "B"
        else:
            probs[s] = 0.5
            letter = "?"
        letters.append(letter)
    return "".join(letters), probs


def stream_rows(agent: str, results, solution, seed: int, policies=None) -> list[dict]:
    """One row per stream: the final greedy policy's exact gain, the training score and Q's error."""
    import numpy as np

    from reproduce.envs.dungeon import DUNGEON, average_reward

    rows = []
    for r, result in enumerate(results):
        if agent == "drunkard":
            policy, probs = "random", np.full((5, 2), 0.5)
        elif policies is not None:
            policy, probs = policies[r]
        else:
            policy, probs = greedy_policy(result.q)
        gain = average_reward(probs, **DUNGEON)
        _, printed = result.printed()
        q_error = (
            float(np.abs(result.q - solution.q).max())
            if agent in ("gambler", "deepgambler") and np.isfinite(result.q).all()
            else None
        )
        rows.append(
            {
                "agent": agent,
                "stream": r,
                "stream_seed": stream_seed(seed, r),
                "mean_return": gain,
                "optimal_return": solution.average_reward,
                "regret": solution.average_reward - gain,
                "policy": policy,
                "policy_optimal": float(policy == solution.policy_string),
                "max_abs_q_error": q_error,
                "train_reward_per_step": float(result.rewards.mean()),
                "last_window": float(printed[-1]),
                "seconds": result.seconds,
            }
        )
    return rows


def write_curves(run, agents, results_by_agent, solution, iterations):
    """``performance.csv``: the printed curve (mean over streams) per agent, and the optimum's."""
    import numpy as np
    import pandas as pd

    from reproduce.envs.dungeon import DUNGEON, expected_rewards, printed_windows
    from reproduce.runs import write_csv

    steps, optimum = printed_windows(expected_rewards(solution.policy, iterations, **DUNGEON))
    frame = pd.DataFrame({"step": steps})
    for agent in agents:
        printed = np.stack([res.printed()[1] for res in results_by_agent[agent]])
        frame[agent] = printed.mean(axis=0)
        frame[f"{agent}_std"] = printed.std(axis=0, ddof=1) if len(printed) > 1 else 0.0
    frame["optimum_expected"] = optimum
    frame["optimal_gain"] = solution.average_reward
    write_csv(run.file(PERFORMANCE), frame)


def run(config: Config, run_dir: Path) -> dict:
    import numpy as np
    import pandas as pd

    from reproduce.envs import DUNGEON_ID, solve_dungeon
    from reproduce.originals import dungeon
    from reproduce.runs import write_csv

    run = RunContext(NAME, config, run_dir)
    s = dungeon.settings(config.variant)
    solution = solve_dungeon(s.discount)
    dungeon.run_fast("gambler", 2, 0)  # load (or compile) the numba code before timing
    results = {
        agent: [
            dungeon.run_fast(agent, config.iterations, stream_seed(config.seed, r), config.variant)
            for r in range(config.repeats)
        ]
        for agent in dungeon.TABLE_AGENTS
    }
    rows = [
        row
        for agent in dungeon.TABLE_AGENTS
        for row in stream_rows(agent, results[agent], solution, config.seed)
    ]
    write_csv(run.file(REPEATS), pd.DataFrame(rows))
    write_curves(run, dungeon.TABLE_AGENTS, results, solution, config.iterations)
    tables = [
        (agent, st, *np.mean([res.q for res in results[agent]], axis=0)[st])
        for agent in ("accountant", "gambler")
        for st in range(dungeon.N_STATES)
    ]
    tables += [("q_star", st, *solution.q[st]) for st in range(dungeon.N_STATES)]
    write_csv(run.file(Q_TABLES), pd.DataFrame(tables, columns=["agent", "state", "q_forward", "q_backward"]))
    frame = pd.DataFrame(rows)
    summary = {
        "env_id": DUNGEON_ID,
        "iterations": config.iterations,
        "repeats": config.repeats,
        "variant": config.variant,
        "learning_rate": s.learning_rate,
        "discount": s.discount,
        "optimal_return": solution.average_reward,
        "optimal_policy": solution.policy_string,
        "random_return": solution.random_average_reward,
        "env_steps": len(dungeon.TABLE_AGENTS) * config.repeats * config.iterations,
        "train_time_s": float(frame.seconds.sum()),
    }
    for agent, group in frame.groupby("agent", sort=False):
        summary[f"mean_return_{agent}"] = float(group.mean_return.mean())
        summary[f"train_reward_per_step_{agent}"] = float(group.train_reward_per_step.mean())
        summary[f"policy_{agent}"] = str(group.policy.mode().iat[0])
        summary[f"policy_optimal_share_{agent}"] = float(group.policy_optimal.mean())
        if group.max_abs_q_error.notna().any():
            summary[f"max_abs_q_error_{agent}"] = float(group.max_abs_q_error.mean())
    return run.finish(
        printed=(
            "mean_return_gambler",
            "policy_gambler",
            "max_abs_q_error_gambler",
            "optimal_return",
            "wall_time_s",
        ),
        **summary,
    )


def label(agent: str, run) -> str:
    config = run.config
    variant = config.get("variant", "2019")
    return f"{LABELS[agent]}, {config.get('iterations')} steps" + (
        "" if variant == "2019" else f", {variant}"
    )


def rows(run) -> list[dict]:
    """One row per agent and stream: each stream is an independent seeded run."""
    frame = run.files.get(REPEATS)
    if frame is None:
        return []
    out = []
    for record in frame.to_dict("records"):
        record = {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
        out.append(
            {
                **record,
                "agent": label(record["agent"], run),
                "seed": int(record["stream_seed"]),
                "iterations": run.config.get("iterations"),
                "variant": run.config.get("variant"),
                "env_steps": run.config.get("iterations"),
            }
        )
    return out


def performance_figure(runs, out: Path, name: str = NAME, agents=None):
    """The tutorial's printed performance against what the optimal policy earns in the same windows."""
    import numpy as np

    from reproduce import figures as fig_

    figures = []
    mine = [r for r in runs if r.experiment == name and PERFORMANCE in r.files]
    groups: dict[tuple, list] = {}
    for r in mine:
        groups.setdefault(
            (r.config.get("iterations"), r.config.get("variant", "2019"), r.config.get("quirks", True)), []
        ).append(r)
    for (iterations, variant, quirks), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        frame = group[0].files[PERFORMANCE]
        names = agents or [c for c in frame.columns if c in LABELS]
        plt = fig_.plt()
        fig, ax = plt.subplots(figsize=fig_.SIZE)
        for agent in names:
            data = np.stack([r.files[PERFORMANCE][agent].to_numpy() for r in group])
            fig_.band(ax, frame.step, data, LABELS[agent])
        ax.plot(frame.step, frame.optimum_expected, "k--", lw=1, label="optimal policy (exact, from tile 0)")
        ax.axhline(float(frame.optimal_gain.iat[0]), color="k", lw=0.6, alpha=0.6, label="optimal gain 6.105")
        tag = f"{iterations} steps, {variant}" + ("" if quirks else ", no quirks")
        fig_.label(
            ax,
            "step (train.py prints every 250th)",
            "reward per step, last 250 steps",
            f"Valohai dungeon: printed performance ({tag})",
            outside=True,
        )
        repeats = group[0].config.get("repeats")
        caption = (
            f"The tutorial's printed performance (reward gained since the last print / 250; the first "
            f"print covers step 0 alone) on Dungeon-v0, {tag}: the mean over {repeats} streams per "
            f"agent, and the exact expectation of the optimal policy in the same windows."
        )
        path = out / fig_.slug(f"{name}_{iterations}_{variant}_{'quirks' if quirks else 'no_quirks'}")
        figures.append((fig_.save(fig, path.with_suffix(".png")), caption))
    return figures


def q_figure(runs, out: Path):
    """The Gambler's mean table against Q* per tile and action."""
    import numpy as np

    from reproduce import figures as fig_

    mine = [r for r in runs if r.experiment == NAME and Q_TABLES in r.files]
    if not mine:
        return []
    plt = fig_.plt()
    fig, ax = plt.subplots(figsize=fig_.SIZE)
    for r in sorted(mine, key=lambda r: (str(r.config.get("variant")), r.config.get("iterations", 0))):
        t = r.files[Q_TABLES]
        g = t[t.agent == "gambler"]
        tag = f"{r.config.get('iterations')} steps, {r.config.get('variant', '2019')}"
        ax.plot(g.state, g.q_forward, "o-", label=f"Gambler Q(s, F), {tag}")
        ax.plot(g.state, g.q_backward, "s:", label=f"Gambler Q(s, B), {tag}")
    star = mine[0].files[Q_TABLES]
    star = star[star.agent == "q_star"]
    ax.plot(star.state, star.q_forward, "k-", lw=2, label="Q*(s, F), gamma 0.95")
    ax.plot(star.state, star.q_backward, "k--", lw=2, label="Q*(s, B), gamma 0.95")
    ax.set_xticks(np.arange(5))
    fig_.label(ax, "tile", "Q", "Valohai dungeon: the Gambler's table against Q*", outside=True)
    caption = (
        "The Gambler's final Q-table (mean over streams) against the exact Q* of Dungeon-v0 at its "
        "discount: exploration falls to 0 over the run, so the table is far from converged."
    )
    return [(fig_.save(fig, out / "dungeon_gambler_q.png"), caption)]


EXPERIMENT = Experiment(
    NAME,
    "Valohai's dungeon: Drunkard, Accountant and Gambler (Q-table), train.py's one stream",
    Config,
    run,
    Report(
        "dungeon table agents",
        table="optimum",
        columns=COLUMNS,
        notes=NOTES,
        rows=rows,
        figures=(performance_figure, q_figure),
        source=SOURCE,
    ),
    differences=(
        "the dungeon is Dungeon-v0 (NChainEnv with slip 0.1, no time limit): its slips come from the env's "
        "np_random, the agents draw from random.Random(stream seed); the original drew both from the global "
        "random module (the same distributions)",
        "compiled with numba; the published classes run as written in "
        "reproduce.originals.dungeon.run_reference "
        "and give the same actions, rewards and tables for the same seed (tested)",
        "`repeats` independent streams per run where train.py plays one; time.sleep(0.0001) per "
        "step is left out",
        "the 2020 variant (--variant 2020) takes train.py's new defaults, lr 0.5 and discount "
        "0.98, for the Gambler "
        "(valohai.yaml still passes 0.1 and 0.95)",
    ),
)
