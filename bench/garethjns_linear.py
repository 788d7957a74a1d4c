"""garethjns's linear Q (CartPole 19c5fc2, MountainCar 7264d6b) and MountainCar DQN (3888e91): each reference
loop (scikit-learn, tf-keras) and its numba fast path side by side on the same seed and episodes (process
time per step and the ratio; the actions are checked identical), then the fast path at the published
budget of one repetition (its per-step time gives the steady-state speed-up: the short run's is mostly
setup). Writes bench/results/garethjns_linear.txt.

    flock /tmp/bench.lock taskset -c 0 python bench/garethjns_linear.py
"""

import time
from pathlib import Path

import numpy as np

import reproduce  # noqa: F401  (compat: tf-keras, graph mode)
from reproduce.originals import garethjns_linear as lin
from reproduce.originals import garethjns_mountaincar as mc

SEED = 0


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main():
    # compile (numba cache) and import scikit-learn / TensorFlow outside the timings
    lin.FastLinearQ(SEED, "cartpole").train(1)
    lin.FastLinearQ(SEED, "mountaincar", max_steps=10).train(1)
    mc.FastMountainCarDQN(SEED, max_steps=300).train(1)
    lin.train_reference(SEED, 1, "cartpole")
    mc.train_reference(SEED, 1, max_steps=10)
    lines = []
    cp, mcar = "cartpole", "mountaincar"
    cases = (
        ("linear Q, CartPole", "scikit-learn pipeline/partial_fit",
         lambda: lin.train_reference(SEED, 30, cp), lambda: lin.FastLinearQ(SEED, cp).train(30),
         lambda: lin.FastLinearQ(SEED, cp).train(1000), "1,000 episodes"),
        ("linear Q, MountainCar", "scikit-learn pipeline/partial_fit",
         lambda: lin.train_reference(SEED, 2, mcar), lambda: lin.FastLinearQ(SEED, mcar).train(2),
         lambda: lin.FastLinearQ(SEED, mcar).train(500), "500 episodes"),
        ("DQN, MountainCar", "tf-keras predict/train_on_batch",
         lambda: mc.train_reference(SEED, 2), lambda: mc.FastMountainCarDQN(SEED).train(2),
         lambda: mc.FastMountainCarDQN(SEED).train(500), "500 episodes"),
    )
    for name, how, ref_fn, fast_fn, full_fn, budget in cases:
        ref, cpu_ref, wall_ref = timed(ref_fn)
        fast, cpu_fast, wall_fast = timed(fast_fn)
        steps = len(ref.actions)
        assert np.array_equal(ref.actions, fast.actions) and np.array_equal(ref.returns, fast.returns)
        full, cpu_full, wall_full = timed(full_fn)
        per_step = cpu_full / len(full.actions)
        lines += [
            f"{name}: reference loop ({how}) {len(ref.returns)} episodes, {steps} steps: "
            f"{cpu_ref:.2f} process-s ({1e3 * cpu_ref / steps:.3f} ms/step; wall {wall_ref:.2f} s); "
            f"fast path, the same actions: {cpu_fast:.3f} process-s ({1e3 * cpu_fast / steps:.4f} ms/step); "
            f"speed-up x{cpu_ref / cpu_fast:.0f}",
            f"{name}: fast path at the published budget of one repetition, {budget}: "
            f"{cpu_full:.2f} process-s (wall {wall_full:.2f} s), {len(full.actions)} steps, "
            f"mean of the last 50 episodes {full.returns[-50:].mean():.1f}; per step (its setup included) "
            f"{1e3 * per_step:.4f} ms, x{cpu_ref / steps / per_step:.0f} the reference loop's",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).parent / "results" / "garethjns_linear.txt"
    out.write_text(text)


if __name__ == "__main__":
    main()
