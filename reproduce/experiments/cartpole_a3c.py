"""``cartpole-a3c``: the TensorFlow blog's A3C on CartPole (Raymond Yuan, July 2018), faithful and fast.

Separate ``Dense(100, relu)`` policy and value towers, the published loss (value, cross-entropy times the
stopped advantage, entropy bonus 0.01) with its broadcasting quirk, one shared Adam (5e-4), pushes every
20 steps or at the episode's end, gamma 0.99, 1,000 global episodes on CartPole-v0 unwrapped, the best
episode's weights kept for ``play``: :mod:`reproduce.originals.a3c`. ``--workers 1`` (the default) is
deterministic; ``--workers N`` runs N threads racing on the global weights, as published. The numpy
backend runs unless ``--reference`` asks for the tf.keras one (the same numbers with one worker, tested).
Writes every episode (``episodes.csv``: the published score, steps, worker, moving average, loss),
then greedy games from the saved best weights capped at ``--eval-cap`` (``eval.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Column, Experiment, Report, RunContext, Source
from reproduce.options import NON_NEGATIVE, POSITIVE, option
from reproduce.runs import RunDir

NAME = "cartpole-a3c"
SOURCE = Source("Deep Reinforcement Learning: Playing CartPole through Asynchronous Advantage Actor Critic "
                "(A3C) with tf.keras and eager execution (TensorFlow blog, July 2018; code: "
                "research/a3c_blogpost/a3c_cartpole.py)", "Raymond Yuan",
                "https://github.com/tensorflow/models/blob/master/research/a3c_blogpost/a3c_cartpole.py")


@dataclass(frozen=True)
class Config:
    """The blog's run: ``--train --max-eps 1000`` on CartPole-v0."""

    episodes: int = option(1000, "global episodes (the published --max-eps)", check=POSITIVE)
    workers: int = option(1, "worker threads (published: multiprocessing.cpu_count()); 1 is deterministic",
                          check=POSITIVE)
    quirks: bool = option(True, "the published loss's broadcasting slips: actions weighted by the segment's "
                          "MEAN advantage, values pulled to its mean return after a bootstrap; false: A3C's")
    reference: bool = option(False, "run the tf.keras reference backend (TF1 Adam, one session call a "
                             "step) instead of numpy")
    train_cap: int = option(0, "steps after which a training episode is cut (0: none, as published; "
                            "a cut episode's push bootstraps)", check=NON_NEGATIVE)
    eval_episodes: int = option(100, "greedy test episodes from the saved best weights", check=POSITIVE)
    eval_cap: int = option(200, "step cap of each greedy test episode (CartPole-v0's own limit; the "
                           "published play has none)", check=POSITIVE)
    seed: int = 0
    """seeds the initial weights, each worker's env and action draws"""


def run(config: Config, run_dir) -> dict:
    import numpy as np

    from callbacks.monitor import MonitorWriter
    from reproduce.evaluation import eval_seed
    from reproduce.originals import a3c

    run = RunContext(NAME, config, run_dir)
    nets = (a3c.TFNets if config.reference else a3c.NumpyNets)(config.seed, config.workers, config.quirks)
    result = a3c.train(nets, config.seed, config.workers, config.episodes, config.train_cap or None)
    columns = ("worker", "moving_average", "loss")
    with MonitorWriter(run.file(RunDir.EPISODES), columns, {"env_id": a3c.ENV_ID}) as log:
        for e in result.episodes:
            log.write(e.score, e.steps, worker=e.worker, moving_average=e.moving, loss=e.loss)
    seed = eval_seed(config.seed)
    best = a3c.greedy_returns(result.best_weights, config.eval_episodes, seed, config.eval_cap)
    run.evaluate([r for r, _ in best], [n for _, n in best], a3c.ENV_ID)
    final = a3c.greedy_returns(result.weights, config.eval_episodes, seed, config.eval_cap)
    moving = result.moving_average
    steps = sum(e.steps for e in result.episodes)
    return run.finish(
        printed=("eval_mean", "final_eval_mean", "moving_final", "moving_peak", "wall_time_s"),
        episodes=len(result.episodes), workers=config.workers, quirks=config.quirks,
        backend="tf.keras" if config.reference else "numpy", env_steps=int(steps),
        train_time_s=result.seconds, us_per_step=1e6 * result.seconds / max(steps, 1),
        best_score=float(result.best_score), moving_final=float(moving[-1]), moving_peak=float(moving.max()),
        final_eval_mean=float(np.mean([r for r, _ in final])), eval_cap=config.eval_cap)


COLUMNS = (Column("greedy, final weights", "final_eval_mean", 1),
           Column("moving avg., last", "moving_final", 1), Column("moving avg., peak", "moving_peak", 1),
           Column("best score", "best_score", 0), Column("env steps", "env_steps", 0))


def _label(run) -> str:
    quirks = "published loss" if run.summary.get("quirks", True) else "per-action advantage"
    return f"{quirks}, {run.summary.get('workers', 1)} worker(s)"


def rows(run) -> list[dict]:
    """The standard row and the columns', labelled by setting (loss and workers are different agents)."""
    from reproduce.contract import Summary

    data = run.summary.to_json()
    keys = (*Summary.STANDARD, *(c.key for c in COLUMNS))
    return [{**{k: data[k] for k in keys if k in data}, "agent": f"A3C (TensorFlow blog), {_label(run)}"}]


def moving_average_figure(runs, out: Path):
    """The blog's figure: the moving average of the episode score (0.99 / 0.01) per global episode."""
    import numpy as np

    from reproduce import figures as fig_

    group = [r for r in runs if r.experiment == NAME and RunDir.EPISODES in r.files]
    if not group:
        return []
    plt = fig_.plt()
    fig, ax = plt.subplots(figsize=fig_.SIZE)
    labels = sorted({_label(r) for r in group})
    for label in labels:
        members = [r for r in group if _label(r) == label]
        n = min(len(r.files[RunDir.EPISODES]) for r in members)
        data = np.stack([r.files[RunDir.EPISODES]["moving_average"].to_numpy()[:n] for r in members])
        fig_.band(ax, np.arange(n), data, f"{label} ({len(members)} seeds)")
    fig_.label(ax, "global episode", "moving average episode reward",
               "A3C on CartPole-v0 unwrapped (TensorFlow blog)", outside=True)
    caption = ("The blog's plot, reproduced: the moving average (0.99 x previous + 0.01 x score, starting at "
               "the first score) of each episode's score, which is its length minus 2 (the last reward is "
               f"replaced by -1); {fig_.band_caption(len(group))} per setting. The blog shows one such curve "
               "and gives no numbers.")
    return [(fig_.save(fig, out / "cartpole_a3c_moving_average.png"), caption)]


EXPERIMENT = Experiment(
    NAME, "the TensorFlow blog's A3C on CartPole-v0 unwrapped: two Dense(100) towers, shared Adam, "
          "1,000 episodes", Config, run,
    Report("A3C (TensorFlow blog, tf.keras)", columns=COLUMNS, rows=rows,
           notes=("The blog publishes one moving-average curve and no numbers; the greedy test plays the "
                  "saved best weights (the published play) on CartPole-v0 capped at 200 steps, so 'solved' "
                  "is v0's 195. The final weights' greedy mean is beside it."),
           figures=(moving_average_figure,), source=SOURCE),
    differences=(
        "one deterministic worker by default (published: one thread per CPU, racing on the shared weights); "
        "--workers N runs N threads as published",
        "the numpy backend (the towers, the loss's gradient and TF1's Adam in float32) unless --reference; "
        "with one worker both make the same draws and agree to 1e-5 (tested)",
        "graph-mode tf.keras and tf.compat.v1.train.AdamOptimizer in the reference, where the blog ran eager "
        "TF 1.x; initial weights drawn by numpy with Keras's glorot-uniform rule",
        "seeded streams (each worker's env and np.random.choice draws) where the blog seeded nothing; "
        "gymnasium's CartPole-v0 unwrapped (same physics, float32 observations)",
        "`reproduce all` cuts training episodes at 2,000 steps (--train-cap 2000; the cut segment "
        "bootstraps): unwrapped CartPole has no limit, and a seed of the published run balanced for 1.36 "
        "million steps in its 1,000 episodes (bench/results/a3c.txt); the default runs uncut, as published",
        "the saved best model is kept in memory (no .h5 file); greedy play capped at 200 steps (the "
        "published play runs until the pole falls) over 100 seeded episodes instead of one rendered episode",
    ),
)
