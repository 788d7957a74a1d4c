"""``catch-qlearning4k``: Qlearning4k's README example on Catch (seed 002), faithful and fast.

``Flatten -> Dense(100, relu) -> Dense(100, relu) -> Dense(3)``, ``sgd(lr=.2)`` at the rate
written, ``mse``, the library's defaults (memory 1000, 1000 epochs, batch 50, gamma 0.9, epsilon
1.0 -> 0.1 over the first half) and its quirks, run by :func:`reproduce.originals.qlearning4k.train_fast`
without XLA (bit-identical to the readable reference loop,
:func:`~reproduce.originals.qlearning4k.train_reference`,
tested). Writes the README's per-epoch log (``win_counts.csv``), ``play`` accuracy over greedy
games (``eval.csv``), the exact greedy win rate over all 63 starts and max |Q - Q*|.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from reproduce.contract import Experiment, Report
from reproduce.options import POSITIVE, Check, option
from reproduce.runs import RunDir

NAME = "catch-qlearning4k"


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
    from reproduce.runs import write_csv, write_json
    from reproduce.stats import wilson_ci

    rd = RunDir(run_dir, NAME, config, config.seed).start()
    start = time.perf_counter()
    q4k_config = qlearning4k.Config(grid_size=config.grid_size, nb_epoch=config.epochs)
    result = qlearning4k.train_fast(config.seed, q4k_config, jit=False)
    write_csv(rd.win_counts, pd.DataFrame({"epoch": range(1, len(result.loss) + 1), "loss": result.loss,
                                           "epsilon": result.epsilon, "won": result.won.astype(int),
                                           "win_count": result.win_count}))
    wins = round(qlearning4k.play(result.weights, config.games, eval_seed(config.seed), config.grid_size)
                 * config.games)
    low, high = wilson_ci(wins, config.games)
    exact = qlearning4k.evaluate(result.weights, config.grid_size)
    summary = {
        "env_id": CATCH_ID, "epochs": config.epochs, "env_steps": int(result.actions.size),
        "train_time_s": result.seconds, "win_count": int(result.win_count[-1]),
        "win_count_last_100": int(result.won[-100:].sum()), "eval_episodes": config.games,
        "play_accuracy": wins / config.games, "play_ci_low": low, "play_ci_high": high,
        **{k: float(v) for k, v in exact.items()}, "wall_time_s": time.perf_counter() - start,
    }
    write_json(rd.summary, summary)
    rd.finish(wall_time_s=summary["wall_time_s"])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()
            if k in ("win_count", "play_accuracy", "exact_win_rate", "max_abs_q_error", "wall_time_s")}


EXPERIMENT = Experiment(
    NAME, "Qlearning4k's README example: Catch(10), sgd(lr=.2), 1000 epochs, then play", Config, run,
    Report("Qlearning4k Keras Q-network (README)"),
    differences=(
        "seeded streams (game, epsilon, replay) where Qlearning4k used the global unseeded np.random and "
        "random; the same distributions",
        "`sgd(lr=.2)` trains at 0.2 as written (tf-keras would drop `lr=` and train at 0.01)",
        "`play` uses freshly seeded games (the package's evaluator) and 100 games (upstream's default: 10)",
        "Qlearning4k publishes no win rate (only a GIF); the reference is the exact optimum, 100%",
    ),
)
