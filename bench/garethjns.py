"""garethjns's REINFORCE and DQN on CartPole: the tf-keras reference loop and the numba fast path side by
side in one run (same seed, same episodes: per-step times and their ratio), then the fast path at the
published budgets (REINFORCE 1,000 episodes, DQN 500). Writes bench/results/garethjns.txt.

    flock /tmp/bench.lock python bench/garethjns.py
"""

import time
from pathlib import Path

import reproduce  # noqa: F401  (compat: tf-keras, graph mode)
from reproduce.originals import garethjns_dqn as dqn
from reproduce.originals import garethjns_reinforce as rf

SEED = 0


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main():
    lines = []
    rf.FastReinforce(SEED).train(2)  # numba compile (cached) outside the timings
    dqn.FastDQN(SEED).train(2)
    for name, ref_fn, fast_fn, full_fn, budget in (
        ("REINFORCE", lambda: rf.train_reference(SEED, 20), lambda: rf.FastReinforce(SEED).train(20),
         lambda: rf.FastReinforce(SEED).train(1000), "1,000 episodes (<= 20 s)"),
        ("DQN", lambda: dqn.train_reference(SEED, 15), lambda: dqn.FastDQN(SEED).train(15),
         lambda: dqn.FastDQN(SEED).train(500), "500 episodes (<= 60 s)"),
    ):
        ref, t_ref = timed(ref_fn)
        fast, t_fast = timed(fast_fn)
        steps = int(ref.returns.sum())
        assert (ref.actions == fast.actions).all()
        full, t_full = timed(full_fn)
        lines += [
            f"{name}: reference loop (tf-keras predict/train_on_batch) {len(ref.returns)} episodes, "
            f"{steps} steps: "
            f"{t_ref:.2f} s ({1e3 * t_ref / steps:.3f} ms/step); fast path, same episodes and actions: "
            f"{t_fast:.3f} s ({1e3 * t_fast / steps:.4f} ms/step); speed-up x{t_ref / t_fast:.0f}",
            f"{name}: fast path at the published budget, {budget}: {t_full:.2f} s, "
            f"{int(full.returns.sum())} steps, mean of the last 50 episodes {full.returns[-50:].mean():.1f}",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).parent / "results" / "garethjns.txt"
    out.write_text(text)


if __name__ == "__main__":
    main()
