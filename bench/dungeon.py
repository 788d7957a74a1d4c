"""Valohai's dungeon: the published agents' loop against the compiled one, side by side in one process.

Times, for each agent, ``train.py``'s loop with the published class (:func:`run_reference`: the
tf-keras DeepGambler with ``predict_on_batch``/``train_on_batch`` per step) and the numba version
(:func:`run_fast`: the same draws, actions and rewards) on the same stream, and checks they agree.
The fast time is the whole call (the draws included) after one warm-up call (numba's cache load).

    python bench/dungeon.py [--iterations 10000] [--seed 0]

Target (issue 22): 10,000 deep-Q iterations <= 2 s, against the reference loop.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import reproduce  # noqa: F401  (compat first)
from reproduce.originals import dungeon


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args()
    print(f"{opts.iterations} iterations, seed {opts.seed}, load average {os.getloadavg()}")
    for agent in dungeon.AGENTS:
        dungeon.run_fast(agent, 10, opts.seed)  # numba cache load / compile, not timed
        ref, ref_s = timed(dungeon.run_reference, agent, opts.iterations, opts.seed)
        fast, fast_s = timed(dungeon.run_fast, agent, opts.iterations, opts.seed)
        same = bool((ref.actions == fast.actions).all() and (ref.rewards == fast.rewards).all())
        if agent == "deepgambler":
            detail = (
                "weights max |diff| "
                + f"{max(float(np.abs(a - b).max()) for a, b in zip(ref.weights, fast.weights)):.2e}"
            )
        elif ref.q is not None:
            detail = f"tables equal: {bool((ref.q == fast.q).all())}"
        else:
            detail = ""
        print(
            f"{agent:<12} reference {ref_s:9.3f} s   fast {fast_s:8.4f} s   ratio {ref_s / fast_s:9.1f}x   "
            f"same actions and rewards: {same}   {detail}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
