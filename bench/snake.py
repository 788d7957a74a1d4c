"""Qlearning4k's Snake example: the per-step cost of the reference loop against the fast path, in one process.

Runs upstream's ``Agent.train`` loop as written (``reproduce.originals.qlearning4k_snake.train_reference``:
Keras ``predict`` / ``predict([S; S'])`` / ``train_on_batch`` per step, graph mode) and the package's fast
path (``train_fast``: one session call per step, compact memory) on the same seed and epochs, each
pinned to the same one core, and reports milliseconds per env step, the speed-up, whether the two
runs agree (actions, rewards, losses, weights) and the process time per seed that ``reproduce all``'s
budget implies. Appends its report to ``bench/results/snake.txt``.

    flock /tmp/bench.lock python bench/snake.py [--epochs 100] [--nb-epoch 500] [--seed 0]

``--nb-epoch`` sets the epsilon schedule (1 -> 0.1 over its first half), ``--epochs`` how many of its
epochs both loops run.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from timing import timed  # bench/timing.py (the script's own directory is on sys.path)

import reproduce  # noqa: F401  (compat first)
from reproduce.originals import qlearning4k_snake as q4k

OUT = Path(__file__).parent / "results" / "snake.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="epochs both loops run")
    parser.add_argument("--nb-epoch", type=int, default=500, help="schedule length (reproduce all: 500)")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core for both sides
    config = q4k.Config(nb_epoch=opts.nb_epoch)
    lines = [f"$ python bench/snake.py --epochs {opts.epochs} --nb-epoch {opts.nb_epoch} --seed {opts.seed}"
             f"   # {time.strftime('%Y-%m-%d')}, 1 core, load {os.getloadavg()[0]:.2f}",
             f"settings: {config}"]
    ref, ref_wall, ref_cpu = timed(lambda: q4k.train_reference(opts.seed, config, epochs=opts.epochs))
    fast, fast_wall, fast_cpu = timed(lambda: q4k.train_fast(opts.seed, config, epochs=opts.epochs))
    steps = int(ref.steps.sum())
    same = ref.actions.tolist() == fast.actions.tolist() and ref.rewards.tolist() == fast.rewards.tolist()
    w_diff = max(float(np.abs(a - b).max()) for a, b in zip(ref.weights, fast.weights))
    eps, _ = q4k.epsilon_schedule(config)
    lines += [
        f"{opts.epochs} epochs, {steps} env steps (epsilon {eps[0]:.2f} -> {eps[opts.epochs - 1]:.2f}), "
        f"{int(ref.fruit.sum())} fruit eaten",
        f"reference loop: {1000 * ref.cpu_seconds / steps:6.2f} ms process, "
        f"{1000 * ref.seconds / steps:6.2f} ms wall per step in the loop "
        f"({ref_wall:.1f} s wall, {ref_cpu:.1f} s process incl. graph build)",
        f"fast path     : {1000 * fast.cpu_seconds / steps:6.2f} ms process, "
        f"{1000 * fast.seconds / steps:6.2f} ms wall per step in the loop "
        f"({fast_wall:.1f} s wall, {fast_cpu:.1f} s process incl. graph build)",
        f"per-step speed-up in the loop: {ref.cpu_seconds / fast.cpu_seconds:.2f}x process time, "
        f"{ref.seconds / fast.seconds:.2f}x wall; whole calls: {ref_cpu / fast_cpu:.2f}x process time",
        f"same actions and rewards: {same}; max |loss diff| {np.abs(ref.loss - fast.loss).max():.2e}; "
        f"max |weight diff| {w_diff:.2e}",
        f"fast path process time per env step, graph build included: {1000 * fast_cpu / steps:.2f} ms",
    ]
    text = "\n".join(lines) + "\n\n"
    print(text, end="")
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("a") as f:
        f.write(text)


if __name__ == "__main__":
    main()
