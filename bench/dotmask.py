"""The Dot-masked CartPole-v0 DQN notebook: its loop on a slice vs the package's full run, in one process.

Times the notebook's per-step loop (``predict`` to act, ``predict`` + ``train_on_batch`` per training
step; graph mode, as this process runs) on its first ``--slice`` steps, per phase (observing, then
training), and extrapolates to the notebook's 100,000 steps. Then runs the package's version for a
full 100,000-step seed end to end (random draws, graph build, XLA compile, training), checks that it
took the same actions as the notebook's loop over the slice, and prints its up-time curve next to the
published one, with a greedy demo episode and 100 greedy evaluation episodes of the final weights.
``--fixed`` also runs the same seed without the notebook's quirks.

    python bench/dotmask.py [--slice 7001] [--seed 0] [--fixed]

Target (issue): the full fast seed in <= 30 s.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import reproduce  # noqa: F401  (compat first)
from reproduce.originals import dotmask as dm

FULL = dm.Settings()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", type=int, default=7001, help="steps of the notebook's loop to time "
                        f"(> {FULL.observe + 2000}: 1000 observing and 1000 training steps are timed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fixed", action="store_true", help="also run the seed with quirks=False")
    opts = parser.parse_args()
    if opts.slice < FULL.observe + 2001:
        parser.error(f"--slice must be >= {FULL.observe + 2001}, got {opts.slice}")
    print(f"seed {opts.seed}; notebook loop on {opts.slice} steps; load average {os.getloadavg()}")

    ref = dm.train_reference(opts.seed, opts.slice, log_every=1000)
    marks = dict(zip(ref.curve_steps.tolist(), ref.interval_seconds.tolist()))
    observe = sum(marks[t] for t in range(2000, FULL.observe + 1, 1000)) / (FULL.observe - 1000)
    last = max(marks)
    train = marks[last] / 1000  # the last 1000 steps: training, the train function already built
    extrapolated = observe * (FULL.observe + 1) + train * (FULL.steps - FULL.observe - 1)
    print(f"notebook loop (graph mode)   observing {1e3 * observe:6.3f} ms/step, training "
          f"{1e3 * train:6.3f} ms/step; 100,000 steps extrapolated {extrapolated:7.1f} s "
          f"({extrapolated / 60:.1f} min)")

    start = time.perf_counter()
    draws = dm.published_draws(opts.seed, FULL)
    drawn = time.perf_counter()
    net = dm.FastDotMask(opts.seed, FULL)
    built = time.perf_counter()
    fast = net.train(draws)
    end = time.perf_counter()
    full = end - start
    print(f"package, 100,000 steps       {full:6.1f} s end to end: draws {drawn - start:.1f} s, graph build "
          f"and XLA compile {built - drawn:.1f} s, training {end - built:.1f} s "
          f"({1e6 * (end - built) / FULL.steps:.0f} us/step)")
    print(f"speed-up (extrapolated notebook loop / package end to end): {extrapolated / full:.0f}x")
    same = np.array_equal(ref.actions, fast.actions[:opts.slice])
    same_terminal = np.array_equal(ref.terminals, fast.terminals[:opts.slice])
    print(f"first {opts.slice} steps: same actions as the notebook's loop: {same}; same episode ends: "
          f"{same_terminal}; episodes {int(ref.terminals.sum())}")

    columns = {"this run": fast}
    if opts.fixed:
        start = time.perf_counter()
        columns["quirks=False"] = dm.train_fast(opts.seed, quirks=False)
        print(f"package, quirks=False        {time.perf_counter() - start:6.1f} s end to end")
    print()
    print(dm.published_log_table(fast))
    if opts.fixed:
        fixed = columns["quirks=False"]
        print("\nquirks=False (up time = episode length, counted every step):")
        print("  ".join(f"{t // 1000}k:{v:.1f}" for t, v in zip(fixed.curve_steps, fixed.curve)))
    print()
    for name, result in columns.items():
        demo = dm.demo_episode(result.weights, opts.seed)
        random_demo = dm.demo_episode(None, opts.seed)
        returns = dm.evaluate(result.weights, 100, opts.seed)
        half = 1.96 * returns.std(ddof=1) / np.sqrt(len(returns))
        print(f"{name}: greedy demo print(t) = {demo.printed} (published {dm.PUBLISHED_DEMO}); random demo "
              f"{random_demo.printed} (published {dm.PUBLISHED_RANDOM_DEMO}); 100 greedy episodes: mean "
              f"{returns.mean():.1f} +- {half:.1f}, {int((returns == 200).sum())} reach 200")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
