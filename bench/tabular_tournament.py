"""The NChain tutorial's 100-round tournament: published-style Python loop vs our engine, one run.

The published-style loop is the tutorial's code (``reproduce.tabular.agents``, global
``np.random``, ``gym.make("NChain-v0")``). Running it in full takes ~20 minutes, so a
slice (one round, ``--slice-episodes`` training episodes per method, plus the three 1000-step
test games) is timed and extrapolated linearly to 100 rounds x 500 episodes. Then the
package's compiled engine runs the full tournament: once cold (first call in the process,
loading or compiling the numba code) and ``--repeats`` times warm. Prints both times and
their ratio, with the machine's load average (other processes share the CPU).

    python bench/tabular_tournament.py [--slice-episodes 20] [--repeats 3]

Target (issue 3): full tournament <= 3 s, >= 350x faster than the published-style loop.
"""

from __future__ import annotations

import argparse
import os
import time

import reproduce  # noqa: F401  (compat first; registers NChain-v0)

ROUNDS, EPISODES, STEPS = 100, 500, 1000


def published_slice(episodes: int) -> tuple[float, float]:
    """Seconds for ``episodes`` training episodes of each method, and for the 3 test games."""
    import gymnasium as gym
    import numpy as np

    from reproduce.envs import NCHAIN_ID
    from reproduce.tabular import agents

    np.random.seed(0)
    env = gym.make(NCHAIN_ID)
    env.reset(seed=0)
    start = time.perf_counter()
    tables = [agents.naive_sum_reward_agent(env, episodes),
              agents.q_learning_with_table(env, episodes),
              agents.eps_greedy_q_learning_with_table(env, episodes)]
    train = time.perf_counter() - start
    start = time.perf_counter()
    winner = np.argmax([agents.run_game(t, env) for t in tables])
    test = time.perf_counter() - start
    del winner
    return train, test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice-episodes", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args()
    from reproduce.tabular import engine

    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} on {os.cpu_count()} CPUs")
    train, test = published_slice(opts.slice_episodes)
    steps = 3 * opts.slice_episodes * STEPS + 3 * STEPS
    per_round = train * EPISODES / opts.slice_episodes + test
    published = ROUNDS * per_round
    print(f"published-style loop: slice of {steps:,} env steps in {train + test:.2f} s "
          f"({(train + test) / steps * 1e6:.2f} us/step); extrapolated to {ROUNDS} rounds x "
          f"{EPISODES} episodes: {published:.0f} s")

    start = time.perf_counter()
    engine.tournament(rounds=ROUNDS, episodes=EPISODES, seed=0)
    cold = time.perf_counter() - start
    warm = []
    for r in range(opts.repeats):
        start = time.perf_counter()
        result = engine.tournament(rounds=ROUNDS, episodes=EPISODES, seed=r + 1)
        warm.append(time.perf_counter() - start)
    best = min(warm)
    total_steps = ROUNDS * 3 * (EPISODES + 1) * STEPS
    print(f"engine full tournament ({total_steps:,} env steps): cold {cold:.2f} s (incl. numba load), "
          f"warm {' '.join(f'{w:.2f}' for w in warm)} s (best {best:.2f} s, "
          f"{best / total_steps * 1e9:.1f} ns/step)")
    wins = [int((engine.winners(result.returns)[0] == m).sum()) for m in range(3)]
    print(f"  last warm run's wins (naive, greedy Q, eps-greedy Q): {wins}")
    print(f"ratio published-style / engine: {published / best:.0f}x warm, {published / cold:.0f}x cold")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
