"""sentdex part 6's image DQN: the tf-keras loop against the numpy/numba agent, per step, in one process.

Runs :func:`train_reference` (tf-keras ``predict``/``predict``/``fit`` per step, graph mode as this process
runs) and :class:`FastBlobDQN` (one BLAS thread, as in ``reproduce all``) on the same seed and the same
number of env steps, training from the ``--min-replay``-th step on (the tutorial: 1,000; lower here so
that most timed steps train; a training step costs the same either way), checks that they took the same
actions and ended with the same weights, and prints the cost per training step and the ratio. Then
extrapolates the tutorial's full budget from the fast per-step cost.

    python bench/blob_dqn.py [--steps 250] [--min-replay 100] [--seed 0]

Target (issue 22): the fast path >= 10x faster per step than the reference loop.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import reproduce  # noqa: F401
from reproduce.originals import blob_dqn as bd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--min-replay", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    settings = bd.Settings(min_replay=opts.min_replay)
    print(
        f"{opts.steps} env steps, training from step {opts.min_replay}, seed {opts.seed}, "
        f"load average {os.getloadavg()}"
    )
    warm = bd.FastBlobDQN(opts.seed, settings)
    warm.run(100, max_steps=opts.min_replay + 2)  # numba cache load and BLAS warm-up, not timed
    start, cpu = time.perf_counter(), time.process_time()
    agent, log = bd.train_reference(opts.seed, 10**6, settings, max_steps=opts.steps)
    ref_s, ref_cpu = time.perf_counter() - start, time.process_time() - cpu
    fast = bd.FastBlobDQN(opts.seed, settings)
    start, cpu = time.perf_counter(), time.process_time()
    flog = fast.run(10**6, max_steps=opts.steps)
    fast_s, fast_cpu = time.perf_counter() - start, time.process_time() - cpu
    same = flog.actions == log.actions and flog.rewards == log.rewards
    diff = max(float(np.abs(a - b).max()) for a, b in zip(agent.weights(), fast.net.w))
    n = log.train_steps
    print(
        f"reference (tf-keras)   {ref_s:8.2f} s wall, {ref_cpu:8.2f} s CPU   {1e3 * ref_s / n:8.1f} ms per "
        f"training step ({n} training steps)"
    )
    print(
        f"fast (numpy + numba)   {fast_s:8.2f} s wall, {fast_cpu:8.2f} s CPU   "
        f"{1e3 * fast_s / n:8.1f} ms per "
        f"training step"
    )
    print(
        f"ratio per step: {ref_s / fast_s:.1f}x wall, {ref_cpu / fast_cpu:.1f}x CPU   same actions "
        "and rewards: "
        f"{same}   max |weight difference| {diff:.2e}"
    )
    # the tutorial's budget: 20,000 episodes; early episodes ~75 steps, later ones shorter
    per_step = fast_s / n
    for steps in (500_000, 1_500_000):
        print(
            f"  {steps:,} training steps (the full 20,000 episodes are between these): fast "
            f"{per_step * steps / 3600:.1f} h, reference {ref_s / n * steps / 3600:.1f} h"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
