"""``pong-gj-dqn``: garethjns's DQN on Pong (reinforcement-learning-keras, b1e4334), optional.

``PongNoFrameskip-v4`` (ale-py) with the published wrappers (max over the last 2 of 4 repeated frames,
grey 84 x 84, FIRE after reset, frame difference), Conv 32-64-64 + Dense 512, Adam 0.000105, ``mse``,
replay 10,000 (training every step once full, batch 32), eps 1.1 - 1e-5 per step down to 0.01, the
target copied after every episode, targets not discounted (as the code ran; ``--no-quirks``: gamma
0.99), 600 episodes of at most 10,000 steps (one of the published figure's repetitions per seed).
:class:`reproduce.originals.garethjns_pong.PongDQN` runs it with tf-keras.

Not in ``reproduce all``: one seed is about 14 hours on 2 cores (``bench/pong.py``, 56 ms per training
step). Needs the pong extra (``pip install -e '.[pong]'``, ale-py with its ROMs). Checkpoints every
``--checkpoint-every`` episodes (replay buffer, Adam, generators, emulator; 347 MB each, the last 2
kept), so ``reproduce run pong-gj-dqn --resume RUN_DIR`` continues an interrupted run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reproduce.contract import Experiment, Report, RunContext
from reproduce.errors import ConfigError
from reproduce.options import POSITIVE, option
from reproduce.originals.garethjns_source import source
from reproduce.runs import RunDir

NAME = "pong-gj-dqn"
COMMIT = "b1e4334"
# images/DQNAgentPong.png at b1e4334 ("DQN Pong", 600 episodes): its mean-score line read off the
# figure's pixels (the blue line's mean height over +-12 episodes around each point).
PUBLISHED = {50: -20.3, 100: -13.5, 150: -2.1, 200: 10.4, 250: 14.9, 300: 17.6, 400: 17.3, 500: 18.4,
             600: 18.8}
WINDOW = 30  # 5% of 600 episodes, upstream's moving-average window
SCORE_RANGE = (-21.0, 21.0)
KEEP_CHECKPOINTS = 2


@dataclass(frozen=True)
class Config:
    """The published run: 600 episodes of at most 10,000 agent steps."""

    episodes: int = option(600, "training episodes (the published figure: 600)", check=POSITIVE)
    quirks: bool = option(
        True, "targets not discounted, untaken actions' targets from the target model, as published; "
        "false: gamma 0.99 and the action model's own values",
    )
    target_every: int = option(
        1, "episodes between target copies (experiment_dqns_pong.py: 1; run_dqn_pong.py: 6)", check=POSITIVE
    )
    checkpoint_every: int = option(
        10, "episodes between checkpoints (replay buffer included, about 0.35 GB each)", check=POSITIVE
    )
    eval_episodes: int = option(
        1, "greedy test episodes after training (Pong without sticky actions is deterministic: all the same)",
        check=POSITIVE,
    )
    seed: int = 0
    """seeds the epsilon, action and replay draws and the initial weights (the emulator draws nothing)"""


def check(config: Config) -> None:
    import importlib.util

    if importlib.util.find_spec("ale_py") is None:
        raise ConfigError(
            "pong-gj-dqn needs ale-py (the Atari emulator and ROMs), which is not installed; "
            "install it with: pip install -e '.[pong]'"
        )


def _write_episodes(run: RunContext, log) -> None:
    """``episodes.csv`` from the agent's own log (rewritten whole, so a resume never duplicates rows)."""
    from callbacks.monitor import MonitorWriter
    from reproduce.envs.pong import PONG_ID

    with MonitorWriter(run.file(RunDir.EPISODES), ("episode",), {"env_id": PONG_ID}) as out:
        for i, (r, n, t) in enumerate(zip(log.returns, log.lengths, log.times)):
            out.write(float(r), int(n), t=round(float(t), 3), episode=i + 1)


def _checkpoint(run: RunContext, agent) -> None:
    import shutil

    from callbacks.store import list_checkpoints, save_arrays_state

    state, arrays = agent.state()
    directory = run.path / RunDir.CHECKPOINTS
    save_arrays_state(directory, step=agent.steps, arrays=arrays, state={"experiment": NAME, **state})
    for old in list_checkpoints(directory)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)
    _write_episodes(run, agent.log)


def _train(config: Config, run: RunContext, agent) -> dict:
    import numpy as np

    from reproduce.envs.pong import PONG_ID
    from reproduce.originals.garethjns_pong import greedy_returns

    def on_episode(a):
        if a.episode % config.checkpoint_every == 0 and a.episode < config.episodes:
            _checkpoint(run, a)

    log = agent.run(config.episodes, on_episode)
    _checkpoint(run, agent)
    returns, lengths = greedy_returns(agent, config.eval_episodes)
    run.evaluate(returns, lengths, PONG_ID)
    train = np.array(log.returns, float)
    return run.finish(
        printed=("eval_mean", "final_100_mean", "env_steps", "wall_time_s"),
        episodes=len(train),
        env_steps=int(np.sum(log.lengths)),
        train_steps=log.train_steps,
        train_time_s=log.seconds,
        ms_per_step=1000 * log.seconds / max(agent.steps, 1),
        final_100_mean=float(train[-100:].mean()),
        mean_from_300=float(train[299:].mean()) if len(train) >= 300 else None,
        final_epsilon=float(agent.eps),
        quirks=bool(config.quirks),
    )


def run(config: Config, run_dir: Path) -> dict:
    from reproduce.originals.garethjns_pong import PongDQN, Settings

    ctx = RunContext(NAME, config, run_dir)
    agent = PongDQN(config.seed, Settings(target_every=config.target_every), quirks=config.quirks)
    return _train(config, ctx, agent)


def resume(run_dir: Path) -> dict:
    """Continue from the newest good checkpoint (weights, Adam, replay buffer, generators, emulator)."""
    import dataclasses

    from callbacks.store import load_arrays_state
    from reproduce.originals.garethjns_pong import PongDQN

    saved = RunDir(run_dir).read_config()
    config = Config(**{f.name: saved[f.name] for f in dataclasses.fields(Config) if f.name in saved})
    check(config)
    state, arrays = load_arrays_state(Path(run_dir))
    ctx = RunContext(NAME, config, run_dir, resume=True)
    return _train(config, ctx, PongDQN.restore(state, arrays))


def _published(runs) -> list[dict]:
    from reproduce.originals.garethjns_report import curve_verdicts

    return curve_verdicts(runs, NAME, "DQN on Pong mean score", PUBLISHED, WINDOW, score_range=SCORE_RANGE)


def _figure(runs, out_dir):
    from reproduce.originals.garethjns_report import figure

    return figure(NAME, "garethjns DQN on Pong", PUBLISHED, 3, clip_band=False)(runs, out_dir)


EXPERIMENT = Experiment(
    NAME,
    "garethjns's DQN on Pong (ale-py; conv 32-64-64 + 512, replay 10k, batch 32), 600 episodes; "
    "needs the pong extra, about 14 h per seed",
    Config,
    run,
    Report(
        "DQN on Pong (reinforcement-learning-keras)",
        table="return",
        published=_published,
        figures=(_figure,),
        source=source("enviroments/atari/pong/pong_config.py", COMMIT),
        notes="PongNoFrameskip-v4 with the published wrappers; the training return per episode is the "
        "published score (the figure's mean line, read off its pixels); without sticky actions the "
        "emulator is deterministic, so every greedy test episode of one agent is the same.",
    ),
    resume=resume,
    check=check,
    differences=(
        "ale-py 0.12's PongNoFrameskip-v4 where upstream had gym's (atari-py): the same ROM and settings "
        "(frameskip 1, no sticky actions, 6 actions); ale-py's cap of 108,000 frames lies beyond the "
        "loop's 10,000 agent steps (40,000 frames)",
        "gymnasium wrappers written from the published ones; OpenCV's area resize is done in numpy (the same "
        "weights and summation order, bit-identical where tested), so OpenCV is not needed",
        "seeded streams (epsilon draws, random actions, replay indices, TensorFlow's initial weights) where "
        "upstream seeded nothing; Adam is tf-keras's legacy class (the same update)",
        "the figure's repetitions ran in parallel processes upstream; here one seed is one repetition",
        "checkpoints every --checkpoint-every episodes (upstream pickled the agent on request only)",
    ),
)
