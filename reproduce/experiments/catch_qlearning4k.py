"""``catch-qlearning4k``: Qlearning4k's README example on Catch, faithful and fast.

``Flatten -> Dense(100, relu) -> Dense(100, relu) -> Dense(3)``, ``sgd(lr=.2)`` at the rate
written, ``mse``, the library's defaults (memory 1000, 1000 epochs, batch 50, gamma 0.9, epsilon
1.0 -> 0.1 over the first half) and its quirks, run by :func:`reproduce.originals.qlearning4k.train_fast`
without XLA (bit-identical to the readable reference loop,
:func:`~reproduce.originals.qlearning4k.train_reference`,
tested). Writes the README's per-epoch log (``win_counts.csv``), ``play`` accuracy over greedy
games (``eval.csv``), the exact greedy win rate over all 63 starts and max |Q - Q*|.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Column, Experiment, Report, RunContext, Source
from reproduce.options import POSITIVE, Check, option
from reproduce.runs import RunDir

NAME = "catch-qlearning4k"
SOURCE = Source("Qlearning4k: Q-learning for Keras (README example)", "Fariz Rahman",
                "https://github.com/farizrahman4u/qlearning4k")
CATCH_COLUMNS = (Column("play accuracy", "play_accuracy"),
                 Column("exact win rate, all starts (optimum 1.00)", "exact_win_rate"))
CATCH_NOTES = ("Catch-v0, Qlearning4k's game: the exact win rate plays the greedy policy from all 63 starts, "
               "whose optimum is 100%; max |Q - Q*| is over every reachable state (gamma 0.9).")


@dataclass(frozen=True)
class Config:
    """The README's run: ``Catch(10)``, 1000 epochs, then ``play``."""

    epochs: int = option(1000, "training epochs, one game each (the library's nb_epoch)", check=POSITIVE)
    grid_size: int = option(10, "Catch grid size (Qlearning4k draws the basket centre from 1..grid-3)",
                            check=Check("an integer >= 4", lambda v: v >= 4))
    games: int = option(100, "greedy games played after training (agent.play)", check=POSITIVE)
    seed: int = 0
    """seeds the game, epsilon and replay streams and TF"""


def run(config: Config, run_dir) -> dict:
    import pandas as pd

    from reproduce.envs import CATCH_ID
    from reproduce.evaluation import eval_seed
    from reproduce.originals import qlearning4k
    from reproduce.runs import write_csv
    from reproduce.stats import wilson_ci

    run = RunContext(NAME, config, run_dir)
    q4k_config = qlearning4k.Config(grid_size=config.grid_size, nb_epoch=config.epochs)
    result = qlearning4k.train_fast(config.seed, q4k_config, jit=False)
    write_csv(run.file(RunDir.WIN_COUNTS), pd.DataFrame({
        "epoch": range(1, len(result.loss) + 1), "loss": result.loss, "epsilon": result.epsilon,
        "won": result.won.astype(int), "win_count": result.win_count}))
    wins = round(qlearning4k.play(result.weights, config.games, eval_seed(config.seed), config.grid_size)
                 * config.games)
    low, high = wilson_ci(wins, config.games)
    exact = qlearning4k.evaluate(result.weights, config.grid_size)
    return run.finish(
        printed=("win_count", "play_accuracy", "exact_win_rate", "max_abs_q_error", "wall_time_s"),
        env_id=CATCH_ID, epochs=config.epochs, env_steps=int(result.actions.size),
        train_time_s=result.seconds, win_count=int(result.win_count[-1]),
        win_count_last_100=int(result.won[-100:].sum()), eval_episodes=config.games,
        play_accuracy=wins / config.games, play_ci_low=low, play_ci_high=high,
        **{k: float(v) for k, v in exact.items()})


def win_rate_figure(runs, out: Path):
    """Qlearning4k's training log as a rate: training games won per 50 epochs, mean over seeds."""
    import numpy as np

    from reproduce import figures as fig_

    group = [r for r in runs if r.experiment == NAME and RunDir.WIN_COUNTS in r.files]
    if not group:
        return []
    n = min(len(r.files[RunDir.WIN_COUNTS]) for r in group)
    window = 50
    if n < window + 1:
        return []
    data = np.stack([r.files[RunDir.WIN_COUNTS].won.to_numpy()[:n].astype(float) for r in group])
    rates = np.stack([np.convolve(row, np.ones(window) / window, mode="valid") for row in data])
    plt = fig_.plt()
    fig, ax = plt.subplots(figsize=fig_.SIZE)
    fig_.band(ax, np.arange(window, n + 1), rates, fig_.mean_label(len(group)))
    ax.axhline(1.0, color="k", ls="--", lw=0.8, label="optimum (every start is catchable)")
    fig_.label(ax, "epoch (one game)", f"win rate, last {window} games", "Qlearning4k Catch: training "
               "games won (exploring)", outside=True)
    caption = (f"Qlearning4k's training log as a rate: games won over the last {window} epochs while "
               f"exploring (epsilon 1.0 -> 0.1 over the first half), {fig_.band_caption(len(group))}.")
    return [(fig_.save(fig, out / "catch_win_rate.png"), caption)]


EXPERIMENT = Experiment(
    NAME, "Qlearning4k's README example: Catch(10), sgd(lr=.2), 1000 epochs, then play", Config, run,
    Report("Qlearning4k Keras Q-network (README)", table="optimum", columns=CATCH_COLUMNS, notes=CATCH_NOTES,
           figures=(win_rate_figure,), source=SOURCE),
    differences=(
        "seeded streams (game, epsilon, replay) where Qlearning4k used the global unseeded np.random and "
        "random; the same distributions",
        "`sgd(lr=.2)` trains at 0.2 as written (tf-keras would drop `lr=` and train at 0.01)",
        "`play` uses freshly seeded games (the package's evaluator) and 100 games (upstream's default: 10)",
        "Qlearning4k publishes no win rate (only a GIF); the reference is the exact optimum, 100%",
    ),
)
