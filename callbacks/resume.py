"""Resume a keras-rl run from its newest good checkpoint, exactly where it stopped.

keras-rl2's ``fit`` restarts ``agent.step`` and its episode counter at 0 on every call and
resets the env. The agent-side support is one callback, :class:`ResumeCallback`, put first
in ``fit``'s callback list: at the first ``on_episode_begin`` (before any step; ``fit`` has
already zeroed its counter) it sets ``agent.step`` to the checkpoint's step, puts the RNGs and
the env's state back and, if the checkpoint was taken mid-episode, makes the next
``env.reset()`` return the saved observation instead of resetting (and put back what ``fit``'s
``agent.reset_states()`` just cleared: SARSA's window, the noise process, the RNGs), so the
interrupted episode continues. ``fit(nb_steps=TOTAL)`` then runs exactly the remaining steps.
This holds for every agent type in :data:`callbacks.parts.AGENT_PARTS`.

Typical use (the DQN experiments' ``--resume RUN_DIR``)::

    state = resume_from(run_dir, agent, env)          # agent built + compiled from state.config
    agent.fit(env, nb_steps=TOTAL, callbacks=training_callbacks(run_dir, resume=state, ...))

An env whose state the checkpoint could not hold (an env of your own with attributes that are
not numbers, strings, arrays or RNGs, and no ``get_state``/``set_state``) cannot continue an
interrupted episode: the resumed run starts a new one and says so once.

Limitation: keras-rl's ``nb_max_episode_steps`` counts in a local variable that restarts on
resume; cap episodes with gymnasium's ``TimeLimit`` (``max_episode_steps``) instead.
"""

# ruff: noqa: I001  (`reproduce` must be imported before `rl`: it applies the compat fixes)
from __future__ import annotations

import dataclasses
import shutil
import warnings
from pathlib import Path

import reproduce.compat  # noqa: F401  (keras-rl2 compat fixes before rl is imported)
from callbacks import agent_state
from callbacks.store import CheckpointError, newest_complete, newest_good, read_checkpoint, step_of
from rl.callbacks import Callback


@dataclasses.dataclass
class ResumeState:
    """What a resumed run continues from."""

    path: Path
    state: dict
    arrays: dict

    @property
    def step(self) -> int:
        return int(self.state["step"])

    @property
    def episode(self) -> int:
        """Episodes finished before the checkpoint (the next episode's index)."""
        return int(self.state["episode"])

    @property
    def episode_in_progress(self) -> dict | None:
        """The interrupted episode, or None when there was none or the env cannot continue it."""
        if not agent_state.env_restorable(self.state.get("env") or {}):
            return None
        return self.state.get("episode_in_progress")

    @property
    def config(self):
        return self.state.get("config")

    @property
    def manifest(self):
        return self.state.get("manifest")

    def callback(self) -> ResumeCallback:
        return ResumeCallback(self)


def load_checkpoint(path) -> tuple[Path, dict, dict]:
    """Read a checkpoint: ``path`` is a checkpoint directory (used as given, errors raise) or
    a run directory / checkpoints folder (newest good one, falling back with a warning)."""
    path = Path(path)
    if path.is_file() and step_of(path.parent) is not None:
        path = path.parent
    if step_of(path) is not None or not path.is_dir():
        state, arrays = read_checkpoint(path)
        return path, state, arrays
    return newest_good(path)


def resume_from(path, agent, env) -> ResumeState:
    """Load the newest good checkpoint under ``path`` into a compiled ``agent`` for ``env``.

    Weights, optimizer and memory are loaded now; the step, RNGs and env state are put back
    by ``state.callback()`` when ``fit`` starts (pass it first in the callback list).
    Raises a :class:`callbacks.store.CheckpointError` subclass when nothing usable is found
    or the checkpoint belongs to another env or model shape.
    """
    ckpt, state, arrays = load_checkpoint(path)
    agent_state.check_env(state["env"], env)  # before anything is changed
    missing = agent_state.missing_memory(agent, state)
    if missing:
        raise CheckpointError(f"cannot resume from {ckpt}: {missing}; save checkpoints with "
                              f"training_callbacks(run_dir) (save_memory=True, the default) to resume")
    agent_state.restore_agent(agent, state, arrays)
    if state.get("episode_in_progress") and not agent_state.env_restorable(state["env"]):
        names = ", ".join(state["env"].get("unrestorable", [])[:3])
        warnings.warn(f"resume: the env's state cannot be restored ({names} not saved; give the env "
                      f"get_state()/set_state()), so the interrupted episode restarts as a new one",
                      UserWarning, stacklevel=2)
    return ResumeState(path=ckpt, state=state, arrays=arrays)


class ResumeCallback(Callback):
    """Continue ``fit`` from a checkpoint: step counter, RNGs, env state, episode in progress."""

    def __init__(self, resume: ResumeState):
        super().__init__()
        self.resume = resume
        self._done = False

    def on_train_begin(self, logs=None):
        self._done = False

    def on_episode_begin(self, episode, logs=None):
        if self._done:
            return
        self._done = True
        state, arrays = self.resume.state, self.resume.arrays
        self.model.step = self.resume.step
        agent_state.restore_rng(state["rng"], arrays)
        agent_state.restore_env(self.env, state["env"], arrays)
        if self.resume.episode_in_progress:
            self._continue_episode(agent_state.saved_observation(arrays))

    def _continue_episode(self, observation):
        """The next ``env.reset()`` returns ``observation`` and leaves the env as restored.

        ``fit`` calls ``agent.reset_states()`` between this hook and that reset, which clears
        per-episode agent state (SARSA's window, the noise process's last value) and may draw
        from numpy's RNG (DDPG/NAF reset their noise): the reset puts both back.
        """
        env, agent, state, arrays = self.env, self.model, self.resume.state, self.resume.arrays
        shadowed = vars(env).get("reset")

        def reset(*args, **kwargs):
            if shadowed is None:
                vars(env).pop("reset", None)
            else:
                env.reset = shadowed
            agent_state.restore_rng(state["rng"], arrays)
            agent_state.continue_episode(agent, state, arrays)
            return observation

        env.reset = reset


class RunDirInUseError(CheckpointError):
    """The run directory holds another run's checkpoints, and neither resume nor overwrite was asked."""


def training_callbacks(run_dir, resume: ResumeState | None = None, every_steps: int | None = None,
                       every_episodes: int | None = None, keep_last: int | None = 3,
                       keep_best_by: str | None = "episode_reward", save_memory: bool = True,
                       config=None, manifest=None, tensorboard: bool = False,
                       resume_hint: str | None = None, save_at_end: bool = True,
                       overwrite: bool = False) -> list:
    """The standard callbacks of a run, in the order they must run.

    ``ResumeCallback`` (when resuming), one shared :class:`EpisodeTracker`, then its readers:
    ``RUN_DIR/episodes.csv`` (reward log), ``RUN_DIR/tensorboard/`` (with ``tensorboard=True``)
    and ``RUN_DIR/checkpoints/``. Checkpoints hold the full state, replay memory included, so a
    run resumes exactly (``save_memory=False`` makes them small, and not resumable past warm-up).
    A ``run_dir`` that already holds a run's checkpoints is refused (:class:`RunDirInUseError`)
    unless ``resume`` is given or ``overwrite=True`` (which deletes that run's checkpoints and
    TensorBoard files). ``resume_hint`` ends the message of a failed save (e.g.
    ``"reproduce run NAME --resume RUN_DIR"``).
    """
    from callbacks.checkpoint import Checkpoint
    from callbacks.episode import EpisodeTracker
    from callbacks.reward_logger import RewardLogger

    run_dir = Path(run_dir)
    _claim(run_dir, resume, overwrite, resume_hint)
    tracker = EpisodeTracker(resume=resume)
    callbacks = [resume.callback()] if resume is not None else []
    callbacks.append(tracker)
    callbacks.append(RewardLogger(run_dir / "episodes.csv", resume=resume, tracker=tracker))
    if tensorboard:
        from callbacks.tensorboard import TensorBoardLogger

        callbacks.append(TensorBoardLogger(run_dir / "tensorboard", resume=resume, tracker=tracker))
    callbacks.append(Checkpoint(run_dir / "checkpoints", every_steps=every_steps,
                                every_episodes=every_episodes, keep_last=keep_last,
                                keep_best_by=keep_best_by, save_memory=save_memory, save_at_end=save_at_end,
                                config=config, manifest=manifest, resume=resume, tracker=tracker,
                                resume_hint=resume_hint))
    return callbacks


def _claim(run_dir: Path, resume, overwrite: bool, resume_hint: str | None) -> None:
    """Refuse a run directory that holds another run, unless resuming it or overwriting it."""
    previous = newest_complete(run_dir / "checkpoints")
    if resume is not None or previous is None:
        return
    if not overwrite:
        how = resume_hint or "state = resume_from(run_dir, agent, env); training_callbacks(run_dir, state)"
        raise RunDirInUseError(f"{run_dir} holds another run (checkpoint at step {step_of(previous)}); "
                               f"resume it ({how}), pass overwrite=True to start over there, or use "
                               f"another directory")
    for name in ("checkpoints", "tensorboard"):
        shutil.rmtree(run_dir / name, ignore_errors=True)
