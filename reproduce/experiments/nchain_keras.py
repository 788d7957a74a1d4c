"""``nchain-keras``: the Adventures in ML NChain tutorial's Keras Q-network, trained as published, fast.

One-hot state -> Dense(10, sigmoid) -> Dense(2, linear), mse, Adam; 1000 episodes x 1000 steps,
eps 0.5 x 0.999 per episode, one online update per step (:mod:`reproduce.originals.keras_qnet` says how it
runs in seconds and where it differs from the published loop). Writes ``episodes.csv``,
``q_table.csv``, ``summary.json`` (Q against the exact Q*, greedy policy and its expected return)
and ``reward_per_step.png`` (the tutorial's figure).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Experiment, Report, RunContext, Source
from reproduce.options import POSITIVE, option
from reproduce.runs import RunDir, atomic_write, to_jsonable, write_csv

NAME = "nchain-keras"
SOURCE = Source("Reinforcement learning tutorial using Python and Keras",
                "Andy Thomas, Adventures in Machine Learning",
                "https://adventuresinmachinelearning.com/reinforcement-learning-tutorial-python-keras/")
# The tutorial's printed Q-values of its Keras network after 1000 episodes (rows: states 0..4;
# columns: forward, backward).
PUBLISHED_KERAS_Q = [[62.73, 61.35], [66.32, 62.27], [70.83, 63.26], [76.64, 64.76], [84.51, 66.50]]
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
    from reproduce.envs import NCHAIN_ID, episode_return, policy_string, solve_nchain
    from reproduce.originals.keras_qnet import FastQNet, published_streams

    run = RunContext(NAME, config, run_dir)
    steps = config.steps_per_episode
    streams = published_streams(config.seed, config.episodes, steps, config.slip)
    net = FastQNet(config.seed, steps)
    meta = {"env_id": NCHAIN_ID, "experiment": NAME, "seed": config.seed}
    with MonitorWriter(run.file(RunDir.EPISODES), EXTRA_COLUMNS, meta) as log:
        def on_episode(i, rewards, eps):
            total = float(rewards.sum(dtype=np.float64))
            log.write(total, steps, episode=i, total_steps=(i + 1) * steps,
                      avg_reward_per_step=total / steps, eps=eps)

        result = net.train(streams, on_episode)

    q = result.q_table
    write_csv(run.file(RunDir.Q_TABLE), pd.DataFrame(
        {"state": np.arange(len(q)), "q_forward": q[:, 0], "q_backward": q[:, 1]}))
    solution = solve_nchain(slip=config.slip, steps=steps)
    policy = q.argmax(axis=1)  # ties -> forward, like np.argmax in the published code
    expected = episode_return(policy, slip=config.slip, steps=steps)
    avg = result.episode_rewards / steps
    plot = plot_reward_per_step(avg, run.file(RunDir.REWARD_PLOT), config.seed)
    return run.finish(
        printed=("max_abs_q_error", "policy", "expected_return", "wall_time_s"),
        experiment=NAME, env_id=NCHAIN_ID, seed=config.seed,
        episodes=config.episodes, steps_per_episode=steps, steps=config.episodes * steps,
        env_steps=config.episodes * steps,
        implementation="FastQNet (one XLA-compiled tf.while_loop per episode, tf-keras model)",
        q_table=to_jsonable(q), q_star=to_jsonable(solution.q),
        max_abs_q_error=float(np.abs(q - solution.q).max()),
        max_abs_diff_published_q=float(np.abs(q - np.array(PUBLISHED_KERAS_Q)).max()),
        policy=policy_string(policy), all_forward=bool((policy == 0).all()),
        expected_return=expected, optimal_return=solution.optimal_return,
        regret=solution.optimal_return - expected,
        avg_reward_per_step_last_100=float(avg[-100:].mean()),
        train_time_s=result.seconds, plot=plot.name)


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


def q_array(frame):
    """A ``state, q_forward, q_backward`` table as a (states x 2) array."""
    frame = frame.sort_values("state")
    return frame[["q_forward", "q_backward"]].to_numpy(dtype=float)


def published(runs) -> list[dict]:
    """The tutorial's Keras Q-network table, cell by cell, against the mean over our seeds."""
    import numpy as np

    from reproduce.compare import mean_over_seeds_row

    keras = [r for r in runs if RunDir.Q_TABLE in r.files]
    if not keras:
        return []
    tables = np.stack([q_array(r.files[RunDir.Q_TABLE]) for r in keras])
    rows = []
    for state in range(tables.shape[1]):
        for action, name in ((0, "forward"), (1, "backward")):
            rows.append(mean_over_seeds_row(f"Keras Q-network Q(s={state}, {name})",
                                            PUBLISHED_KERAS_Q[state][action], tables[:, state, action], 2))
    return rows


def q_heatmaps(runs, out: Path):
    """Every NChain agent's mean learned Q-table (runs with a ``q_table.csv`` on NChain-v0) beside Q* and
    the tutorial's published table, one colour scale."""
    import numpy as np

    from reproduce import experiments
    from reproduce import figures as fig_
    from reproduce.envs import NCHAIN_ID, solve_nchain

    plt = fig_.plt()
    panels = [("Q* (exact)", solve_nchain().q), ("published Keras table", np.array(PUBLISHED_KERAS_Q))]
    by_experiment: dict[str, list] = {}
    for r in runs:
        if r.summary.get("env_id") == NCHAIN_ID and RunDir.Q_TABLE in r.files:
            by_experiment.setdefault(r.experiment, []).append(q_array(r.files[RunDir.Q_TABLE]))
    for name, tables in by_experiment.items():
        label = f"{experiments.get(name).report.agent}\n(mean of {len(tables)})"
        panels.append((label, np.mean(tables, axis=0)))
    if len(panels) == 2:
        return []
    vmin = min(p.min() for _, p in panels)
    vmax = max(p.max() for _, p in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(2.3 * len(panels) + 1.0, 3.4), squeeze=False,
                             layout="constrained")
    for ax, (title, q) in zip(axes[0], panels):
        image = ax.imshow(q, cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
        for (s, a), value in np.ndenumerate(q):
            ax.text(a, s, f"{value:.1f}", ha="center", va="center", color="white", fontsize=8)
        ax.set_xticks([0, 1], ["fwd", "back"])
        first = ax is axes[0][0]
        ax.set_yticks(range(q.shape[0]), [f"state {s}" for s in range(q.shape[0])] if first else [])
        ax.set_title(title, fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="Q")
    path = out / "nchain_q_heatmaps.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [(path, "NChain Q-values (rows: states 0-4; columns: forward, backward): the exact Q* at gamma "
                   "0.95, the tutorial's published Keras table, and each agent's mean learned table, one "
                   "colour scale.")]


EXPERIMENT = Experiment(
    NAME, "the tutorial's Keras Q-network on NChain (Dense 10 sigmoid, Adam, 1M online updates)", Config, run,
    Report("Keras Q-network (tutorial)", table="optimum", published=published, figures=(q_heatmaps,),
           source=SOURCE),
    differences=("one XLA-compiled graph per episode replays exactly the published loop's random draws; "
                 "reproduce.originals.keras_qnet lists every difference from the published loop",),
)
