"""Benchmark: keras-rl's own agents with the compat fast path against without it, and bit-identity.

Two of keras-rl's examples, as published, on gymnasium's CartPole-v1 (through the adapter), and
the DQN one with a hard target copy every step (``dqn-hard``, the Dot-mask task's setting):
``dqn_cartpole.py`` (DQNAgent: Flatten, 3x Dense(16) + relu, Dense(2) + linear, Boltzmann,
SequentialMemory 50,000, warm-up 10, soft target 1e-2, Adam 1e-3, ``metrics=['mae']``) and
``sarsa_cartpole.py`` (SARSAAgent, same model, Boltzmann, warm-up 10, Adam 1e-3). Each agent runs
in two fresh subprocesses, side by side, same seeds, one with ``REPRODUCE_KERAS_RL_FAST=0``
(keras-rl's per-call path through Keras) and one with the fast path: an untimed ``fit`` of
``--warmup`` steps (builds Keras's functions), then a timed ``fit`` of ``--steps`` steps. Each
saves its weights (online and target), optimizer state and per-step log (action, reward,
metrics) plus episode rewards; the two runs are then compared bit for bit. ``--repeats`` pairs
run alternately (stock, fast, stock, fast, ...); the fastest run of each mode is the figure
(timing noise on a shared machine only ever adds time), the median is printed beside it. Prints
ms per step, the ratio, and whether every run gave identical results.

    nice -n 5 python bench/stock_agent_speed.py [--steps 5000] [--repeats 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reproduce  # noqa: F401  (compat fixes before anything imports TensorFlow; does not import it)

AGENTS = ("dqn", "sarsa", "dqn-hard")  # dqn-hard: the DQN example with a hard target copy every step
LABELS = {"dqn": "DQNAgent (keras-rl's dqn_cartpole example)",
          "sarsa": "SARSAAgent (keras-rl's sarsa_cartpole example)",
          "dqn-hard": "DQNAgent, the example with target_model_update=1 (a hard copy every step)"}


def child(agent_name: str, warmup: int, steps: int, out: str) -> None:
    """One run (the mode comes from REPRODUCE_KERAS_RL_FAST); arrays to ``out``, seconds per step printed."""
    import random

    import gymnasium as gym
    import numpy as np
    import tensorflow as tf
    import threadpoolctl
    from rl.agents import DQNAgent, SARSAAgent
    from rl.memory import SequentialMemory
    from rl.policy import BoltzmannQPolicy
    from tensorflow.keras.layers import Activation, Dense, Flatten
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.optimizers import Adam

    from reproduce.adapters import KerasRLEnv

    threadpoolctl.threadpool_limits(1, user_api="blas")
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    tf.compat.v1.keras.backend.set_session(tf.compat.v1.Session(config=config))
    np.random.seed(123)
    random.seed(123)
    tf.compat.v1.set_random_seed(123)
    env = KerasRLEnv(gym.make("CartPole-v1"), seed=123)
    nb_actions = env.action_space.n
    model = Sequential()
    model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
    for _ in range(3):
        model.add(Dense(16))
        model.add(Activation("relu"))
    model.add(Dense(nb_actions))
    model.add(Activation("linear"))
    if agent_name.startswith("dqn"):
        memory = SequentialMemory(limit=50000, window_length=1)
        agent = DQNAgent(model=model, nb_actions=nb_actions, memory=memory, nb_steps_warmup=10,
                         target_model_update=1 if agent_name == "dqn-hard" else 1e-2,
                         policy=BoltzmannQPolicy())
    else:
        agent = SARSAAgent(model=model, nb_actions=nb_actions, nb_steps_warmup=10, policy=BoltzmannQPolicy())
    agent.compile(Adam(learning_rate=1e-3), metrics=["mae"])

    class StepLog(tf.keras.callbacks.Callback):
        rows: list = []

        def on_step_end(self, step, logs=None):
            self.rows.append([logs["action"], logs["reward"], *logs["metrics"]])

    agent.fit(env, nb_steps=warmup, verbose=0, callbacks=[StepLog()])
    start = time.perf_counter()
    history = agent.fit(env, nb_steps=steps, verbose=0, callbacks=[StepLog()])
    seconds = time.perf_counter() - start
    optimizer = agent.trainable_model.optimizer
    optimizer = getattr(optimizer, "optimizer", optimizer)  # inside keras-rl's AdditionalUpdatesOptimizer
    models = [agent.model] + ([agent.target_model] if agent_name.startswith("dqn") else [])
    arrays = {f"weights_{i}": w for i, w in enumerate(sum((m.get_weights() for m in models), []))}
    arrays.update({f"optimizer_{i}": w for i, w in enumerate(optimizer.get_weights())})
    arrays["step_log"] = np.array(StepLog.rows, dtype=np.float64)
    arrays["episode_rewards"] = np.array(history.history["episode_reward"], dtype=np.float64)
    np.savez(out, **arrays)
    print(seconds / steps)


def run(agent_name: str, fast: bool, warmup: int, steps: int, out: Path) -> float:
    env = dict(os.environ, REPRODUCE_KERAS_RL_FAST="1" if fast else "0", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, __file__, "--child", agent_name, "--warmup", str(warmup),
                             "--steps", str(steps), "--arrays", str(out)],
                            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise SystemExit(f"{agent_name} run (fast={fast}) failed:\n{result.stderr[-3000:]}")
    return float(result.stdout.split()[-1])


def identical(a: Path, b: Path) -> tuple[bool, int]:
    import numpy as np

    first, second = np.load(a), np.load(b)
    same = sorted(first.files) == sorted(second.files) and all(
        first[k].dtype == second[k].dtype and np.array_equal(first[k], second[k], equal_nan=True)
        for k in first.files)
    return same, len(first.files)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=200, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode, alternating")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument("--child", choices=AGENTS, help=argparse.SUPPRESS)
    parser.add_argument("--arrays", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.warmup, args.steps, args.arrays)
        return 0
    lines = [f"$ {' '.join(['python', *sys.argv])}",
             f"ms per env step over {args.steps} CartPole-v1 steps after {args.warmup} untimed ones, "
             f"each run in its own process; load average before {os.getloadavg()} on {os.cpu_count()} CPUs"]
    print(lines[0], lines[1], sep="\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in AGENTS:
            times, paths = {False: [], True: []}, []
            for repeat in range(args.repeats):
                for fast in (False, True):
                    paths.append(Path(tmp, f"{name}_{repeat}_{'fast' if fast else 'stock'}.npz"))
                    times[fast].append(run(name, fast, args.warmup, args.steps, paths[-1]))
            checks = [identical(paths[0], other) for other in paths[1:]]
            same, n = all(c[0] for c in checks), checks[0][1]
            stock, fast = min(times[False]), min(times[True])
            medians = [statistics.median(times[mode]) * 1e3 for mode in (False, True)]
            line = (f"{LABELS[name]}: stock {stock * 1e3:.3f} ms, "
                    f"fast path {fast * 1e3:.3f} ms, {stock / fast:.1f}x (fastest of {args.repeats}; medians "
                    f"{medians[0]:.3f} vs {medians[1]:.3f} ms);"
                    f" weights, optimizer state and logs ({n} arrays) of all {len(paths)} runs "
                    f"{'bit-identical' if same else 'NOT identical'}")
            lines.append(line)
            print(line, flush=True)
    lines.append(f"load average after {os.getloadavg()}")
    print(lines[-1])
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
