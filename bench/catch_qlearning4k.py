"""Qlearning4k's Catch example: the reference loop against the package's XLA graph, in one process.

Runs upstream's ``Agent.train`` loop as written (``reproduce.originals.qlearning4k.train_reference``: Keras
``predict`` / ``train_on_batch`` per step, graph mode) for the first ``--reference-epochs`` epochs
of the README's 1000-epoch schedule and extrapolates its time, then the package's full 1000-epoch
run end to end (random draws, graph build, XLA compile, training), checks that its first epochs
equal the reference's, and reports what the trained network does: the README's ``agent.play``
accuracy over 100 greedy games, the exact greedy win rate over every start and max |Q - Q*|.

    python bench/catch_qlearning4k.py [--reference-epochs 100] [--seed 0] [--games 100]

Target (issue): the 1,000-epoch faithful run <= 15 s.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import reproduce  # noqa: F401  (compat first)
from reproduce.envs import solve_catch
from reproduce.originals import qlearning4k as q4k

GOAL_S = 15.0


def keras_call_costs(seed: int, config, reps: int = 300) -> tuple[float, float]:
    """Seconds per greedy ``predict`` of one state and per training step's ``predict`` of
    ``[S; S']`` plus ``train_on_batch``, as the reference loop calls them."""
    q4k.new_session(seed)
    model = q4k.build_model(config)
    g, b = config.grid_size, config.batch_size
    state = np.zeros((1, 1, g, g), np.float32)
    batch = np.zeros((2 * b, 1, g, g), np.float32)
    targets = np.zeros((b, 3), np.float32)
    model.predict(state, verbose=0)
    model.train_on_batch(batch[:b], targets)
    start = time.perf_counter()
    for _ in range(reps):
        model.predict(state, verbose=0)
    act = (time.perf_counter() - start) / reps
    start = time.perf_counter()
    for _ in range(reps):
        model.predict(batch, batch_size=2 * b, verbose=0)
        model.train_on_batch(batch[:b], targets)
    return act, (time.perf_counter() - start) / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-epochs", type=int, default=100, help="slice of the reference loop")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--games", type=int, default=100, help="greedy games for agent.play")
    opts = parser.parse_args()
    config = q4k.Config()
    if not 1 <= opts.reference_epochs <= config.nb_epoch:
        parser.error(f"--reference-epochs must be in [1, {config.nb_epoch}], got {opts.reference_epochs}")
    n_ref = opts.reference_epochs
    print(f"README settings: {config}")
    print(f"seed {opts.seed}, load average {os.getloadavg()}")

    ref = q4k.train_reference(opts.seed, config, epochs=n_ref)
    draws = q4k.published_draws(opts.seed, config)
    # Later epochs act greedily (one more predict per step) and all train, so a per-step
    # extrapolation from the first epochs is too low: time each Keras call instead, and scale by
    # how many of each the whole run makes (the draws say which steps act greedily and train).
    act_s, train_s = keras_call_costs(opts.seed, config)
    greedy, train = ~draws.explore, draws.train
    calls_s = greedy[:n_ref].sum() * act_s + train[:n_ref].sum() * train_s
    rest_s = (ref.seconds - calls_s) / (n_ref * config.steps_per_epoch)  # env, memory, sampling
    extrapolated = greedy.sum() * act_s + train.sum() * train_s + rest_s * greedy.size
    by_steps = ref.seconds * config.nb_epoch / n_ref
    print(f"reference loop, first {n_ref} epochs: {ref.seconds:.1f} s; Keras calls: predict(1 state) "
          f"{1e3 * act_s:.2f} ms, predict([S; S']) + train_on_batch {1e3 * train_s:.2f} ms, the rest "
          f"{1e3 * rest_s:.2f} ms/step; 1000 epochs extrapolated {extrapolated:.0f} s "
          f"({greedy.sum()} greedy acts, {train.sum()} updates; by steps alone {by_steps:.0f} s)")

    runs = {}
    for name, jit in (("package, XLA", True), ("package, no XLA", False)):
        start = time.perf_counter()
        runs[name] = run = q4k.train_fast(opts.seed, config, jit=jit)
        full = time.perf_counter() - start
        verdict = "within" if full <= GOAL_S else "OVER"
        print(f"{name:<15}: 1000 epochs measured end to end {full:5.1f} s (training call incl. compile "
              f"{run.seconds:.1f} s; draws and graph build the rest), {verdict} the {GOAL_S:.0f} s goal; "
              f"reference (extrapolated) / package {extrapolated / full:.1f}x")
        differ = np.nonzero((run.actions[:n_ref] != ref.actions).any(axis=1))[0]
        weight_diff = max(np.abs(a - b).max() for a, b in zip(run.weights, ref.weights))
        weights = f", max |weight difference| {weight_diff:.2e}" if n_ref == config.nb_epoch else ""
        print(f"  vs reference over its {n_ref} epochs: actions "
              f"{'identical' if not len(differ) else f'identical up to epoch {differ[0]} (0-based)'}, "
              f"max |loss difference| {np.abs(run.loss[:n_ref] - ref.loss).max():.2e}{weights}")
    if n_ref == config.nb_epoch:
        runs["reference"] = ref

    print("training log of the XLA run (upstream's format), every 100th epoch:")
    for line in runs["package, XLA"].log_lines()[99::100]:
        print("  " + line)
    print(f"{'run':<16} {'win count':>9} {'last 100':>8} {'agent.play':>10} {'exact win rate':>14} "
          f"{'max|Q-Q*|':>9}")
    for name, run in runs.items():
        accuracy = q4k.play(run.weights, opts.games, seed=opts.seed + 1)
        exact = q4k.evaluate(run.weights)
        print(f"{name:<16} {int(run.won.sum()):>9} {int(run.won[-100:].sum()):>8} {100 * accuracy:>9.0f}% "
              f"{100 * exact['exact_win_rate']:>13.1f}% {exact['max_abs_q_error']:>9.3f}")
    print(f"(agent.play: {opts.games} greedy games, Catch-v0 seeded {opts.seed + 1}; exact win rate: greedy "
          f"policy over all 63 starts, optimal {100 * solve_catch().win_rate:.0f} %; last 100: training "
          f"epochs at eps 0.1)")
    print("Qlearning4k README's numbers: none published (the README shows a GIF of the trained agent; "
          "agent.play prints 'Accuracy {} %' but no figure is given)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
