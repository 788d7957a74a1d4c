"""sentdex part 4's Q-table on the Blob world: the readable loop against the compiled one, in one process.

Runs the published loop (:func:`train_reference`, Python, on ``Blob-v0``) and the numba loop
(:func:`train_fast`, the same draws) for the same episodes and seed, checks they agree (actions,
rewards, table), then times the exact solver (optimum over the 10^6 starts) and the exact greedy
evaluation. The fast time is after one warm-up call (numba's cache load).

    python bench/blob_qtable.py [--episodes 25000] [--seed 0]

Target (issue 22): 25,000 episodes <= 10 s.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import reproduce  # noqa: F401
from reproduce.envs.blob_solver import blob_values, greedy_policy
from reproduce.originals import blob_qtable as bq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=bq.EPISODES)
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    print(f"{opts.episodes} episodes, seed {opts.seed}, load average {os.getloadavg()}")
    bq.train_fast(opts.seed, 2)
    start = time.perf_counter()
    fast = bq.train_fast(opts.seed, opts.episodes, record_actions=True)
    fast_s = time.perf_counter() - start
    start = time.perf_counter()
    ref = bq.train_reference(opts.seed, opts.episodes, record_actions=True)
    ref_s = time.perf_counter() - start
    same = (
        np.array_equal(ref.actions, fast.actions)
        and np.array_equal(ref.episode_rewards, fast.episode_rewards)
        and np.array_equal(ref.q, fast.q)
    )
    steps = int(fast.episode_lengths.sum())
    print(
        f"reference loop {ref_s:8.2f} s ({1e6 * ref_s / steps:.2f} us/step)   fast {fast_s:6.3f} s "
        f"({1e6 * fast_s / steps:.3f} us/step)   ratio {ref_s / fast_s:6.1f}x   {steps} steps   "
        f"same actions, rewards and table: {same}"
    )
    blob_values(actions=4)
    for name, kwargs in (
        ("optimum, 4 actions", {"actions": 4}),
        ("optimum, 9 actions", {"actions": 9}),
        ("greedy table, exact", {"actions": 4, "policy": greedy_policy(fast.q)}),
    ):
        start = time.perf_counter()
        values = blob_values(**kwargs)
        print(
            f"{name:<22} {time.perf_counter() - start:6.2f} s   expected return: part 4 starts "
            f"{values.expected(False):8.3f}, part 6 starts {values.expected(True):8.3f}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
