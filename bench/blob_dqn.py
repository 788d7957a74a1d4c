"""sentdex part 6's image DQN: the tf-keras loop against the numpy/numba agent per training step, one process.

Runs :func:`train_reference` (tf-keras ``predict``/``predict``/``fit`` per training step, graph mode as
this process runs) and :class:`FastBlobDQN` on the same seed and the same number of env steps, training
from the ``--min-replay``-th step on (the tutorial: 1,000; lower here so that most steps train; a
training step costs the same either way). Each ``train`` call is timed (wall and process time, this
process's threads included); the per-step figures are means over the calls after the first
``--warm-up`` (the reference's first ``predict``/``fit`` build their graphs). Both loops run with
``--threads`` TensorFlow and BLAS threads (1: as ``reproduce all`` runs each process).

Also measured, to say what bounds the ratio:

- **one TensorFlow call per step**: the reference's own step (both predictions, the targets, the
  gradient and Adam on the reference's models and kernels) as one session callable, on a fixed batch:
  the reference without any Keras per-call overhead;
- **one conv2 product**: ``(256 x 2304) @ (2304 x 256)`` in float32, the size of each of the second
  convolution's three training passes (forward with dropout, input and kernel gradients): the fast
  path's dense floor is three of them.

And the two runs' weights: the largest difference after each of the training steps in :data:`TRACE`
and any ``--trace`` steps (same actions and rewards throughout is checked too); the first of them
above 1e-5 is described (how many elements, in how many output channels).

    python bench/blob_dqn.py [--steps 250] [--min-replay 100] [--seed 0] [--threads 1] [--trace 41 42]

Target (issue 22): the fast path >= 10x faster per training step than the reference loop.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import reproduce  # noqa: F401
from reproduce.originals import blob_dqn as bd

TRACE = (1, 2, 5, *range(10, 200, 10), *range(200, 10**6, 100))


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def timed_train(train, times, steps, traced, trace, weights):
    """``train`` timed per call that trains (``steps()`` grows); after the timing, the weights at the
    training steps in ``traced`` go into ``trace``."""

    def wrapper(*args):
        before = steps()
        wall, cpu = clocks()
        out = train(*args)
        end_wall, end_cpu = clocks()
        if steps() > before:
            times.append((end_wall - wall, end_cpu - cpu))
            if steps() in traced and steps() not in trace:
                trace[steps()] = [np.array(w, copy=True) for w in weights()]
        return out

    return wrapper


def per_step(times, warm_up: int) -> tuple[float, float]:
    steady = np.array(times[warm_up:])
    return 1e3 * steady[:, 0].mean(), 1e3 * steady[:, 1].mean()


def one_call_step(seed: int, settings: bd.Settings, calls: int) -> tuple[float, float]:
    """ms (wall, process) per call of the reference's training step as one TensorFlow session callable."""
    import tensorflow as tf

    v1 = tf.compat.v1
    agent = bd.DQNAgent(seed, settings)
    b = settings.minibatch
    states = v1.placeholder(tf.uint8, (b, bd.SIZE, bd.SIZE, 3))
    new_states = v1.placeholder(tf.uint8, (b, bd.SIZE, bd.SIZE, 3))
    actions, rewards = v1.placeholder(tf.int64, (b,)), v1.placeholder(tf.float64, (b,))
    dones = v1.placeholder(tf.bool, (b,))
    masks = v1.placeholder(tf.float32, (b, 4, 4, 256)), v1.placeholder(tf.float32, (b, 1, 1, 256))

    def forward(model, images, fed=None):
        x = tf.cast(tf.cast(images, tf.float64) / 255.0, tf.float32)
        dropouts = iter(fed or ())
        for layer in model.layers:
            if isinstance(layer, type(model.layers[3])):
                x = x * (1.0 / (1.0 - layer.rate)) * next(dropouts) if fed else tf.identity(x)
            else:
                x = layer(x)
        return x

    current = forward(agent.model, states)
    best = tf.cast(tf.reduce_max(forward(agent.target_model, new_states), axis=1), tf.float64)
    new_q = tf.cast(tf.where(dones, rewards, rewards + settings.discount * best), tf.float32)
    index = tf.stack([tf.range(b, dtype=tf.int64), actions], axis=1)
    targets = tf.stop_gradient(tf.tensor_scatter_nd_update(current, index, new_q))
    with tf.control_dependencies([targets]):
        loss = tf.keras.losses.MeanSquaredError()(targets, forward(agent.model, states, masks))
    optimizer = agent.model.optimizer
    train = tf.group(*optimizer.get_updates(loss, agent.model.trainable_weights))
    session = v1.keras.backend.get_session()
    session.run(v1.variables_initializer(optimizer.variables()))
    call = session.make_callable(train, [states, new_states, actions, rewards, dones, *masks])
    env = bd.make_env(seed)
    env.reset(seed=seed)
    images = np.array([env.reset()[0] for _ in range(2 * b)])
    feed = (images[:b], images[b:], np.arange(b) % bd.ACTIONS, -np.ones(b), np.zeros(b, bool))
    rng = bd.mask_rng(seed)
    for _ in range(3):
        call(*feed, *bd.draw_masks(rng, b, settings.dropout))
    times = []
    for _ in range(calls):
        drawn = bd.draw_masks(rng, b, settings.dropout)
        wall, cpu = clocks()
        call(*feed, *drawn)
        end_wall, end_cpu = clocks()
        times.append((end_wall - wall, end_cpu - cpu))
    return per_step(times, 0)


def conv2_product(calls: int) -> tuple[float, float]:
    """ms (wall, process) of one float32 (256 x 2304) @ (2304 x 256) product."""
    rng = np.random.default_rng(0)
    a = rng.random((256, 2304), np.float32)
    w = rng.random((2304, 256), np.float32)
    a @ w
    times = []
    for _ in range(calls):
        wall, cpu = clocks()
        a @ w
        end_wall, end_cpu = clocks()
        times.append((end_wall - wall, end_cpu - cpu))
    return per_step(times, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--min-replay", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow and BLAS threads (0: defaults)")
    parser.add_argument("--trace", type=int, nargs="*", default=[], help="more training steps to compare at")
    parser.add_argument("--warm-up", type=int, default=10, help="training steps left out of the means")
    opts = parser.parse_args()
    settings = bd.Settings(min_replay=opts.min_replay)
    if opts.threads:
        import tensorflow as tf
        from threadpoolctl import threadpool_limits

        tf.config.threading.set_intra_op_parallelism_threads(opts.threads)
        tf.config.threading.set_inter_op_parallelism_threads(opts.threads)
        threadpool_limits(opts.threads, user_api="blas")
    print(
        f"{opts.steps} env steps, training from step {opts.min_replay}, seed {opts.seed}, "
        f"{opts.threads or 'default'} TensorFlow/BLAS threads, load average {os.getloadavg()}"
    )
    warm = bd.FastBlobDQN(opts.seed, settings)
    warm.run(100, max_steps=opts.min_replay + 2)  # numba cache load and BLAS warm-up, not timed

    traced = set(TRACE) | set(opts.trace)
    ref_times, ref_weights = [], {}
    original = bd.DQNAgent.train
    bd.DQNAgent.train = lambda self, *args: timed_train(
        lambda *a: original(self, *a), ref_times, lambda: self.train_steps, traced, ref_weights, self.weights
    )(*args)
    try:
        agent, log = bd.train_reference(opts.seed, 10**6, settings, max_steps=opts.steps)
    finally:
        bd.DQNAgent.train = original

    fast = bd.FastBlobDQN(opts.seed, settings)
    fast_times, fast_weights = [], {}
    steps, weights = (lambda: fast.log.train_steps), (lambda: fast.net.w)
    fast.train = timed_train(fast.train, fast_times, steps, traced, fast_weights, weights)
    flog = fast.run(10**6, max_steps=opts.steps)

    same = flog.actions == log.actions and flog.rewards == log.rewards
    n = log.train_steps
    ref_ms, ref_cpu = per_step(ref_times, opts.warm_up)
    fast_ms, fast_cpu = per_step(fast_times, opts.warm_up)
    one_ms, one_cpu = one_call_step(opts.seed, settings, 30)
    gemm_ms, gemm_cpu = conv2_product(30)
    row = "  {:<50} {:7.1f} ms wall {:7.1f} ms CPU"
    print(f"per training step (mean of steps {opts.warm_up + 1}-{n}), wall and process time:")
    print(row.format("reference (tf-keras predict, predict, fit)", ref_ms, ref_cpu))
    print(row.format("fast (numpy + numba)", fast_ms, fast_cpu))
    print(f"  ratio reference / fast: {ref_ms / fast_ms:.1f}x wall, {ref_cpu / fast_cpu:.1f}x CPU")
    print("what bounds it:")
    print(row.format("the reference's step as one TensorFlow call", one_ms, one_cpu))
    print(f"    ({ref_cpu / one_cpu:.2f}x under the reference's CPU: all of Keras's per-call overhead)")
    print(row.format("one conv2 product (256x2304)@(2304x256) float32", gemm_ms, gemm_cpu))
    print(
        f"    (3 per training step: {3 * gemm_cpu:.1f} ms CPU; 10x needs the whole step in "
        f"{ref_cpu / 10:.1f} ms CPU)"
    )
    print(
        f"whole loops ({opts.steps} env steps, {n} training steps): reference {log.seconds:.2f} s, "
        f"fast {flog.seconds:.2f} s wall"
    )
    print(f"same actions and rewards: {same}; max |weight difference| after training step:")
    first = None
    for step in sorted(set(ref_weights) & set(fast_weights)):
        diffs = [np.abs(a - b) for a, b in zip(ref_weights[step], fast_weights[step])]
        print(f"  {step:4d}: {max(float(d.max()) for d in diffs):.2e}")
        if first is None and max(float(d.max()) for d in diffs) > 1e-5:
            first = step, diffs
    final = max(float(np.abs(a - b).max()) for a, b in zip(agent.weights(), fast.net.w))
    print(f"  {n:4d}: {final:.2e} (end)")
    if first is not None:
        step, diffs = first
        above = {name: int((d > 1e-5).sum()) for name, d in zip(bd.WEIGHT_NAMES, diffs) if (d > 1e-5).any()}
        channels = {name: len(set(np.argwhere(d > 1e-5)[:, -1])) for name, d in zip(bd.WEIGHT_NAMES, diffs)}
        print(
            f"first traced step above 1e-5: {step}; elements above 1e-5 per weight: {above}, "
            f"in {', '.join(f'{channels[name]} output channel(s) of {name}' for name in above)}"
        )
    for steps in (500_000, 1_500_000):
        print(
            f"  {steps:,} training steps (the full 20,000 episodes are between these): fast "
            f"{fast_ms * steps / 3.6e6:.1f} h, reference {ref_ms * steps / 3.6e6:.1f} h"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
