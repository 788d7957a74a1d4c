"""``blob-qtable``: sentdex's "Reinforcement Learning w/ Python" part 4, the Q-table on the Blob world.

25,000 episodes of the published loop (:mod:`reproduce.originals.blob_qtable`: 19^4 x 4 table from
uniform(-5, 0), lr 0.1, discount 0.95, epsilon 0.9 x 0.9998 per episode, terminal Q set to +25 or
-300), compiled with numba (:func:`~reproduce.originals.blob_qtable.train_fast`, the same draws,
actions, rewards and table as the readable loop, tested), ``repeats`` independent runs per process
(run ``r`` seeded ``seed * 10000 + r``).

Scored exactly (:mod:`reproduce.envs.blob_solver`): the final table's greedy policy is played from every
one of the 10^6 starts (player, food, enemy), weighted as part 4 draws them, and compared with the best
achievable expected return (finite-horizon value iteration over the full positions). The published
output, the 3,000-episode moving average of the training reward, is kept as the curve.

Outputs: ``moving_average.csv`` (every 10th point of each run's published curve, and epsilon),
``repeats.csv`` (per run: greedy value, optimum, regret, greedy outcome shares, final moving average).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Column, Experiment, Report, RunContext, Source
from reproduce.options import POSITIVE, Check, option
from reproduce.runs import RunDir

NAME = "blob-qtable"
SOURCE = Source(
    "Q-Learning Analysis / own environment, Reinforcement Learning w/ Python part 4 (copies: "
    "Cliffy2000/q_learning blob.py, woletee/RL_Env, asuzukosi/sentdex-reinforcement-learning-project)",
    "sentdex (pythonprogramming.net)",
    "https://pythonprogramming.net/own-environment-q-learning-reinforcement-learning-python-tutorial/",
)
MOVING_AVERAGE = RunDir.MOVING_AVERAGE
REPEATS = RunDir.REPEATS
REPEAT_LIMIT = 10_000
EVERY = 10  # the saved curve keeps every 10th point of the 22,001-point moving average
COLUMNS = (
    Column("training reward, last 3,000 episodes", "final_moving_average", 1),
    Column("greedy: food reached (share of starts)", "greedy_food_share"),
    Column("greedy: still walking at step 200 (share)", "greedy_timeout_share"),
)
NOTES = (
    "Blob-v0, part 4's rules (10x10, 4 diagonal moves, independent starts, 200 steps): 'greedy return' is "
    "the exact expected episode reward of the final table's greedy policy over all 10^6 starts, the "
    "optimum the best achievable (value iteration over the full positions: the relative observation the "
    "table sees hides the walls). The tutorial's own number is the training curve (moving average of "
    "3,000 episodes), learned while exploring and still updating."
)
DIFFERENCES = (
    "the blobs' starts come from Blob-v0's np_random (integers(0, 10)); the agent's draws (table init, "
    "epsilon, random action) from its own generator; the tutorial drew all of them from the global np.random "
    "(the same distributions)",
    "compiled with numba, replaying exactly the draws of the readable loop (reproduce.originals.blob_qtable"
    ".train_reference; the same actions, rewards and table, tested)",
    "no rendering every 3,000 episodes (cv2), no pickle of the table; `repeats` independent runs per process",
    "the copies agree on the constants; some add moving food and enemy (asuzukosi, SamuelOrtizV: "
    "`enemy.move()`, `food.move()` uncommented), change the walls (asuzukosi: a move off the grid "
    "is cancelled) "
    "or drop the enemy's terminal Q (asuzukosi); the tutorial's code as published keeps them still",
)


@dataclass(frozen=True)
class Config:
    """The tutorial's run."""

    episodes: int = option(25_000, "training episodes (the tutorial's HM_EPISODES)", check=POSITIVE)
    repeats: int = option(
        5,
        "independent runs",
        check=Check(f"an integer in [1, {REPEAT_LIMIT}]", lambda v: 1 <= v <= REPEAT_LIMIT),
    )
    seed: int = 0
    """run r is seeded seed * 10000 + r (the env's starts and the agent's draws)"""


def run(config: Config, run_dir: Path) -> dict:
    import numpy as np
    import pandas as pd

    from reproduce.envs import BLOB_ID
    from reproduce.envs.blob_solver import PART4_OPTIMUM, blob_values, greedy_policy
    from reproduce.originals import blob_qtable as bq
    from reproduce.runs import write_csv

    run = RunContext(NAME, config, run_dir)
    optimum = PART4_OPTIMUM  # blob_values(actions=4).expected(distinct=False), pinned and tested
    bq.train_fast(0, 1)  # load (or compile) before timing
    rows, curves = [], {}
    window = min(bq.SHOW_EVERY, config.episodes)
    for r in range(config.repeats):
        seed = config.seed * REPEAT_LIMIT + r
        result = bq.train_fast(seed, config.episodes)
        greedy = blob_values(actions=4, policy=greedy_policy(result.q))
        values = greedy.values.ravel()
        value = greedy.expected(distinct=False)
        ma = result.moving_average(window)
        curves[f"run_{r}"] = ma[::EVERY]
        rows.append(
            {
                "run": r,
                "stream_seed": seed,
                "mean_return": value,
                "optimal_return": optimum,
                # a greedy episode returns 26 - k (food at step k <= 200), -200 (still walking) or
                # -299 - k (the enemy): its outcome from its value
                "regret": optimum - value,
                "greedy_food_share": float((values > -bq.MAX_STEPS).mean()),
                "greedy_timeout_share": float((values == -bq.MAX_STEPS * bq.MOVE_PENALTY).mean()),
                "greedy_enemy_share": float((values < -bq.MAX_STEPS).mean()),
                "final_moving_average": float(ma[-1]),
                "train_reward_mean": float(result.episode_rewards.mean()),
                "env_steps": int(result.episode_lengths.sum()),
                "train_time_s": result.seconds,
            }
        )
    frame = pd.DataFrame(rows)
    write_csv(run.file(REPEATS), frame)
    eps = bq.EPSILON * bq.EPS_DECAY ** np.arange(config.episodes)
    curve = pd.DataFrame({"episode": (np.arange(config.episodes - window + 1) + window)[::EVERY], **curves})
    curve["epsilon"] = eps[window - 1 :][::EVERY]
    write_csv(run.file(MOVING_AVERAGE), curve)
    return run.finish(
        printed=("mean_return", "optimal_return", "final_moving_average", "wall_time_s"),
        env_id=BLOB_ID,
        episodes=config.episodes,
        repeats=config.repeats,
        window=window,
        mean_return=float(frame.mean_return.mean()),
        optimal_return=optimum,
        regret=float(frame.regret.mean()),
        final_moving_average=float(frame.final_moving_average.mean()),
        greedy_food_share=float(frame.greedy_food_share.mean()),
        greedy_timeout_share=float(frame.greedy_timeout_share.mean()),
        env_steps=int(frame.env_steps.sum()),
        train_time_s=float(frame.train_time_s.sum()),
    )


def rows(run) -> list[dict]:
    frame = run.files.get(REPEATS)
    if frame is None:
        return []
    episodes = run.config.get("episodes")
    return [
        {
            **rec,
            "agent": f"Q-table (part 4), {episodes:,} episodes",
            "seed": int(rec["stream_seed"]),
            "policy": None,
            "max_abs_q_error": None,
        }
        for rec in frame.to_dict("records")
    ]


def moving_average_figure(runs, out: Path):
    """The tutorial's figure: the 3,000-episode moving average, with the exact greedy value and optimum."""
    import numpy as np

    from reproduce import figures as fig_

    mine = [r for r in runs if r.experiment == NAME and MOVING_AVERAGE in r.files]
    if not mine:
        return []
    frame = mine[0].files[MOVING_AVERAGE]
    data = np.concatenate(
        [
            r.files[MOVING_AVERAGE][[c for c in r.files[MOVING_AVERAGE].columns if c.startswith("run_")]]
            .to_numpy()
            .T
            for r in mine
        ]
    )
    reps = [r.files[REPEATS] for r in mine if REPEATS in r.files]
    plt = fig_.plt()
    fig, ax = plt.subplots(figsize=fig_.SIZE)
    fig_.band(
        ax, frame.episode, data, f"training reward, {mine[0].summary.get('window')}-episode moving average"
    )
    if reps:
        ax.axhline(
            float(reps[0].optimal_return.iat[0]),
            color="k",
            ls="--",
            lw=1,
            label="optimum (exact, all starts)",
        )
        greedy = float(np.mean([rep.mean_return.mean() for rep in reps]))
        ax.axhline(greedy, color="C3", ls=":", lw=1.2, label=f"final greedy table (exact): {greedy:.1f}")
    fig_.label(ax, "episode", "reward", "Blob world, Q-table (part 4)", outside=True)
    caption = (
        f"sentdex part 4's figure on Blob-v0: the moving average of the episode reward while training "
        f"({fig_.band_caption(len(data))}), the best achievable expected return and the exact value of "
        f"the final table played greedily from every start."
    )
    return [(fig_.save(fig, out / "blob_qtable_moving_average.png"), caption)]


EXPERIMENT = Experiment(
    NAME,
    "sentdex part 4: Q-table on the Blob world, 25,000 episodes (numba), exact greedy value vs optimum",
    Config,
    run,
    Report(
        "Blob Q-table",
        table="optimum",
        columns=COLUMNS,
        notes=NOTES,
        rows=rows,
        figures=(moving_average_figure,),
        source=SOURCE,
    ),
    differences=DIFFERENCES,
)
