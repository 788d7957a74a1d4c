"""The TensorFlow blog's A3C: the tf.keras reference against the numpy backend, side by side, one core.

Both run the published worker loop (``reproduce.originals.a3c.train``) with one worker on the same seed
for ``--episodes`` global episodes: the reference with tf.keras models and TF1's Adam (one session
call per action and per push), the fast path in numpy. Reports microseconds per env step (process
and wall time of the training loops, the models built beforehand), the
speed-up and whether the runs agree (actions, scores, weights), then times the fast path's whole
published run (1,000 episodes) with one worker and with ``--workers`` threads. ``--compare-loss N``
instead runs seeds 0..N-1 of the published run with the published loss and with each action weighted
by its own advantage (``quirks=False``) and prints their moving averages. Appends to
``bench/results/a3c.txt``.

    flock /tmp/bench.lock python bench/a3c.py [--episodes 200] [--seed 0] [--workers 2] [--compare-loss 3]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from timing import timed  # bench/timing.py (the script's own directory is on sys.path)

import reproduce  # noqa: F401  (compat first)
from reproduce.originals import a3c

OUT = Path(__file__).parent / "results" / "a3c.txt"


def steps(result) -> int:
    return sum(e.steps for e in result.episodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200, help="episodes both backends run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="threads for the threaded full run")
    parser.add_argument("--compare-loss", type=int, default=0, metavar="SEEDS",
                        help="compare the published loss with the per-action advantage over SEEDS seeds")
    opts = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core for every side
    if opts.compare_loss:
        return compare_loss(opts.compare_loss)
    lines = [f"$ python bench/a3c.py --episodes {opts.episodes} --seed {opts.seed} --workers {opts.workers}"
             f"   # {time.strftime('%Y-%m-%d')}, 1 core, load {os.getloadavg()[0]:.2f}"]
    ref_nets, fast_nets = a3c.TFNets(opts.seed), a3c.NumpyNets(opts.seed)  # built outside the timing
    ref, ref_wall, ref_cpu = timed(lambda: a3c.train(ref_nets, opts.seed, max_eps=opts.episodes))
    fast, fast_wall, fast_cpu = timed(lambda: a3c.train(fast_nets, opts.seed, max_eps=opts.episodes))
    n = steps(ref)
    w_diff = max(float(np.abs(a - b).max()) for a, b in zip(ref.weights, fast.weights))
    lines += [
        f"{opts.episodes} episodes, one worker: {n} env steps (fast path: {steps(fast)})",
        f"reference (tf.keras, TF1 Adam): {1e6 * ref_cpu / n:7.1f} us/step process, "
        f"{1e6 * ref_wall / n:7.1f} us/step wall",
        f"fast path (numpy)             : {1e6 * fast_cpu / n:7.1f} us/step process, "
        f"{1e6 * fast_wall / n:7.1f} us/step wall",
        f"per-step speed-up: {ref_cpu / fast_cpu:.1f}x (process time), {ref_wall / fast_wall:.1f}x (wall)",
        f"same actions: {ref.actions == fast.actions}; same scores: "
        f"{[e.score for e in ref.episodes] == [e.score for e in fast.episodes]}; "
        f"max |weight diff| {w_diff:.1e}",
    ]
    for workers in (1, opts.workers):
        full, wall, proc = timed(lambda w=workers: a3c.train(a3c.NumpyNets(opts.seed, w), opts.seed, w))
        lines.append(f"fast path, published run ({len(full.episodes)} episodes, {workers} worker(s)): "
                     f"{steps(full)} steps, {wall:.1f} s wall, {proc:.1f} s process, "
                     f"{1e6 * full.seconds / steps(full):.1f} us/step; final moving average "
                     f"{full.moving_average[-1]:.1f}, best score {full.best_score:.0f}")
    text = "\n".join(lines) + "\n\n"
    print(text, end="")
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("a") as f:
        f.write(text)


def compare_loss(seeds: int) -> None:
    """The published run with both losses: the moving average every 100 episodes, per seed and mean."""
    marks = list(range(99, 1000, 100))
    lines = [f"$ python bench/a3c.py --compare-loss {seeds}   # {time.strftime('%Y-%m-%d')}, "
             f"load {os.getloadavg()[0]:.2f}",
             "moving average (the blog's curve) after episode " + ", ".join(str(m + 1) for m in marks)]
    for quirks, label in ((True, "published loss (mean advantage)"), (False, "per-action advantage")):
        curves = []
        for seed in range(seeds):
            result = a3c.train(a3c.NumpyNets(seed, quirks=quirks), seed)
            curves.append(result.moving_average[marks])
            lines.append(f"  {label}, seed {seed}: " + " ".join(f"{v:5.0f}" for v in curves[-1])
                         + f"   ({steps(result)} steps)")
        lines.append(f"  {label}, mean  : " + " ".join(f"{v:5.0f}" for v in np.mean(curves, axis=0)))
    text = "\n".join(lines) + "\n\n"
    print(text, end="")
    with OUT.open("a") as f:
        f.write(text)


if __name__ == "__main__":
    main()
