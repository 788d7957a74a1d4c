"""The garethjns experiments' shared run skeleton, figure and published-curve verdicts.

The published figures (``experiment/agent_experiment.py``'s ``AgentExperiment.plot``) show, over the
repetitions: the mean score per episode, the best and worst repetition's moving average (window 5%
of the episodes, ``'valid'`` convolution; best and worst ranked by ``current_performance``, the mean of
the last 12 episodes but the very last) and a std band clipped to ``[0, n_episodes]`` (upstream clips
the upper edge at the episode count, not the score cap). :func:`figure` draws ours the same way,
with the points read from the published figure on top; :func:`curve_verdicts` compares them.
"""

from __future__ import annotations

import numpy as np

from reproduce.originals.garethjns import EVAL_ENV_ID, current_performance, moving_average

SCORE_RANGE = (0.0, 500.0)
MOUNTAINCAR_RANGE = (-1000.0, 0.0)  # returns over at most 1,000 steps of -1


def run_returns(runs, experiment: str) -> list[np.ndarray]:
    """Each run's per-episode training returns (``episodes.csv``), for runs of ``experiment`` (default
    variant only: runs with ``quirks`` or ``old_bounds`` false are another agent)."""
    out = []
    for run in runs:
        default = run.config.get("quirks", True) and run.config.get("old_bounds", True)
        if run.experiment == experiment and default and "episodes.csv" in run.files:
            out.append(run.files["episodes.csv"]["r"].to_numpy(dtype=float))
    return out


def window_means(returns: np.ndarray, points, window: int) -> dict[int, float]:
    """The mean return over ``window`` episodes centred on each episode of ``points`` (1-based episodes)."""
    out = {}
    for x in points:
        lo, hi = max(0, x - 1 - window // 2), min(len(returns), x - 1 + window // 2 + 1)
        if x <= len(returns):
            out[x] = float(np.mean(returns[lo:hi]))
    return out


def curve_verdicts(runs, experiment: str, name: str, points: dict[int, float], window: int,
                   score_range=SCORE_RANGE) -> list[dict]:
    """Published-vs-reproduced rows: each point read from the published mean curve against each seed's
    mean over ``window`` episodes around it."""
    from reproduce.compare import curve_rows

    curves = [window_means(r, points, window) for r in run_returns(runs, experiment)]
    return curve_rows(name, points, curves, digits=0, score_range=score_range, unit="episode")


def figure(
    experiment: str, title: str, points: dict[int, float], published_reps: int, clip_band: bool = True
):
    """A report figure: our repetitions drawn as upstream's ``AgentExperiment.plot``, with the points read
    from the published figure. ``clip_band``: the std band clipped to ``[0, n_episodes]`` as at 19c5fc2
    (the June 2020 plots, MountainCar's, draw it unclipped)."""

    def draw(runs, out_dir):
        from reproduce import figures as fig_

        histories = run_returns(runs, experiment)
        if not histories:
            return []
        n = min(len(h) for h in histories)
        full = np.vstack([h[:n] for h in histories])
        mean, std = full.mean(axis=0), full.std(axis=0)
        window = max(1, int(n * 0.05))
        scores = [current_performance(h) for h in full]
        plt = fig_.plt()
        fig, ax = plt.subplots(figsize=fig_.SIZE)
        x = np.arange(n)
        low, high = mean - std, mean + std
        if clip_band:
            low, high = np.maximum(0, low), np.minimum(n, high)
        ax.fill_between(x, low, high, color="lightgray", label="Score std")
        ax.plot(x, mean, lw=1.0, label=f"Mean score ({len(full)} seeds)")
        ax.plot(
            moving_average(full[int(np.argmax(scores))], window),
            ls="--",
            lw=0.7,
            color="#d62728",
            label="Best (mv avg)",
        )
        ax.plot(
            moving_average(full[int(np.argmin(scores))], window),
            ls="--",
            lw=0.7,
            color="#9467bd",
            label="Worst (mv avg)",
        )
        ax.plot(
            [p - 1 for p in points],
            list(points.values()),
            "k*",
            ms=9,
            label=f"published mean ({published_reps} reps), read from its figure",
        )
        fig_.label(ax, "N episodes", "Score", title, outside=True)
        path = fig_.save(fig, out_dir / f"{fig_.slug(experiment)}_curve.png")
        caption = (
            f"{title}: our {len(full)} seeds drawn as upstream's AgentExperiment.plot (mean score, the best "
            f"and worst seed's {window}-episode moving average, std band"
            f"{f' clipped to [0, {n}]' if clip_band else ''}); stars: "
            f"the published figure's mean curve, read by eye at a few episodes."
        )
        return [(path, caption)]

    return draw


def train_and_evaluate(
    name: str, config, run_dir, agent, train, resume_state=None, eval_env_id: str = EVAL_ENV_ID, **eval_kwargs
) -> dict:
    """The run skeleton of every garethjns experiment: ``train(agent, on_episode)`` with a Monitor CSV
    (``episodes.csv``), then greedy test episodes on ``eval_env_id`` (``gym.make(eval_env_id,
    **eval_kwargs)``; by default ``CartPole-v1``, the trained task: CartPole's physics capped at 500 steps,
    its threshold 475 deciding ``solved``) and ``summary.json``. Every reward is +-1 per step (CartPole,
    MountainCar), so an episode's length is its return's magnitude."""
    from callbacks.monitor import MonitorWriter
    from reproduce.contract import RunContext
    from reproduce.evaluation import eval_seed, greedy_episodes
    from reproduce.runs import RunDir

    run = RunContext(name, config, run_dir, resume=resume_state is not None)
    steps = [0]

    with MonitorWriter(
        run.dir.file(RunDir.EPISODES),
        ("episode",),
        {"env_id": eval_env_id},
        append=resume_state is not None,
    ) as log:

        def on_episode(episode, total):
            steps[0] += abs(int(total))
            log.write(float(total), abs(int(total)), episode=episode)

        result = train(agent, on_episode)
    episodes = greedy_episodes(
        agent.greedy, eval_env_id, config.eval_episodes, eval_seed(config.seed), **eval_kwargs
    )
    run.evaluate([r for r, _ in episodes], [n for _, n in episodes], eval_env_id)
    import pandas as pd

    from callbacks.monitor import load_rewards

    frame = load_rewards(run.dir.file(RunDir.EPISODES))
    train_returns = frame["r"].to_numpy()
    return run.finish(
        episodes=int(len(train_returns)),
        env_steps=int(frame["l"].sum()),
        train_time_s=float(result.seconds),
        final_100_mean=float(pd.Series(train_returns[-100:]).mean()),
        quirks=bool(getattr(config, "quirks", True)),
    )
