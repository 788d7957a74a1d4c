"""The tutorial's Keras Q-network: the published loop against the package's, in one process.

Times the published per-step loop (predict, predict, predict, fit; graph mode, as this process
runs) and the package's XLA-compiled episode graph (and, for the record, the same graph without
XLA) on the same slice of steps, then the package's full 1000 x 1000-step run end to end
(random draws, graph build, XLA compile, training). Prints per-step times, extrapolated
full-run times and the ratios.

    python bench/keras_qnet.py [--steps 3000] [--seed 0] [--no-full]

Targets (issue 4): full run <= 60 s (stretch 20 s), >= 55x faster than the published loop.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import reproduce  # noqa: F401  (compat first)
from reproduce.envs import policy_string, q_star
from reproduce.originals import keras_qnet as kq

FULL_STEPS = 1000 * 1000


def time_fast(seed: int, steps: int, jit: bool) -> tuple[float, float]:
    """(compile seconds, per-step seconds) of FastQNet over ``steps`` steps after one warm-up episode."""
    episodes = steps // 1000
    streams = kq.published_streams(seed, episodes + 1, 1000)
    net = kq.FastQNet(seed, 1000, jit=jit)
    start = time.perf_counter()
    net.run_episode(streams.explore[0], streams.random_action[0], streams.slipped[0])
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(1, episodes + 1):
        net.run_episode(streams.explore[i], streams.random_action[i], streams.slipped[i])
    return compile_s, (time.perf_counter() - start) / (episodes * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="slice length, a multiple of 1000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-full", action="store_true", help="skip the full 1M-step fast run")
    opts = parser.parse_args()
    if opts.steps <= 0 or opts.steps % 1000:
        parser.error(f"--steps must be a positive multiple of 1000, got {opts.steps}")
    print(f"slice: {opts.steps} steps, seed {opts.seed}, load average {os.getloadavg()}")

    published = kq.train_reference(opts.seed, opts.steps).seconds / opts.steps
    print(f"published loop (graph mode)   {1e3 * published:9.4f} ms/step   "
          f"full run extrapolated {published * FULL_STEPS:9.1f} s")
    rows = {}
    for name, jit in (("package, no XLA", False), ("package, XLA", True)):
        compile_s, per_step = time_fast(opts.seed, opts.steps, jit)
        rows[name] = per_step
        print(f"{name:<29} {1e3 * per_step:9.4f} ms/step   "
              f"full run extrapolated {per_step * FULL_STEPS + compile_s:9.1f} s "
              f"(first episode incl. compile {compile_s:.2f} s)   "
              f"per-step ratio {published / per_step:7.1f}x")
    if not opts.no_full:
        start = time.perf_counter()
        result = kq.train_fast(opts.seed)
        full = time.perf_counter() - start
        error = np.abs(result.q_table - q_star()).max()
        policy = policy_string(result.q_table.argmax(axis=1))
        print(f"package full run, measured     {full:.1f} s end to end "
              f"(training {result.seconds:.1f} s); policy {policy}, max|Q-Q*| {error:.2f}")
        print(f"ratio published (extrapolated) / package (measured full run): "
              f"{published * FULL_STEPS / full:.1f}x")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
