"""Benchmark: keras-rl's own agents with the compat fast path against without it, and bit-identity.

keras-rl's examples, as published, on gymnasium's envs (through the adapter), each agent's
example agent built as the script builds it: ``dqn_cartpole.py`` (DQNAgent: Flatten, 3x Dense(16)
+ relu, Dense(2) + linear, Boltzmann, SequentialMemory 50,000, warm-up 10, soft target 1e-2, Adam
1e-3, ``metrics=['mae']``), the same with a hard target copy every step (``dqn-hard``, the
Dot-mask task's setting), ``sarsa_cartpole.py`` (SARSAAgent, same model, Boltzmann, warm-up 10,
Adam 1e-3), on CartPole-v1; ``ddpg_pendulum.py`` (DDPGAgent: actor 3x Dense(16), critic 3x
Dense(32), OU noise, warm-ups 100, soft targets 1e-3, Adam(1e-3, clipnorm 1)) and
``naf_pendulum.py`` (NAFAgent: V and mu 3x Dense(16), L 3x Dense(32), rewards / 100) on
Pendulum-v1; ``cem_cartpole.py`` (CEMAgent: linear softmax policy, batch 50, warm-up 2000, train
every 50 episodes, elite fraction 0.05) on CartPole-v1 (those three from
:mod:`reproduce.kerasrl.examples`). Each agent runs in two fresh subprocesses, side by side, same
seeds, one with ``REPRODUCE_KERAS_RL_FAST=0`` (keras-rl's per-call path through Keras) and one with
the fast path: an untimed ``fit`` of ``--warmup`` steps (builds Keras's functions), then a timed
``fit`` of ``--steps`` steps. Each saves every model's weights (online and target), optimizer
state (CEM: its parameter distribution and best parameters) and per-step log (action, reward,
metrics) plus episode rewards; the two runs are then compared bit for bit. ``--repeats`` pairs
run alternately (stock, fast, stock, fast, ...); the fastest run of each mode is the figure
(timing noise on a shared machine only ever adds time), the median is printed beside it, and the
fastest CPU time per step (the process's own: less disturbed by other jobs on a loaded machine)
and the fastest wall time per step spent inside TensorFlow's C++ session runs (the graph's own
work: a floor for any Python-side path). Prints ms per step, the ratios, and whether every run
gave identical results.

    nice -n 5 python bench/stock_agent_speed.py [--steps 5000] [--repeats 3] [--agents dqn ...] [--out FILE]
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

from timing import single_thread_session  # bench/timing.py (the script's own directory is on sys.path)

import reproduce  # noqa: F401  (compat fixes before anything imports TensorFlow; does not import it)

AGENTS = ("dqn", "sarsa", "dqn-hard", "ddpg", "naf", "cem")  # dqn-hard: a hard target copy every step
LABELS = {"dqn": "DQNAgent (keras-rl's dqn_cartpole example)",
          "sarsa": "SARSAAgent (keras-rl's sarsa_cartpole example)",
          "dqn-hard": "DQNAgent, the example with target_model_update=1 (a hard copy every step)",
          "ddpg": "DDPGAgent (keras-rl's ddpg_pendulum example, Pendulum-v1)",
          "naf": "NAFAgent (keras-rl's naf_pendulum example, Pendulum-v1)",
          "cem": "CEMAgent (keras-rl's cem_cartpole example)"}


def _cartpole_q_model(env):
    from tensorflow.keras.layers import Activation, Dense, Flatten
    from tensorflow.keras.models import Sequential

    model = Sequential()
    model.add(Flatten(input_shape=(1,) + env.observation_space.shape))
    for _ in range(3):
        model.add(Dense(16))
        model.add(Activation("relu"))
    model.add(Dense(env.action_space.n))
    model.add(Activation("linear"))
    return model


def build(agent_name: str, env):
    """The example's agent, compiled; with the models and optimizers whose state is compared."""
    from rl.agents import DQNAgent, SARSAAgent
    from rl.memory import SequentialMemory
    from rl.policy import BoltzmannQPolicy
    from tensorflow.keras.optimizers import Adam

    from reproduce.kerasrl import examples

    def inner(optimizer):  # inside keras-rl's AdditionalUpdatesOptimizer, if soft target updates
        return getattr(optimizer, "optimizer", optimizer)

    if agent_name in ("dqn", "dqn-hard", "sarsa"):
        model = _cartpole_q_model(env)
        if agent_name == "sarsa":
            agent = SARSAAgent(model=model, nb_actions=env.action_space.n, nb_steps_warmup=10,
                               policy=BoltzmannQPolicy())
        else:
            agent = DQNAgent(model=model, nb_actions=env.action_space.n, memory=SequentialMemory(
                limit=50000, window_length=1), nb_steps_warmup=10, policy=BoltzmannQPolicy(),
                target_model_update=1 if agent_name == "dqn-hard" else 1e-2)
        agent.compile(Adam(learning_rate=1e-3), metrics=["mae"])
        models = [agent.model] + ([agent.target_model] if agent_name != "sarsa" else [])
        return agent, models, [inner(agent.trainable_model.optimizer)]
    if agent_name == "ddpg":
        agent = examples.ddpg_pendulum(None, env)
        return (agent, [agent.actor, agent.critic, agent.target_actor, agent.target_critic],
                [inner(agent.critic.optimizer), agent.actor_optimizer])
    if agent_name == "naf":
        agent = examples.naf_pendulum(None, env, examples.PendulumProcessor())
        return agent, [agent.combined_model, agent.target_V_model], [inner(agent.combined_model.optimizer)]
    agent = examples.cem_cartpole(None, env)
    return agent, [agent.model], []


def _time_in_tensorflow() -> list:
    """From now on, sum the wall time spent inside TensorFlow's C++ session runs (the graph's own
    work, which no Python-side path can shorten) into the returned one-element list."""
    from tensorflow.python.client import session

    spent = [0.0]
    for name in ("TF_SessionRunCallable", "TF_SessionRun_wrapper"):
        real = getattr(session.tf_session, name)

        def timed(*args, _real=real):
            start = time.perf_counter()
            try:
                return _real(*args)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(session.tf_session, name, timed)
    return spent


def child(agent_name: str, warmup: int, steps: int, out: str) -> None:
    """One run (the mode comes from REPRODUCE_KERAS_RL_FAST); arrays to ``out``, seconds per step printed."""

    import gymnasium as gym
    import numpy as np
    import tensorflow as tf

    from reproduce.adapters import KerasRLEnv

    single_thread_session(123)
    env = KerasRLEnv(gym.make("Pendulum-v1" if agent_name in ("ddpg", "naf") else "CartPole-v1"), seed=123)
    agent, models, optimizers = build(agent_name, env)

    class StepLog(tf.keras.callbacks.Callback):
        rows: list = []

        def on_step_end(self, step, logs=None):
            self.rows.append(np.concatenate([np.ravel(logs["action"]), [logs["reward"]],
                                             np.ravel(logs["metrics"])]).astype(np.float64))

    agent.fit(env, nb_steps=warmup, verbose=0, callbacks=[StepLog()])
    in_tensorflow = _time_in_tensorflow()
    start, cpu_start = time.perf_counter(), time.process_time()
    history = agent.fit(env, nb_steps=steps, verbose=0, callbacks=[StepLog()])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    arrays = {f"weights_{i}": w for i, w in enumerate(sum((m.get_weights() for m in models), []))}
    arrays.update({f"optimizer_{i}": w for i, w in enumerate(sum((o.get_weights() for o in optimizers), []))})
    if agent_name == "cem":  # its "optimizer": the parameter distribution and the best parameters seen
        arrays.update(theta=agent.theta, best_seen=np.asarray(agent.best_seen[1]))
    arrays["step_log"] = np.array(StepLog.rows, dtype=np.float64)
    arrays["episode_rewards"] = np.array(history.history["episode_reward"], dtype=np.float64)
    np.savez(out, **arrays)
    print(seconds / steps, cpu / steps, in_tensorflow[0] / steps)


def run(agent_name: str, fast: bool, warmup: int, steps: int, out: Path) -> tuple[float, ...]:
    """Wall, CPU and in-TensorFlow seconds per step of one run in a fresh process."""
    env = dict(os.environ, REPRODUCE_KERAS_RL_FAST="1" if fast else "0", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, __file__, "--child", agent_name, "--warmup", str(warmup),
                             "--steps", str(steps), "--arrays", str(out)],
                            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise SystemExit(f"{agent_name} run (fast={fast}) failed:\n{result.stderr[-3000:]}")
    return tuple(float(v) for v in result.stdout.split()[-3:])


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
    parser.add_argument("--agents", nargs="+", choices=AGENTS, default=list(AGENTS), help="which agents")
    parser.add_argument("--child", choices=AGENTS, help=argparse.SUPPRESS)
    parser.add_argument("--arrays", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.warmup, args.steps, args.arrays)
        return 0
    lines = [f"$ {' '.join(['python', *sys.argv])}",
             f"ms per env step over {args.steps} steps (CartPole-v1; DDPG, NAF: Pendulum-v1) after "
             f"{args.warmup} untimed ones, "
             f"each run in its own process; load average before {os.getloadavg()} on {os.cpu_count()} CPUs"]
    print(lines[0], lines[1], sep="\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.agents:
            times, cpus, in_tf = ({False: [], True: []} for _ in range(3))
            paths = []
            for repeat in range(args.repeats):
                for fast in (False, True):
                    paths.append(Path(tmp, f"{name}_{repeat}_{'fast' if fast else 'stock'}.npz"))
                    wall, cpu, tf_run = run(name, fast, args.warmup, args.steps, paths[-1])
                    times[fast].append(wall)
                    cpus[fast].append(cpu)
                    in_tf[fast].append(tf_run)
            checks = [identical(paths[0], other) for other in paths[1:]]
            same, n = all(c[0] for c in checks), checks[0][1]
            stock, fast = min(times[False]), min(times[True])
            medians = [statistics.median(times[mode]) * 1e3 for mode in (False, True)]
            cpu_stock, cpu_fast = min(cpus[False]), min(cpus[True])
            line = (f"{LABELS[name]}: stock {stock * 1e3:.3f} ms, "
                    f"fast path {fast * 1e3:.3f} ms, {stock / fast:.1f}x (fastest of {args.repeats}; medians "
                    f"{medians[0]:.3f} vs {medians[1]:.3f} ms; CPU time {cpu_stock * 1e3:.3f} vs "
                    f"{cpu_fast * 1e3:.3f} ms, {cpu_stock / cpu_fast:.1f}x; inside TensorFlow's session runs "
                    f"{min(in_tf[False]) * 1e3:.3f} vs {min(in_tf[True]) * 1e3:.3f} ms);"
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
