"""``blob-dqn``: sentdex's "Reinforcement Learning w/ Python" parts 5-6, the image DQN on ``BlobEnv``.

The tutorial's agent and loop (:mod:`reproduce.originals.blob_dqn`: Conv(256) x 2 + Dense(64) +
Dense(9) on the 10 x 10 x 3 image, Adam 1e-3, replay 50,000 from 1,000 on, minibatch 64, gamma 0.99,
one fit per step, the target copied after more than 5 terminal steps, epsilon 1 x 0.99975 per episode
down to 0.001), on ``Blob-v0`` with part 6's rules (9 actions with the random-axis quirk, distinct
starts). ``--implementation fast`` (default) is :class:`~reproduce.originals.blob_dqn.FastBlobDQN`
(numpy + numba, the same draws and, to float32 rounding, the same weights as the tf-keras loop,
tested); ``reference`` is that tf-keras loop.

The tutorial's 20,000 episodes are a day on 2 cores (``bench/blob_dqn.py`` measures the step cost):
``reproduce all`` runs the first :data:`SUITE_EPISODES` episodes, and
``reproduce run blob-dqn`` (default ``--episodes 20000``) the full budget, checkpointing every
``--checkpoint-every`` episodes (replay memory included) so that ``reproduce run blob-dqn --resume
RUN_DIR`` continues an interrupted run exactly where its last checkpoint left it.

Scored against the exact optimum of the same env (value iteration over the 10^6 positions, 9 actions,
random moves included, part 6's start distribution): greedy test episodes after training.
Outputs: ``stats.csv`` (the tutorial's TensorBoard scalars every 50 episodes: reward avg/min/max and
epsilon), ``episode_log.csv`` (reward, length, epsilon per episode), ``eval.csv``, ``checkpoints/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Column, Experiment, Report, RunContext, Source
from reproduce.options import POSITIVE, option
from reproduce.runs import RunDir

NAME = "blob-dqn"
SUITE_EPISODES = 45  # reproduce/suite.py: 2 seeds, 102 process-s in all (bench/results/blob_dqn.txt)
STATS = RunDir.STATS
EPISODE_LOG = RunDir.EPISODE_LOG
KEEP_CHECKPOINTS = 2
SOURCE = Source(
    "Deep Q Learning w/ DQN, Reinforcement Learning w/ Python parts 5-6 (copies: "
    "ClockWorkKid/Reinforcement-Learning-Sentdex blob.py and dqnAgent_tf1.py, "
    "KooroshMoslemi/Blob-RL BlobEnv.py)",
    "sentdex (pythonprogramming.net)",
    "https://pythonprogramming.net/training-deep-q-learning-dqn-reinforcement-learning-python-tutorial/",
)
COLUMNS = (
    Column("episodes", "episodes", 0),
    Column("training reward, last 50 episodes", "last_stats_avg", 1),
    Column("epsilon at the end", "final_epsilon", 3),
)
NOTES = (
    "Blob-v0 with part 6's rules (9 actions, random-axis quirk, distinct starts, image observations): "
    "'greedy return' is the mean of greedy test episodes after training, the optimum the best achievable "
    "expected return of the same env over its starts (exact value iteration over the full positions). "
    "`reproduce all` trains the first episodes of the tutorial's 20,000 only: far from the learning the "
    "tutorial shows; the full budget is `reproduce run blob-dqn` (checkpointed, resumable)."
)
DIFFERENCES = (
    "dropout masks are drawn by numpy (their own generator) and fed to the Dropout layers, where Keras draws "
    "them inside TensorFlow: the readable tf-keras loop and the fast numpy path make the same draws",
    "initial weights are numpy's glorot-uniform (Keras's distribution); random.sample, epsilon tests and "
    "random actions come from seeded generators; the env's starts and random moves from Blob-v0's np_random",
    "the fast path (default) is numpy/numba: the same float32 arithmetic up to summation order (weights "
    "within 1e-5 of tf-keras over 70 training steps, tested; later, a near-tie that rounding decides "
    "differently sets the runs drifting apart); --implementation reference runs tf-keras's predict/fit",
    "the ModifiedTensorBoard scalars (avg/min/max reward, epsilon every 50 episodes) are written "
    "to stats.csv; "
    "models are checkpointed every --checkpoint-every episodes instead of saved when min reward >= -200",
    f"`reproduce all` runs the first {SUITE_EPISODES} of the 20,000 episodes (the full run is hours on 2 "
    "cores)",
    "the copies disagree: ClockWorkKid's loop decays epsilon and logs stats every step (an indentation slip) "
    "and runs 10,000 episodes; some copies use MIN_REPLAY_MEMORY_SIZE 10,000 and DISCOUNT 0.9; "
    "KooroshMoslemi "
    "changes the rewards to 100/100/1; the tutorial's values are kept (20,000 episodes, 1,000, "
    "0.99, -300/+25/-1)",
)


@dataclass(frozen=True)
class Config:
    """The tutorial's run (``main_tf1.py``)."""

    episodes: int = option(
        20_000, f"training episodes (the tutorial: 20,000; reproduce all: {SUITE_EPISODES})", check=POSITIVE
    )
    eval_episodes: int = option(100, "greedy test episodes after training", check=POSITIVE)
    checkpoint_every: int = option(
        500, "episodes between checkpoints (replay memory included)", check=POSITIVE
    )
    implementation: str = option(
        "fast", "fast (numpy + numba) or reference (tf-keras, as published)", choices=("fast", "reference")
    )
    seed: int = 0
    """seeds the env, the agent's draws, random.sample, the dropout masks and the initial weights"""


def _checkpoint(run_path: Path, agent) -> None:
    import shutil

    from callbacks.store import list_checkpoints, save_arrays_state
    state, arrays = agent.state()
    directory = run_path / RunDir.CHECKPOINTS
    save_arrays_state(directory, step=agent.episode, arrays=arrays, state={"experiment": NAME, **state})
    for old in list_checkpoints(directory)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)


def _train(config: Config, run: RunContext, agent) -> dict:
    import numpy as np
    import pandas as pd

    from reproduce.envs import BLOB_ID
    from reproduce.envs.blob_solver import PART6_OPTIMUM
    from reproduce.evaluation import eval_seed
    from reproduce.originals import blob_dqn
    from reproduce.runs import write_csv

    if config.implementation == "fast":

        def on_episode(a):
            if a.episode % config.checkpoint_every == 0 and a.episode < config.episodes:
                _checkpoint(run.path, a)

        log = agent.run(config.episodes, on_episode=on_episode)
        _checkpoint(run.path, agent)
        weights = agent.net.w
    else:
        reference, log = blob_dqn.train_reference(config.seed, config.episodes)
        weights = reference.weights()
    write_csv(
        run.file(STATS),
        pd.DataFrame(log.stats, columns=["episode", "reward_avg", "reward_min", "reward_max", "epsilon"]),
    )
    write_csv(
        run.file(EPISODE_LOG),
        pd.DataFrame(
            {
                "episode": np.arange(1, len(log.episode_rewards) + 1),
                "reward": log.episode_rewards,
                "length": log.episode_lengths,
                "epsilon": log.epsilon,
            }
        ),
    )
    returns = blob_dqn.greedy_returns(weights, config.eval_episodes, eval_seed(config.seed))
    run.evaluate(returns, env_id=BLOB_ID)
    optimum = PART6_OPTIMUM  # blob_values(actions=9).expected(distinct=True), pinned and tested
    mean = float(np.mean(returns))
    last = log.stats[-1] if log.stats else (0, float("nan"), 0, 0, 1.0)
    return run.finish(
        printed=("eval_mean", "optimal_return", "train_steps", "wall_time_s"),
        episodes=len(log.episode_rewards),
        env_steps=int(np.sum(log.episode_lengths)),
        train_steps=log.train_steps,
        train_time_s=log.seconds,
        implementation=config.implementation,
        mean_return=mean,
        optimal_return=optimum,
        regret=optimum - mean,
        last_stats_avg=float(last[1]),
        final_epsilon=float(log.epsilon[-1]),
        ms_per_train_step=1000 * log.seconds / max(log.train_steps, 1),
    )


def run(config: Config, run_dir: Path) -> dict:
    from reproduce.originals import blob_dqn

    run = RunContext(NAME, config, run_dir)
    agent = blob_dqn.FastBlobDQN(config.seed) if config.implementation == "fast" else None
    return _train(config, run, agent)


def resume(run_dir: Path) -> dict:
    """Continue a fast run from its newest good checkpoint (weights, Adam, target, replay, generators)."""
    import dataclasses

    from callbacks.store import load_arrays_state
    from reproduce.errors import ConfigError
    from reproduce.originals import blob_dqn

    saved = RunDir(run_dir).read_config()
    config = Config(**{f.name: saved[f.name] for f in dataclasses.fields(Config) if f.name in saved})
    if config.implementation != "fast":
        raise ConfigError("only --implementation fast checkpoints; rerun the reference without --resume")
    state, arrays = load_arrays_state(Path(run_dir))
    run = RunContext(NAME, config, run_dir, resume=True)
    agent = blob_dqn.FastBlobDQN.restore(state, arrays)
    return _train(config, run, agent)


def rows(run) -> list[dict]:
    s = run.summary
    return [
        {
            "agent": f"DQN on images (part 6), {s.get('episodes')} of 20,000 episodes"
            + ("" if s.get("implementation", "fast") == "fast" else ", tf-keras reference"),
            "mean_return": s.get("mean_return"),
            "optimal_return": s.get("optimal_return"),
            "regret": s.get("regret"),
            "episodes": s.get("episodes"),
            "last_stats_avg": s.get("last_stats_avg"),
            "final_epsilon": s.get("final_epsilon"),
            "env_steps": s.get("env_steps"),
            "wall_time_s": s.get("wall_time_s"),
            "eval_mean": s.get("eval_mean"),
            "eval_episodes": s.get("eval_episodes"),
        }
    ]


def stats_figure(runs, out: Path):
    """The tutorial's TensorBoard view: reward avg/min/max over the last 50 episodes, and the optimum."""
    import numpy as np

    from reproduce import figures as fig_

    mine = [r for r in runs if r.experiment == NAME and EPISODE_LOG in r.files]
    if not mine:
        return []
    n = min(len(r.files[EPISODE_LOG]) for r in mine)
    window = min(50, n)
    data = np.stack([fig_.moving_average(r.files[EPISODE_LOG].reward.to_numpy()[:n], window) for r in mine])
    plt = fig_.plt()
    fig, ax = plt.subplots(figsize=fig_.SIZE)
    fig_.band(ax, np.arange(1, n + 1), data, f"training reward, mean of the last {window} episodes")
    optimum = mine[0].summary.get("optimal_return")
    if optimum is not None:
        ax.axhline(optimum, color="k", ls="--", lw=1, label=f"optimum (exact): {optimum:.1f}")
    greedy = [r.summary.get("eval_mean") for r in mine if r.summary.get("eval_mean") is not None]
    if greedy:
        ax.axhline(
            float(np.mean(greedy)),
            color="C3",
            ls=":",
            lw=1.2,
            label=f"greedy after training: {np.mean(greedy):.1f}",
        )
    fig_.label(ax, "episode", "reward", f"Blob world, image DQN (part 6): first {n} episodes", outside=True)
    caption = (
        f"sentdex part 6's training reward (the avg scalar of its TensorBoard log, over the last {window} "
        f"episodes) for the first {n} of the tutorial's 20,000 episodes, {fig_.band_caption(len(mine))}; "
        f"epsilon is still {mine[0].summary.get('final_epsilon', 1):.3f} at the end, so the agent has "
        f"barely begun to act on what it learned."
    )
    return [(fig_.save(fig, out / "blob_dqn_training.png"), caption)]


EXPERIMENT = Experiment(
    NAME,
    "sentdex parts 5-6: image DQN on the Blob world (numpy/numba, matched to tf-keras), checkpointed",
    Config,
    run,
    Report(
        "Blob image DQN",
        table="optimum",
        columns=COLUMNS,
        notes=NOTES,
        rows=rows,
        figures=(stats_figure,),
        source=SOURCE,
    ),
    resume=resume,
    differences=DIFFERENCES,
)
