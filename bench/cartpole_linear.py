"""What the Lazy Programmer-style linear Q-learner (``reproduce.tabular.linear``) reaches.

CartPole-v1 over ``--seeds`` seeds and MountainCar-v0 over ``--mc-seeds`` seeds, each with the
module's documented defaults (``--eta0`` overrides CartPole's learning rate, to compare).
Per seed: training time, steps and the mean return of the last 100 training episodes, then
100 greedy test episodes (env seeded with seed + 10000): mean, min and whether the mean
reaches the env's threshold (CartPole-v1 475, MountainCar-v0 -110). Also prints a uniformly
random policy's mean return on the same test seeds, and the machine's load (other processes
share the 2 CPUs, so times vary with it). Writes the rows to ``--csv`` if given. First it times
one call of each per-step piece on a CartPole agent: the sklearn pipeline's ``transform`` vs
``RBFFeatures.transform`` (the same features), ``q_values``, scikit-learn's
``SGDRegressor.partial_fit`` (the reference) and ``FastSGDRegressor.update`` (its numba equal, what
the agent uses). Then the two side by side (``--speed-seeds``, ``--speed-episodes``): each seed
trained with scikit-learn's regressors and with the numba ones, alternately, in this process
(numba compiled beforehand), process time per env step, and whether returns, weights,
intercepts and ``t_`` are bit-identical. ``--reference`` runs the results table with
scikit-learn's regressors.

    flock /tmp/bench.lock nice -n 5 python bench/cartpole_linear.py [--seeds 5] [--episodes 200] \\
        [--mc-seeds 2] [--mc-episodes 300] [--eta0 X] [--speed-seeds 3] [--speed-episodes 100] \\
        [--reference] [--csv bench/results/cartpole_linear.csv]
"""

from __future__ import annotations

import argparse
import os
import time

import reproduce  # noqa: F401  (compat first, as everywhere in the package)
from reproduce.evaluation import random_returns

SOLVED_AT = {"CartPole-v1": 475.0, "MountainCar-v0": -110.0}
EVAL_EPISODES = 100


def run_seed(env_id: str, episodes: int, seed: int, reference: bool = False, **overrides) -> dict:
    import gymnasium as gym
    import numpy as np

    from reproduce.tabular import linear

    start = time.perf_counter()
    env = gym.make(env_id)
    agent = linear.make_agent(env, linear.default_config(env_id, **overrides), seed, reference)
    returns, lengths = [], []
    linear.train(agent, env, episodes, seed, lambda t, r, n: (returns.append(r), lengths.append(n)))
    train_s = time.perf_counter() - start
    evals = [r for r, _ in linear.evaluate(agent, env_id, EVAL_EPISODES, seed + 10_000)]
    return {
        "env_id": env_id, "seed": seed, "episodes": episodes, "eta0": agent.config.eta0,
        "train_s": round(train_s, 1), "train_steps": int(sum(lengths)),
        "us_per_step": round(train_s / sum(lengths) * 1e6),
        "train_last100": round(float(np.mean(returns[-100:])), 1),
        "train_best100": round(float(np.convolve(returns, np.ones(100) / 100, "valid").max()), 1),
        "eval_mean": round(float(np.mean(evals)), 1), "eval_min": float(np.min(evals)),
        "solved": bool(np.mean(evals) >= SOLVED_AT[env_id]),
    }


def time_calls(repeats: int = 300) -> str:
    """Best-of-5 microseconds per call of each per-step piece (one CartPole observation)."""
    import gymnasium as gym
    import numpy as np

    from reproduce.tabular import linear

    env = gym.make("CartPole-v1")
    agent = linear.make_agent(env, seed=0, reference=True)
    fast = linear.make_agent(env, seed=0)
    obs = np.array([[0.1, -0.2, 0.03, 0.4]])
    x = agent.features.transform(obs)
    target = np.array([0.0])
    calls = {
        "pipeline.transform": lambda: agent.features.pipeline.transform(obs),
        "RBFFeatures.transform": lambda: agent.features.transform(obs),
        "q_values": lambda: agent.q_values(x),
        "SGDRegressor.partial_fit": lambda: agent.models[0].partial_fit(x, [0.0]),
        "FastSGDRegressor.update": lambda: fast.models[0].update(x, target),
    }
    out = []
    for name, call in calls.items():
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                call()
            best = min(best, (time.perf_counter() - start) / repeats)
        out.append(f"{name} {best * 1e6:.0f} us")
    return "per call: " + ", ".join(out)


def side_by_side(seeds: int, episodes: int) -> list[str]:
    """Each seed trained with scikit-learn's regressors and with the numba ones (alternately): process
    time per env step and whether the two runs are bit-identical."""
    import gymnasium as gym
    import numpy as np

    from reproduce.tabular import linear

    def train(seed, reference):
        env = gym.make("CartPole-v1")
        agent = linear.make_agent(env, linear.default_config("CartPole-v1"), seed, reference)
        returns, lengths = [], []
        start = time.process_time()
        linear.train(agent, env, episodes, seed, lambda t, r, n: (returns.append(r), lengths.append(n)))
        seconds = time.process_time() - start
        weights = [(m.coef_.copy(), m.intercept_.copy(), m.t_) for m in agent.models]
        return seconds / sum(lengths), sum(lengths), returns, weights

    train(0, False)  # compiles (or loads) the numba kernel outside the timings
    lines, ratios = [], []
    for seed in range(seeds):
        ref, fast = train(seed, True), train(seed, False)
        same = ref[2] == fast[2] and all(
            np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
            for a, b in zip(ref[3], fast[3]))
        ratios.append(ref[0] / fast[0])
        lines.append(f"seed {seed}, {episodes} episodes ({ref[1]} steps): scikit-learn "
                     f"{ref[0] * 1e6:.0f} us/step, numba {fast[0] * 1e6:.0f} us/step, {ratios[-1]:.1f}x; "
                     f"returns, coef_, intercept_ and t_ {'bit-identical' if same else 'DIFFERENT'}")
        print(lines[-1], flush=True)
    lines.append(f"side by side: numba {np.median(ratios):.1f}x faster per step (median of {seeds} seeds, "
                 f"process time)")
    print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--mc-seeds", type=int, default=2)
    parser.add_argument("--mc-episodes", type=int, default=300)
    parser.add_argument("--eta0", type=float, default=None,
                        help="CartPole's SGD learning rate (default: the module's)")
    parser.add_argument("--speed-seeds", type=int, default=3, help="seeds of the side-by-side timing")
    parser.add_argument("--speed-episodes", type=int, default=100, help="episodes of each side-by-side run")
    parser.add_argument("--reference", action="store_true",
                        help="the results table with scikit-learn's SGDRegressor (default: the numba one)")
    parser.add_argument("--csv", default=None)
    opts = parser.parse_args()
    import numpy as np
    import pandas as pd


    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print(time_calls(), flush=True)
    if opts.speed_seeds:
        side_by_side(opts.speed_seeds, opts.speed_episodes)
    overrides = {} if opts.eta0 is None else {"eta0": opts.eta0}
    rows = []
    jobs = [("CartPole-v1", opts.episodes, s, overrides) for s in range(opts.seeds)]
    jobs += [("MountainCar-v0", opts.mc_episodes, s, {}) for s in range(opts.mc_seeds)]
    for env_id, episodes, seed, over in jobs:
        rows.append(run_seed(env_id, episodes, seed, opts.reference, **over))
        print("  ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
    table = pd.DataFrame(rows)
    for env_id, group in table.groupby("env_id", sort=False):
        random = random_returns(env_id, EVAL_EPISODES, 10_000)
        first = group.iloc[0]
        print(f"{env_id}: {len(group)} seeds x {first['episodes']} episodes, eta0 {first['eta0']}: "
              f"greedy eval mean {group['eval_mean'].mean():.1f} (per seed {group['eval_mean'].tolist()}), "
              f"solved {int(group['solved'].sum())}/{len(group)}; train last-100 mean "
              f"{group['train_last100'].mean():.1f}; train time median {group['train_s'].median():.1f} s, "
              f"max {group['train_s'].max():.1f} s; random policy {np.mean(random):.1f}")
    if opts.csv:
        table.to_csv(opts.csv, index=False)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
