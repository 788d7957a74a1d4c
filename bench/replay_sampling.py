"""Benchmark: keras-rl's ``SequentialMemory.sample`` against the mirror (:mod:`reproduce.fast_replay`).

Part 1, the sample alone: ms per ``memory.sample(batch)`` with keras-rl's own code (deque reads)
and through the mirror, on full memories of 1,000, 10,000 and 50,000 entries (CartPole-like
float32 observations of 4 values, episodes of 10 to 200 entries), batches of 32 (keras-rl's
CartPole example) and 64. The two alternate in ``--rounds`` rounds of ``--calls`` calls, each
round from the same random state (so both draw the same batches, which are checked equal); the
fastest round of each is the figure (noise on a shared machine only adds time), the median beside;
process time (this single-threaded loop's CPU time: other jobs on the machine inflate wall time).

Part 2, training: keras-rl's ``dqn_cartpole.py`` example (Flatten, 3x Dense(16) + relu, Dense(2),
Boltzmann, ``SequentialMemory(limit=50000)``, warm-up 10, soft target 1e-2, Adam 1e-3,
``metrics=['mae']``) on CartPole-v1 for ``--steps`` steps, the compat fast path's session calls on
in both, the mirror off and on, each in a fresh single-threaded subprocess, alternately
(``--repeats`` pairs). Prints ms per step over the fit after its first 500 steps (which build
Keras's functions), wall and process time, and wall per quarter of those (the memory grows, and
keras-rl's deque reads with it), and whether the final weights, optimizer state and per-step log
(action, reward, metrics) of every run are bit-identical.

    flock /tmp/bench.lock nice -n 5 python bench/replay_sampling.py [--steps 20000] [--repeats 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import single_thread_session  # bench/timing.py (the script's own directory is on sys.path)

import reproduce  # noqa: F401  (compat fixes before anything imports TensorFlow; does not import it)

SIZES = (1_000, 10_000, 50_000)
BATCHES = (32, 64)
FAST_ENV = "REPRODUCE_KERAS_RL_FAST"
UNTIMED = 500  # fit's first steps build Keras's functions: not timed


def full_memory(entries: int):
    import numpy as np
    from rl.memory import SequentialMemory

    rng = np.random.default_rng(0)
    memory = SequentialMemory(limit=entries, window_length=1)
    left = 0
    for _ in range(entries + 100):  # full, and wrapped
        left = left - 1 if left > 0 else int(rng.integers(10, 200))
        memory.append(rng.normal(size=4).astype(np.float32), int(rng.integers(2)), 1.0, left == 0)
    return memory


def time_sample(memory, batch: int, calls: int, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds per call, one figure per round: (keras-rl's sample, the mirror's)."""
    import numpy as np

    times = {"0": [], "1": []}
    for r in range(rounds):
        batches = {}
        for mode in ("0", "1"):
            os.environ[FAST_ENV] = mode
            random.seed(r)
            memory.sample(batch)  # untimed: the mirror's first call copies the memory
            random.seed(r)
            start = time.process_time()
            for _ in range(calls):
                last = memory.sample(batch)
            times[mode].append((time.process_time() - start) / calls)
            batches[mode] = last
        for a, b in zip(batches["0"], batches["1"]):
            assert a.action is b.action and np.array_equal(a.state0, b.state0), "batches differ"
    os.environ.pop(FAST_ENV)
    return times["0"], times["1"]


def child(mirror: bool, steps: int, out: str) -> None:
    """One fit of keras-rl's CartPole DQN example; prints seconds per step (whole, per quarter)."""
    import gymnasium as gym
    import numpy as np
    import tensorflow as tf
    from rl.agents import DQNAgent
    from rl.memory import SequentialMemory
    from rl.policy import BoltzmannQPolicy
    from tensorflow.keras.layers import Activation, Dense, Flatten
    from tensorflow.keras.models import Sequential

    from reproduce import fast_replay
    from reproduce.adapters import KerasRLEnv

    fast_replay.fast_path_enabled = lambda: mirror  # the session fast path stays on in both
    single_thread_session(123)
    env = KerasRLEnv(gym.make("CartPole-v1"), seed=123)
    model = Sequential([Flatten(input_shape=(1,) + env.observation_space.shape)])
    for _ in range(3):
        model.add(Dense(16))
        model.add(Activation("relu"))
    model.add(Dense(env.action_space.n))
    model.add(Activation("linear"))
    memory = SequentialMemory(limit=50000, window_length=1)
    agent = DQNAgent(model=model, nb_actions=env.action_space.n, memory=memory, nb_steps_warmup=10,
                     target_model_update=1e-2, policy=BoltzmannQPolicy())
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    marks, rows = {}, []

    class StepLog(tf.keras.callbacks.Callback):
        def on_step_end(self, step, logs=None):
            rows.append(np.concatenate([np.ravel(logs["action"]), [logs["reward"]],
                                        np.ravel(logs["metrics"])]).astype(np.float64))
            if len(rows) in bounds:
                marks[len(rows)] = (time.perf_counter(), time.process_time())

    bounds = [UNTIMED + (steps - UNTIMED) * q // 4 for q in range(5)]  # quarters of the timed steps
    history = agent.fit(env, nb_steps=steps, verbose=0, callbacks=[StepLog()])
    assert (fast_replay.MIRROR_ATTR in agent.memory.__dict__) == mirror
    weights = model.get_weights() + agent.target_model.get_weights()
    weights += agent.trainable_model.optimizer.optimizer.get_weights()
    arrays = {f"w{i}": w for i, w in enumerate(weights)}
    arrays["step_log"] = np.array(rows)
    arrays["episode_rewards"] = np.array(history.history["episode_reward"], dtype=np.float64)
    np.savez(out, **arrays)
    wall, cpu = np.array([marks[b] for b in bounds]).T
    timed = steps - UNTIMED
    print((wall[-1] - wall[0]) / timed, (cpu[-1] - cpu[0]) / timed, *(np.diff(wall) / np.diff(bounds)))


def run_fit(mirror: bool, steps: int, out: Path) -> list[float]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop(FAST_ENV, None)
    command = [sys.executable, __file__, "--child", "on" if mirror else "off", "--steps", str(steps),
               "--npz", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return [float(x) for x in result.stdout.split()[-6:]]


def same_arrays(paths: list[Path]) -> tuple[bool, int]:
    import numpy as np

    loaded = [np.load(p) for p in paths]
    first = loaded[0]
    same = all(sorted(other.files) == sorted(first.files) and all(
        other[k].dtype == first[k].dtype and other[k].tobytes() == first[k].tobytes() for k in first.files)
        for other in loaded[1:])
    return same, len(first.files)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="also append the printed lines to this file")
    parser.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--npz", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < UNTIMED + 4:
        parser.error(f"--steps must be at least {UNTIMED + 4} (the first {UNTIMED} are not timed), "
                     f"got {args.steps}")
    if args.child:
        child(args.child == "on", args.steps, args.npz)
        return 0
    lines = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"load average before {os.getloadavg()} on {os.cpu_count()} CPUs")
    import rl.agents  # noqa: F401  (installs the fast path, and with it the mirror)

    say(f"ms (process time) per memory.sample(batch), fastest of {args.rounds} rounds of {args.calls} calls "
        f"(median):")
    for size in SIZES:
        memory = full_memory(size)
        for batch in BATCHES:
            stock, mirror = time_sample(memory, batch, args.calls, args.rounds)
            say(f"  {size:>6,} entries, batch {batch}: keras-rl {min(stock) * 1e3:.3f} ms "
                f"({statistics.median(stock) * 1e3:.3f}), mirror {min(mirror) * 1e3:.3f} ms "
                f"({statistics.median(mirror) * 1e3:.3f}), {min(stock) / min(mirror):.1f}x; same batches")
    say(f"keras-rl's dqn_cartpole example, SequentialMemory(limit=50000), {args.steps} steps, session fast "
        f"path on, mirror off/on alternately ({args.repeats} pairs), ms per step after {UNTIMED}:")
    results = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for r in range(args.repeats):
            for mirror in (False, True):
                path = Path(tmp) / f"{'on' if mirror else 'off'}{r}.npz"
                results[mirror].append(run_fit(mirror, args.steps, path))
                paths.append(path)
                wall, cpu, *quarters = results[mirror][-1]
                per_quarter = ", ".join(f"{q * 1e3:.3f}" for q in quarters)
                say(f"  mirror {'on ' if mirror else 'off'}: {wall * 1e3:.3f} ms wall, "
                    f"{cpu * 1e3:.3f} ms process (wall per quarter {per_quarter})")
        same, n = same_arrays(paths)
    off, on = min(x[0] for x in results[False]), min(x[0] for x in results[True])
    off_cpu, on_cpu = min(x[1] for x in results[False]), min(x[1] for x in results[True])
    say(f"  fastest wall: off {off * 1e3:.3f} ms, on {on * 1e3:.3f} ms per step, {off / on:.2f}x, "
        f"{(off - on) * 1e3:.3f} ms saved per step; process: off {off_cpu * 1e3:.3f}, "
        f"on {on_cpu * 1e3:.3f} ms, {off_cpu / on_cpu:.2f}x; weights, optimizer state and step log "
        f"({n} arrays) of all {2 * args.repeats} runs {'bit-identical' if same else 'DIFFERENT'}")
    say(f"load average after {os.getloadavg()}")
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n".join(lines) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
