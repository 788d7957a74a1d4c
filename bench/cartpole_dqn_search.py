"""Measured search for ``cartpole-dqn-tuned``: short runs of candidate configs over a few seeds.

Each candidate is a set of changes to the DQNConfig in ``reproduce/experiments/cartpole_dqn_tuned.py``;
each run trains with stop-once-solved checks (the tuned experiment's own schedule) for at most
``--steps`` steps. Runs go through a process pool of ``--jobs`` workers (the CPU is shared).
Prints a table (solve rate, median steps and seconds to solve, eval mean) and writes the
per-run rows to ``bench/results/cartpole_dqn_search.csv``.

    python bench/cartpole_dqn_search.py --seeds 3 --steps 25000 --jobs 2
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CANDIDATES = {
    "zoo-like-256": dict(hidden=(256, 256), learning_rate=2.3e-3, batch_size=64, nb_steps_warmup=1000,
                         train_interval=2, target_model_update=256,
                         policy=dict(value_max=1.0, value_min=0.04, nb_steps=8000)),
    "zoo-like-64": dict(hidden=(64, 64), learning_rate=2.3e-3, batch_size=64, nb_steps_warmup=1000,
                        train_interval=2, target_model_update=256,
                        policy=dict(value_max=1.0, value_min=0.04, nb_steps=8000)),
    "64-lr1e-3-ti1-t500": dict(hidden=(64, 64), learning_rate=1e-3, batch_size=64, nb_steps_warmup=1000,
                               train_interval=1, target_model_update=500,
                               policy=dict(value_max=1.0, value_min=0.05, nb_steps=10000)),
    "256-ti4-soft": dict(hidden=(256, 256), learning_rate=1e-3, batch_size=128, nb_steps_warmup=1000,
                         train_interval=4, target_model_update=0.01,
                         policy=dict(value_max=1.0, value_min=0.04, nb_steps=8000)),
    "zoo-like-256-no-trunc": dict(hidden=(256, 256), learning_rate=2.3e-3, batch_size=64,
                                  nb_steps_warmup=1000, train_interval=2, target_model_update=256,
                                  truncation_aware=False,
                                  policy=dict(value_max=1.0, value_min=0.04, nb_steps=8000)),
}


def config_for(name: str, seed: int, steps: int):
    from reproduce.experiments.cartpole_dqn_tuned import Config

    base = Config()
    changes = dict(CANDIDATES[name])
    policy = dataclasses.replace(base.dqn.policy, **changes.pop("policy", {}))
    dqn = base.dqn.replace(policy=policy, **changes)
    return dataclasses.replace(base, seed=seed, steps=steps, dqn=dqn)


def one(job):
    name, seed, steps = job
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import reproduce  # noqa: F401  (compat before TensorFlow)
    from reproduce.dqn.run import train_and_evaluate

    with tempfile.TemporaryDirectory() as tmp:
        _, summary = train_and_evaluate("cartpole-dqn-search", config_for(name, seed, steps),
                                        Path(tmp) / "run", verbose=False)
    return {"candidate": name, "seed": seed, **{k: summary[k] for k in (
        "solved", "steps_to_solve", "time_to_solve_s", "eval_mean", "steps_trained", "wall_time_s")}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=25_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None, help="candidate names (default: all)")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "cartpole_dqn_search.csv")
    args = parser.parse_args(argv)
    import pandas as pd

    names = args.only or list(CANDIDATES)
    jobs = [(name, seed, args.steps) for name in names for seed in range(args.seeds)]
    load_before = os.getloadavg()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(one, jobs))
    frame = pd.DataFrame(rows)
    frame.to_csv(args.out, index=False)
    table = frame.groupby("candidate", sort=False).agg(
        solved=("solved", "sum"), runs=("solved", "size"),
        median_steps_to_solve=("steps_to_solve", "median"),
        median_time_to_solve_s=("time_to_solve_s", "median"),
        mean_eval=("eval_mean", "mean"), median_wall_s=("wall_time_s", "median"))
    print(table.round(1).to_markdown())
    print(f"\nload average before {load_before}, after {os.getloadavg()} ({os.cpu_count()} CPUs); "
          f"{args.jobs} runs in parallel; rows in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
