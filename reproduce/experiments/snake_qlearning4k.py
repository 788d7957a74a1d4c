"""``snake-qlearning4k``: Qlearning4k's ``examples/test_snake.py`` on Snake-v0, faithful and fast.

Four stacked frames, ``Conv16 3x3 -> Conv32 3x3 -> Dense 256 -> 5``, RMSprop, MSE, unbounded
memory, batch 64, gamma 0.8, epsilon 1 -> 0.1 over the first half of the epochs; trained by
:func:`reproduce.originals.qlearning4k_snake.train_fast` (the reference loop's draws and numbers,
tested, one session call per step). Writes upstream's per-epoch log with the game's statistics
(``epochs.csv``: loss, epsilon, won, fruit eaten, length, steps), then plays greedy games capped at
``--max-steps`` (``eval.csv``: return and steps; the summary: fruit eaten, length, deaths), beside a
uniformly random player on the same games. Upstream publishes no numbers: the game's statistics
and the random player are the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Column, Experiment, Report, RunContext, Source
from reproduce.options import POSITIVE, Check, option

NAME = "snake-qlearning4k"
EPOCHS_LOG = "epochs.csv"  # upstream's per-epoch log and the game's statistics
SOURCE = Source("Qlearning4k: examples/test_snake.py and qlearning4k/games/snake.py", "Fariz Rahman",
                "https://github.com/farizrahman4u/qlearning4k/blob/master/examples/test_snake.py")
MEMORY = Check("-1 (unbounded, as upstream) or at least the batch size, 64", lambda v: v == -1 or v >= 64)


@dataclass(frozen=True)
class Config:
    """The example's run: 10,000 epochs on Snake(10), then ``play``."""

    epochs: int = option(10_000, "training epochs, one game each (nb_epoch; epsilon reaches 0.1 at half)",
                         check=POSITIVE)
    memory_size: int = option(-1, "replay memory: -1 keeps every transition (upstream's memory_size=-1); "
                              "N keeps the newest N", check=MEMORY)
    games: int = option(100, "greedy games played after training (agent.play; upstream: 10)", check=POSITIVE)
    max_steps: int = option(1000, "step cap of each greedy game (upstream's play loops forever when the "
                            "snake circles)", check=POSITIVE)
    seed: int = 0
    """seeds the game, the epsilon/action stream, replay sampling and TF"""


def run(config: Config, run_dir) -> dict:
    import numpy as np
    import pandas as pd
    from tqdm import tqdm

    from reproduce.envs import SNAKE_ID
    from reproduce.evaluation import eval_seed
    from reproduce.originals import qlearning4k_snake as q4k
    from reproduce.runs import write_csv

    run = RunContext(NAME, config, run_dir)
    settings = q4k.Config(nb_epoch=config.epochs, memory_size=config.memory_size)
    net = q4k.FastSnake(config.seed, settings)
    with tqdm(total=config.epochs, unit="epoch", delay=2.0, desc=f"{NAME} seed {config.seed}") as bar:
        result = net.train(config.seed, on_epoch=lambda line: bar.update(1))
    write_csv(run.file(EPOCHS_LOG), pd.DataFrame({
        "epoch": range(1, config.epochs + 1), "loss": result.loss, "epsilon": result.epsilon,
        "won": result.won.astype(int), "win_count": np.cumsum(result.won), "fruit": result.fruit,
        "length": result.length, "steps": result.steps}))
    seed = eval_seed(config.seed)
    greedy = q4k.play(lambda x: net.model.predict(x, batch_size=len(x), verbose=0), config.games, seed,
                      config.max_steps)
    rng = np.random.default_rng(seed)
    rand = q4k.play(lambda x: rng.random((len(x), q4k.N_ACTIONS)), config.games, seed, config.max_steps)
    run.evaluate(greedy["return"].tolist(), greedy["steps"].astype(int).tolist(), SNAKE_ID)
    tail = slice(-max(config.epochs // 10, 1), None)
    stats = {f"{who}_{k}": float(np.mean(v[k])) for who, v in (("play", greedy), ("random", rand))
             for k in ("fruit", "length", "died", "won", "steps")}
    return run.finish(
        printed=("eval_mean", "play_fruit", "play_died", "random_fruit", "wall_time_s"),
        epochs=config.epochs, memory_size=config.memory_size, max_steps=config.max_steps,
        env_steps=int(result.steps.sum()), train_time_s=result.seconds,
        ms_per_step=1000 * result.seconds / max(int(result.steps.sum()), 1),
        win_count=int(result.won.sum()), train_fruit_last=float(result.fruit[tail].mean()),
        train_length_last=float(result.length[tail].mean()),
        train_steps_last=float(result.steps[tail].mean()),
        random_return=float(np.mean(rand["return"])), **stats)


def published(runs) -> list[dict]:
    """Nothing is published; the reference is a uniformly random player on the same capped games."""
    mine = [r for r in runs if r.experiment == NAME and "random_fruit" in r.summary]
    if not mine:
        return []
    greedy = [r.summary["play_fruit"] for r in mine]
    rand = [r.summary["random_fruit"] for r in mine]
    above = sum(g > x for g, x in zip(greedy, rand))
    return [{"published": "no numbers (a GIF); reference: fruit per game of a uniformly random player on the "
                          "same greedy-test games",
             "published_value": f"{sum(rand) / len(rand):.2f} (random player)",
             "reproduced": f"{sum(greedy) / len(greedy):.2f} fruit per greedy game, seeds: {len(mine)}",
             "verdict": f"above the random player in {above}/{len(mine)} seeds"}]


def fruit_figure(runs, out: Path):
    """Fruit eaten per training epoch (moving average), the game's own statistic, with the random player."""
    import numpy as np

    from reproduce import figures as fig_

    group = [r for r in runs if r.experiment == NAME and EPOCHS_LOG in r.files]
    if not group:
        return []
    n = min(len(r.files[EPOCHS_LOG]) for r in group)
    window = max(n // 50, 10)
    data = np.stack([fig_.moving_average(r.files[EPOCHS_LOG].fruit.to_numpy()[:n], window) for r in group])
    plt = fig_.plt()
    fig, ax = plt.subplots(figsize=fig_.SIZE)
    epochs = np.arange(1, n + 1)
    fig_.band(ax, epochs, data, f"training (epsilon-greedy), {window}-epoch moving average")
    greedy = np.mean([r.summary["play_fruit"] for r in group])
    rand = np.mean([r.summary["random_fruit"] for r in group])
    ax.axhline(greedy, color="C2", ls="--", label=f"greedy play after training: {greedy:.2f}")
    ax.axhline(rand, color="gray", ls=":", label=f"uniformly random player: {rand:.2f}")
    ax.axvline(n / 2, color="k", lw=0.5, alpha=0.5)
    fig_.label(ax, "epoch", "fruit eaten per game", f"Qlearning4k Snake ({n:,} epochs)", outside=True)
    caption = (f"Fruit eaten per training game ({fig_.band_caption(len(group))}); epsilon falls from 1 to "
               "0.1 until the vertical line. Dashed: greedy games after training; dotted: a uniformly random "
               "player on the same games (both capped at the run's max steps).")
    return [(fig_.save(fig, out / "snake_qlearning4k_fruit.png"), caption)]


EXPERIMENT = Experiment(
    NAME, "Qlearning4k's test_snake.py: conv Q-network on Snake(10), 4 frames, RMSprop, then play", Config,
    run,
    Report(
        "Qlearning4k conv Q-network (test_snake.py)",
        columns=(Column("fruit / greedy game", "play_fruit"), Column("final length", "play_length"),
                 Column("deaths (vs cap)", "play_died"), Column("ate once (is_won)", "play_won"),
                 Column("random: fruit / game", "random_fruit"),
                 Column("fruit / epoch, last 10%", "train_fruit_last")),
        notes=("Qlearning4k publishes no numbers for Snake (a GIF only): the references are the game's own "
               "statistics and a uniformly random player on the same capped games. The return is the sum of "
               "the lengths at each meal, -1 at death; 'deaths' is the share of greedy games that ended by "
               "the game rather than the step cap (a greedy snake that circles never dies)."),
        published=published, figures=(fruit_figure,), source=SOURCE),
    differences=(
        "channels-last input (10, 10, 4): TF has no channels-first convolution on CPU (upstream: "
        "set_image_dim_ordering('th'), (4, 10, 10)); the same network up to a permutation of the dense "
        "layer's inputs",
        "RMSprop with Keras 2.0's settings (lr 0.001, rho 0.9, epsilon 1e-8), on TF's kernel, which adds "
        "epsilon inside the square root (Keras 2.0: outside)",
        "seeded streams (the game's own np_random; epsilon and random actions from one RandomState; replay "
        "from random.Random) where upstream used the global unseeded np.random and random",
        "the replay memory stores each frame once as bytes (about 130 bytes a transition instead of 803 "
        "float64s), so memory_size=-1 stays affordable; --memory-size bounds it (FIFO) if wanted",
        "play: 100 games (upstream: 10) with a step cap (upstream loops forever when the snake circles), "
        "no PNG frames; the fruit on a full board stays off-board instead of looping forever",
        "`reproduce all` trains 500 epochs (epsilon 1 -> 0.1 over the first 250) instead of 10,000, about "
        "70 process-seconds a seed; the full run is `reproduce run snake-qlearning4k` (seed 0: 264,924 "
        "steps, 1,913 process-seconds, 0.8 GB peak; greedy 5.83 fruit a game)",
    ),
)
