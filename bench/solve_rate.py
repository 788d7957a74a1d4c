"""Solve rate and steps to solve over seeds, from run directories of any sweep.

    reproduce sweep cartpole-dqn-tuned --seeds 20 --workers 1 --out /tmp/tuned20
    python bench/solve_rate.py /tmp/tuned20                # every seedS directory under it
    python bench/solve_rate.py results/runs/cartpole-dqn-tuned /tmp/more --label onednn-on

Prints one row per run (seed, solved, steps and time to solve, greedy eval, the machine's
oneDNN setting from the manifest) and the rate k/n with its Wilson interval and the median
steps to solve (unsolved runs count as never, so the median is inf once half fail).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def runs(directories: list[Path]) -> list[dict]:
    rows = []
    for directory in directories:
        for summary in sorted(directory.glob("seed*/summary.json")):
            s = json.loads(summary.read_text())
            m = json.loads((summary.parent / "manifest.json").read_text())
            rows.append({"experiment": m["experiment"], "seed": m["seed"], "solved": bool(s.get("solved")),
                         "steps_to_solve": s.get("steps_to_solve"),
                         "time_to_solve_s": s.get("time_to_solve_s"),
                         "eval_mean": s.get("eval_mean"), "onednn": m.get("machine", {}).get("onednn"),
                         "run_dir": str(summary.parent)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path, help="sweep directories holding seedS/ runs")
    args = parser.parse_args(argv)
    import pandas as pd

    from reproduce.stats import wilson_ci

    frame = pd.DataFrame(runs(args.directories))
    if frame.empty:
        print(f"error: no seed*/summary.json under {', '.join(map(str, args.directories))}; expected "
              f"directories written by `reproduce sweep`", file=sys.stderr)
        return 2
    frame = frame.sort_values("seed").drop_duplicates("seed", keep="last")
    print(f"$ python bench/solve_rate.py {' '.join(map(str, args.directories))}")
    print(frame.drop(columns="run_dir").to_markdown(index=False))
    k, n = int(frame.solved.sum()), len(frame)
    low, high = wilson_ci(k, n)
    steps = frame.steps_to_solve.astype(float).fillna(np.inf)
    print(f"\nsolved {k}/{n} [{100 * low:.0f}%, {100 * high:.0f}%] (Wilson 95%); median steps to solve "
          f"{np.median(steps):.0f} (unsolved count as never); seeds {frame.seed.min()}-{frame.seed.max()}; "
          f"oneDNN {', '.join(sorted(set(map(str, frame.onednn))))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
