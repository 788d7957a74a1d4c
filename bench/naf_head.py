"""Why NAF's fast path keeps keras-rl's ``tf.scan``: a vectorized L is faster but not bit-identical.

keras-rl2's ``NAFLayer`` (mode ``full``) builds each batch row's lower-triangular L with ``tf.scan``,
a graph while-loop over the batch; its forward and backward passes are most of NAF's per-step time
inside TensorFlow (``bench/results/stock_agent_speed.txt``). The same arithmetic over the whole batch
at once (``exp`` of all rows, the masks, one ``gather``) replaces the loop. This script builds both
heads in one graph on the same inputs, compares A = -0.5 (a - mu)^T L L^T (a - mu) and the gradients
bit for bit over random batches, and times one session run of each.

The result decides the fast path: Eigen evaluates ``exp`` with packet (SIMD) code on a whole batch and
with scalar code on a 2-element row, and the two differ in the last bits, so the vectorized head is
not bit-identical and NAF keeps the scan.

    python bench/naf_head.py [--actions 1] [--trials 300]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import reproduce  # noqa: E402,F401  (compat fixes before TensorFlow)

BATCH = 32


def build_heads(n: int):
    """Placeholders and, for the scan and the vectorized head, (A, dA/dW, dA/dmu)."""
    import numpy as np
    import tensorflow as tf
    from tensorflow.keras import backend as K  # noqa: N812

    elems = (n * n + n) // 2
    diagonal = np.cumsum([0] + list(range(2, n + 1)))  # keras-rl's diag_indeces
    diag = np.zeros(1 + elems)
    diag[diagonal + 1] = 1
    tril = np.zeros((n, n), dtype="int32")
    tril[np.tril_indices(n)] = range(1, elems + 1)
    x = tf.compat.v1.placeholder(tf.float32, (None, elems))
    mu = tf.compat.v1.placeholder(tf.float32, (None, n))
    a = tf.compat.v1.placeholder(tf.float32, (None, n))
    w = tf.Variable(np.full((elems, elems), 0.3, np.float32) + np.eye(elems, dtype=np.float32))

    def head(vectorized: bool):
        diag_mask = K.variable(diag)
        flat = tf.matmul(x, w)
        flat = tf.concat([tf.expand_dims(tf.tile(K.zeros((1,)), [tf.shape(flat)[0]]), 1), flat], 1)
        if vectorized:
            e = (K.exp(flat) + K.epsilon()) * diag_mask + flat * (1.0 - diag_mask)
            lower = tf.gather(e, tril, axis=1)
            upper = tf.transpose(lower, [0, 2, 1])
        else:  # keras-rl2 1.0.5's NAFLayer.call, mode 'full'
            def fn(_, row):
                e = K.exp(row) + K.epsilon()
                e *= diag_mask
                e += row * (1.0 - diag_mask)
                lower_ = tf.gather(e, tril)
                return [lower_, tf.transpose(lower_)]

            lower, upper = tf.scan(fn, flat, initializer=[K.zeros((n, n)), K.zeros((n, n))])
        p = K.batch_dot(lower, upper)
        prod = K.batch_dot(K.batch_dot(K.expand_dims(a - mu, 1), p), K.expand_dims(a - mu, -1))
        out = -0.5 * K.batch_flatten(prod)
        loss = tf.reduce_sum(out * tf.range(1.0, BATCH + 1.0)[:, None] / 7.0)
        return [out, *tf.gradients(loss, [w, mu])]

    return (x, mu, a), head(False), head(True)


def main(argv=None) -> int:
    import numpy as np
    import tensorflow as tf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=1, help="action dimensions (Pendulum: 1)")
    parser.add_argument("--trials", type=int, default=300, help="random batches compared")
    args = parser.parse_args(argv)
    if args.actions < 1 or args.trials < 1:
        parser.error(f"--actions and --trials must be >= 1, got {args.actions} and {args.trials}")
    (x, mu, a), scan, vectorized = build_heads(args.actions)
    session = tf.compat.v1.keras.backend.get_session()
    session.run(tf.compat.v1.global_variables_initializer())
    rng = np.random.default_rng(0)
    elems = (args.actions ** 2 + args.actions) // 2
    differing, largest = 0, 0.0
    for _ in range(args.trials):
        feed = {x: (rng.normal(size=(BATCH, elems)) * rng.uniform(0.01, 5)).astype(np.float32),
                mu: rng.normal(size=(BATCH, args.actions)).astype(np.float32),
                a: rng.normal(size=(BATCH, args.actions)).astype(np.float32)}
        one, two = session.run(scan, feed), session.run(vectorized, feed)
        gaps = [float(np.max(np.abs(p - q) / np.maximum(np.abs(p), 1e-30))) for p, q in zip(one, two)]
        differing += any(g > 0 for g in gaps)
        largest = max(largest, *gaps)
    times = {}
    for name, fetches in (("scan (keras-rl)", scan), ("vectorized", vectorized)):
        start = time.perf_counter()
        for _ in range(300):
            session.run(fetches, feed)
        times[name] = (time.perf_counter() - start) / 300 * 1e3
    print(f"NAF head, {args.actions} action(s), batch {BATCH}, load {os.getloadavg()[0]:.1f}: "
          + ", ".join(f"{k} {v:.3f} ms per run (forward and gradients)" for k, v in times.items()))
    print(f"bit-identical in {args.trials - differing} of {args.trials} random batches; largest relative "
          f"difference {largest:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
