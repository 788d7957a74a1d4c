"""Benchmark: keras-rl's ``DQNAgent`` vs ``FastDQNAgent`` per training step, and the replay sample.

Same config, same env, same number of steps, one after the other in this process (TF graph and
session rebuilt for each): keras-rl's ``fit`` with the stock agent, then with ``FastDQNAgent``.
Two configs: keras-rl's own CartPole example (one gradient step per env step, soft target
updates) and a 64x64 network with one gradient step every 2 env steps. Then
``SequentialMemory.sample(64)`` against ``ReplayMirror.sample(64)`` on a 50,000-entry memory.
Prints milliseconds per env step and the ratios.

    python bench/dqn_step_speed.py [--steps 5000]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import reproduce  # noqa: E402,F401  (compat before TensorFlow)


def time_fit(config, steps: int) -> float:
    """Seconds per env step of ``agent.fit`` for ``steps`` CartPole-v1 steps (after warm-up)."""
    import gymnasium as gym

    from reproduce.adapters import KerasRLEnv
    from reproduce.kerasrl.builders import build_agent
    from reproduce.kerasrl.run import seed_everything

    seed_everything(0)
    env = KerasRLEnv(gym.make("CartPole-v1"), seed=0)
    agent = build_agent(config, env.action_space.n, env.observation_space.shape)
    agent.fit(env, nb_steps=config.nb_steps_warmup + 200, verbose=0)  # fill memory, build everything
    agent.nb_steps_warmup = 0  # fit restarts its step counter: train from the first timed step
    start = time.perf_counter()
    agent.fit(env, nb_steps=steps, verbose=0)
    return (time.perf_counter() - start) / steps


def time_sample(entries: int = 50_000, batch: int = 64, repeats: int = 500) -> tuple[float, float]:
    import numpy as np
    from rl.memory import SequentialMemory

    from reproduce.kerasrl.replay import ReplayMirror

    rng = np.random.default_rng(0)
    memory = SequentialMemory(limit=entries, window_length=1)
    for t in range(entries):
        memory.append(rng.normal(size=4).astype(np.float32), t % 2, 1.0, t % 200 == 199)
    mirror = ReplayMirror(memory)
    times = []
    for sample in (memory.sample, mirror.sample):
        start = time.perf_counter()
        for _ in range(repeats):
            sample(batch)
        times.append((time.perf_counter() - start) / repeats)
    return times[0], times[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    args = parser.parse_args(argv)
    from reproduce.experiments.cartpole_dqn import Config as ExampleConfig
    from reproduce.kerasrl.config import DQNConfig, PolicyConfig

    configs = {
        "keras-rl example (16x16x16, train every step, soft target)": ExampleConfig().dqn,
        "64x64, train every 2 steps, hard target": DQNConfig(
            hidden=(64, 64), policy=PolicyConfig("eps-greedy", eps=0.1), nb_steps_warmup=1000,
            target_model_update=256, train_interval=2, batch_size=64, delta_clip=1.0),
    }
    print(f"ms per env step over {args.steps} CartPole-v1 steps (after warm-up), "
          f"load {os.getloadavg()[0]:.2f}")
    for name, config in configs.items():
        stock = time_fit(config, args.steps)
        fast = time_fit(config.replace(fast=True), args.steps)
        print(f"{name}: DQNAgent {stock * 1e3:.3f} ms, FastDQNAgent {fast * 1e3:.3f} ms, {stock / fast:.1f}x")
    stock, mirror = time_sample()
    print(f"replay sample of 64 from 50,000 entries: SequentialMemory {stock * 1e3:.3f} ms, "
          f"ReplayMirror {mirror * 1e3:.3f} ms, {stock / mirror:.1f}x")
    print(f"load average after {os.getloadavg()} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
