"""``nchain-keras``: the NChain tutorial's Keras Q-network (seed 001), trained as published, fast.

One-hot state -> Dense(10, sigmoid) -> Dense(2, linear), mse, Adam; 1000 episodes x 1000 steps,
eps 0.5 x 0.999 per episode, one online update per step (:mod:`reproduce.originals.keras_qnet` says how it
runs in seconds and where it differs from the published loop). Writes ``episodes.csv``,
``q_table.csv``, ``summary.json`` (Q against the exact Q*, greedy policy and its expected return)
and ``reward_per_step.png`` (the tutorial's figure).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Experiment, Report
from reproduce.options import POSITIVE, option
from reproduce.runs import RunDir, atomic_write, write_csv, write_json

NAME = "nchain-keras"
EXTRA_COLUMNS = ("episode", "total_steps", "avg_reward_per_step", "eps")


@dataclass(frozen=True)
class Config:
    """The tutorial's training run."""

    seed: int = 0
    """seeds numpy's RandomState (actions), the env (slips) and TF (initial weights)"""
    episodes: int = option(1000, "training episodes (the tutorial: 1000)", check=POSITIVE)
    steps_per_episode: int = option(1000, "steps per episode (NChain-v0's time limit: 1000)", check=POSITIVE)
    slip: float = 0.2
    """NChain slip probability (NChain-v0: 0.2)"""


def run(config: Config, run_dir) -> dict:
    import numpy as np
    import pandas as pd

    from callbacks.monitor import MonitorWriter
    from reproduce.envs import NCHAIN_ID, episode_return, policy_string, solve
    from reproduce.originals.keras_qnet import FastQNet, published_streams
    from reproduce.report.published import PUBLISHED_KERAS_Q

    start = time.perf_counter()
    rundir = RunDir(run_dir, NAME, config, config.seed).start()
    steps = config.steps_per_episode
    streams = published_streams(config.seed, config.episodes, steps, config.slip)
    net = FastQNet(config.seed, steps)
    meta = {"env_id": NCHAIN_ID, "experiment": NAME, "seed": config.seed}
    with MonitorWriter(rundir.episodes, EXTRA_COLUMNS, meta) as log:
        def on_episode(i, rewards, eps):
            total = float(rewards.sum(dtype=np.float64))
            log.write(total, steps, episode=i, total_steps=(i + 1) * steps,
                      avg_reward_per_step=total / steps, eps=eps)

        result = net.train(streams, on_episode)

    q = result.q_table
    write_csv(rundir.q_table, pd.DataFrame(
        {"state": np.arange(len(q)), "q_forward": q[:, 0], "q_backward": q[:, 1]}))
    solution = solve(slip=config.slip, steps=steps)
    policy = q.argmax(axis=1)  # ties -> forward, like np.argmax in the published code
    expected = episode_return(policy, slip=config.slip, steps=steps)
    avg = result.episode_rewards / steps
    plot = plot_reward_per_step(avg, rundir.reward_plot, config.seed)
    summary = {
        "experiment": NAME, "env_id": NCHAIN_ID, "seed": config.seed,
        "episodes": config.episodes, "steps_per_episode": steps, "steps": config.episodes * steps,
        "env_steps": config.episodes * steps,
        "implementation": "FastQNet (one XLA-compiled tf.while_loop per episode, tf-keras model)",
        "q_table": q, "q_star": solution.q, "max_abs_q_error": float(np.abs(q - solution.q).max()),
        "max_abs_diff_published_q": float(np.abs(q - np.array(PUBLISHED_KERAS_Q)).max()),
        "policy": policy_string(policy), "all_forward": bool((policy == 0).all()),
        "expected_return": expected, "optimal_return": solution.optimal_return,
        "regret": solution.optimal_return - expected,
        "avg_reward_per_step_last_100": float(avg[-100:].mean()),
        "train_time_s": result.seconds, "plot": plot.name,
        "wall_time_s": time.perf_counter() - start,
    }
    write_json(rundir.summary, summary)
    rundir.finish(wall_time_s=summary["wall_time_s"])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()
            if k in ("max_abs_q_error", "policy", "expected_return", "wall_time_s")}


def plot_reward_per_step(avg_reward_per_step, path: Path, seed: int) -> Path:
    """The tutorial's figure: average reward per step against episode."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(np.arange(len(avg_reward_per_step)), avg_reward_per_step, lw=0.8)
    ax.set_xlabel("episode")
    ax.set_ylabel("average reward per step")
    ax.set_title(f"Keras Q-network on NChain-v0 (seed {seed})")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110)
    return Path(path)


def published(runs) -> list[dict]:
    from reproduce.report.published import keras_q_values

    return keras_q_values(runs)


EXPERIMENT = Experiment(
    NAME, "the tutorial's Keras Q-network on NChain (Dense 10 sigmoid, Adam, 1M online updates)", Config, run,
    Report("Keras Q-network (tutorial)", published=published),
    differences=("one XLA-compiled graph per episode replays exactly the published loop's random draws; "
                 "reproduce.originals.keras_qnet lists every difference from the published loop",),
)
