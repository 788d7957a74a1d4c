"""``dungeon-deepgambler``: Valohai's tutorial part 3, the DeepGambler's one-sample deep Q-learning.

"We retrain the model after each step of the simulation, with just one experience at a time": a
one-hot(5) -> Dense(16, sigmoid) -> Dense(16, sigmoid) -> Dense(2) network, mean squared error, plain
gradient descent at lr 0.1, one update per step towards ``r + 0.95 max Q(s')``, its hidden kernels
starting at zero (``--quirks``, the default; ``--no-quirks`` starts them glorot-uniform). Each run plays
``repeats`` streams of ``iterations`` steps; ``--implementation fast`` (default) is the numba forward and
backward pass of :func:`reproduce.originals.dungeon.run_fast`, ``reference`` the tf-keras model
trained as published (``train_on_batch`` per step, minutes per stream), the two matched to 1e-5 (tested).
``--variant 2020`` is the 2020 rewrite: the state as one scalar input, 8 units, lr 0.5, discount 0.98.

Outputs: ``performance.csv`` (printed curve, mean over streams, and the optimum's), ``repeats.csv``
(one row per stream: greedy policy's exact gain, Q against Q*, whether the first layer's units are still
identical, whether the network diverged) and ``q_tables.csv`` (mean Q and Q*).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Column, Experiment, Report, RunContext
from reproduce.experiments.dungeon_qlearning import (
    NOTES,
    Q_TABLES,
    REPEATS,
    REPEATS_CHECK,
    SOURCE,
    performance_figure,
    stream_rows,
    stream_seed,
)
from reproduce.options import POSITIVE, option

NAME = "dungeon-deepgambler"
COLUMNS = (
    Column("training reward/step", "train_reward_per_step"),
    Column("last printed window", "last_window"),
    Column("diverged (share)", "diverged"),
)


@dataclass(frozen=True)
class Config:
    """``train.py --agent=DEEPGAMBLER``, ``repeats`` times."""

    iterations: int = option(
        2000, "steps of the one stream (train.py: 2000; valohai.yaml: 10000)", check=POSITIVE
    )
    repeats: int = option(20, "independent streams", check=REPEATS_CHECK)
    variant: str = option(
        "2019",
        "2019 (commit 2f6aac0: one-hot(5), 16 units, lr 0.1, discount 0.95) or 2020 "
        "(scalar input, 8 units, lr 0.5, discount 0.98)",
        choices=("2019", "2020"),
    )
    quirks: bool = option(True, "hidden kernels start at zero, as published (--no-quirks: glorot-uniform)")
    implementation: str = option(
        "fast",
        "fast (numba, the same arithmetic) or reference (tf-keras, as published)",
        choices=("fast", "reference"),
    )
    seed: int = 0
    """stream r is seeded seed * 10000 + r (agent draws, slips, initial weights)"""


def run(config: Config, run_dir: Path) -> dict:
    import numpy as np
    import pandas as pd

    from reproduce.envs import DUNGEON_ID, solve_dungeon
    from reproduce.experiments.dungeon_qlearning import write_curves
    from reproduce.originals import dungeon
    from reproduce.runs import write_csv

    run = RunContext(NAME, config, run_dir)
    s = dungeon.settings(config.variant)
    solution = solve_dungeon(s.discount)
    runner = dungeon.run_fast if config.implementation == "fast" else dungeon.run_reference
    if config.implementation == "fast":
        dungeon.run_fast("deepgambler", 2, 0)  # load (or compile) the numba code before timing
    results = [
        runner("deepgambler", config.iterations, stream_seed(config.seed, r), config.variant, config.quirks)
        for r in range(config.repeats)
    ]
    policies = []
    for res in results:  # np.argmax: a tie (or NaN) goes to FORWARD
        greedy = np.array([int(np.argmax(q)) for q in res.q])
        probs = np.zeros((dungeon.N_STATES, 2))
        probs[np.arange(dungeon.N_STATES), greedy] = 1.0
        letters = "".join("FB"[a] for a in greedy)
        # a diverged network's Q is NaN: np.argmax(NaN, NaN) is 0, FORWARD, the optimal action by accident
        policies.append((letters if np.isfinite(res.q).all() else f"{letters} (NaN Q)", probs))
    rows = stream_rows("deepgambler", results, solution, config.seed, policies)
    for row, res in zip(rows, results):
        w1 = res.weights[0]
        row["diverged"] = float(not all(np.isfinite(w).all() and np.abs(w).max() < 1e6 for w in res.weights))
        row["first_layer_spread"] = float(np.ptp(w1, axis=1).max()) if np.isfinite(w1).all() else None
    frame = pd.DataFrame(rows)
    write_csv(run.file(REPEATS), frame)
    write_curves(run, ("deepgambler",), {"deepgambler": results}, solution, config.iterations)
    finite = [res.q for res in results if np.isfinite(res.q).all()]
    mean_q = np.mean(finite, axis=0) if finite else np.full((dungeon.N_STATES, 2), np.nan)
    tables = [("deepgambler", st, *mean_q[st]) for st in range(dungeon.N_STATES)]
    tables += [("q_star", st, *solution.q[st]) for st in range(dungeon.N_STATES)]
    write_csv(run.file(Q_TABLES), pd.DataFrame(tables, columns=["agent", "state", "q_forward", "q_backward"]))
    errors = frame.max_abs_q_error.dropna()
    return run.finish(
        printed=("mean_return", "policy", "max_abs_q_error", "diverged", "optimal_return", "wall_time_s"),
        env_id=DUNGEON_ID,
        iterations=config.iterations,
        repeats=config.repeats,
        variant=config.variant,
        quirks=config.quirks,
        implementation=config.implementation,
        learning_rate=s.learning_rate,
        discount=s.discount,
        units=s.units,
        optimal_return=solution.average_reward,
        mean_return=float(frame.mean_return.mean()),
        policy=str(frame.policy.mode().iat[0]),
        policy_optimal_share=float(frame.policy_optimal.mean()),
        max_abs_q_error=float(errors.mean()) if len(errors) else None,
        diverged=float(frame.diverged.mean()),
        first_layer_identical=float((frame.first_layer_spread == 0).mean()),
        train_reward_per_step=float(frame.train_reward_per_step.mean()),
        env_steps=config.repeats * config.iterations,
        train_time_s=float(frame.seconds.sum()),
    )


def rows(run) -> list[dict]:
    frame = run.files.get(REPEATS)
    if frame is None:
        return []
    c = run.config
    tag = f"{c.get('iterations')} steps" + (
        "" if c.get("variant", "2019") == "2019" else f", {c.get('variant')}"
    )
    tag += "" if c.get("quirks", True) else ", hidden kernels glorot (no quirks)"
    tag += "" if c.get("implementation", "fast") == "fast" else ", tf-keras reference"
    out = []
    for record in frame.to_dict("records"):
        record = {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
        out.append(
            {
                **record,
                "agent": f"DeepGambler (Keras Q-network), {tag}",
                "seed": int(record["stream_seed"]),
                "iterations": c.get("iterations"),
                "env_steps": c.get("iterations"),
            }
        )
    return out


def figures(runs, out: Path):
    return performance_figure(runs, out, NAME, agents=("deepgambler",))


EXPERIMENT = Experiment(
    NAME,
    "Valohai's dungeon: the DeepGambler, one-sample deep Q-learning (numba, matched to tf-keras)",
    Config,
    run,
    Report(
        "DeepGambler (Keras Q-network)",
        table="optimum",
        columns=COLUMNS,
        notes=NOTES,
        rows=rows,
        figures=(figures,),
        source=SOURCE,
    ),
    differences=(
        "tf-keras (Sequential, legacy SGD, train_on_batch/predict_on_batch) stands for the TF 1 graph and "
        "session; by default the same float32 forward and backward pass runs in numba (matched to "
        "the tf-keras "
        "reference to 1e-5 on a short run, tested; --implementation reference runs tf-keras)",
        "initial weights are drawn with numpy from the same distributions (hidden kernels zero, "
        "output kernel glorot-uniform, biases zero); tf-keras cannot build the second layer's zero "
        "initializer of shape (16, 2) for a (16, 16) kernel, which TF 1 filled with zeros",
        "the 2020 variant's network (lr 0.5 on the raw tile number) diverges to NaN in most streams "
        "within a few hundred steps; np.argmax then returns 0, FORWARD, the optimal action, so its score "
        "is optimal by accident (policy shown with '(NaN Q)')",
        "the target r + 0.95 max Q(s') is computed in float64 and stored into the float32 vector, "
        "as numpy 1.x did",
        "the dungeon is Dungeon-v0 (its slips from the env's np_random); the agent draws from "
        "random.Random(stream seed)",
        "`repeats` independent streams per run where train.py plays one",
    ),
)
