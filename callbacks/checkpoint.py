"""``Checkpoint``: a keras-rl callback that saves the full training state on a schedule.

Every ``every_steps`` global steps (and/or every ``every_episodes`` episodes) and at train
end it writes ``DIR/ckpt_{step:09d}_steps`` (see :mod:`callbacks.store`) with everything a
resume needs to continue bit-for-bit: the agent's state parts for its type (see
:mod:`callbacks.parts`: weights, optimizers, memory, exploration noise, CEM's search state,
SARSA's window), its step, the episode count and the episode in progress (from the shared
:class:`callbacks.episode.EpisodeTracker`), RNG states, and the env's state and last
observation. It keeps the last ``keep_last`` checkpoints plus the best one by
``keep_best_by`` (the metric of the last finished episode at save time).

A save due at step N happens once step N is fully done: at the next step's start, or after
keras-rl's end-of-episode bookkeeping when step N ends an episode. A save that fails (disk
full) leaves nothing partial and raises a one-line :class:`callbacks.store.CheckpointWriteError`.
"""

# ruff: noqa: I001  (`reproduce` must be imported before `rl`: it applies the compat fixes)
from __future__ import annotations

import json
import shutil
from pathlib import Path

import reproduce.compat  # noqa: F401  (keras-rl2 compat fixes before rl is imported)
from callbacks import agent_state
from callbacks.episode import EpisodeReader
from callbacks.parts import agent_type
from callbacks.store import (
    MARKER,
    CheckpointWriteError,
    list_checkpoints,
    remove_stale_temps,
    step_of,
    write_checkpoint,
)
from callbacks.files import to_jsonable

BEST_METRICS = ("episode_reward", "episode_length", "loss", "mean_q", "eps")


def _positive_or_none(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Checkpoint {name} must be a positive integer or None, got {value!r}")
    return value


class ObservationTap:
    """Remembers the env's last raw observation (keras-rl's ``fit`` keeps it in a local variable).

    Installed on the env object for the duration of ``fit`` (instance attributes shadowing
    ``step``/``reset``), removed at train end.
    """

    def __init__(self, env):
        self.env = env
        self.observation = None
        self._shadowed = {}

    def install(self):
        for name in ("step", "reset"):
            self._shadowed[name] = vars(self.env).get(name)
        original_step, original_reset = self.env.step, self.env.reset

        def step(action):
            result = original_step(action)
            self.observation = result[0]
            return result

        def reset(*args, **kwargs):
            self.observation = original_reset(*args, **kwargs)
            return self.observation

        self.env.step, self.env.reset = step, reset
        return self

    def remove(self):
        for name, previous in self._shadowed.items():
            if previous is None:
                vars(self.env).pop(name, None)
            else:
                setattr(self.env, name, previous)
        self._shadowed = {}


class Checkpoint(EpisodeReader):
    """Save the full agent state every N steps/episodes and at train end; keep the last K + best.

    Works with every agent type in :data:`callbacks.parts.AGENT_PARTS` (others are refused at
    train begin with :class:`callbacks.store.UnsupportedAgentError`). ``resume`` is the
    :class:`callbacks.resume.ResumeState` of a resumed run; ``tracker`` the shared
    :class:`callbacks.episode.EpisodeTracker` (episode numbering, the episode in progress,
    the last finished episode's metrics). ``config`` and ``manifest`` are stored as JSON.
    A save that fails (disk full) raises a one-line :class:`callbacks.store.CheckpointWriteError`
    ending with ``resume_hint`` (default: ``resume with --resume <run directory>``).
    """

    def __init__(self, directory, every_steps: int | None = None, every_episodes: int | None = None,
                 keep_last: int | None = None, keep_best_by: str | None = None, best_mode: str = "max",
                 save_memory: bool = False, save_at_end: bool = True, config=None, manifest=None,
                 resume=None, tracker=None, resume_hint: str | None = None):
        super().__init__(tracker=tracker, resume=resume)
        self.directory = Path(directory)
        self.every_steps = _positive_or_none("every_steps", every_steps)
        self.every_episodes = _positive_or_none("every_episodes", every_episodes)
        self.keep_last = _positive_or_none("keep_last", keep_last)
        if keep_best_by is not None and keep_best_by not in BEST_METRICS:
            raise ValueError(
                f"Checkpoint keep_best_by must be one of {BEST_METRICS} or None, got {keep_best_by!r}"
            )
        if best_mode not in ("max", "min"):
            raise ValueError(f"Checkpoint best_mode must be 'max' or 'min', got {best_mode!r}")
        self.keep_best_by, self.best_mode = keep_best_by, best_mode
        self.save_memory, self.save_at_end = bool(save_memory), bool(save_at_end)
        self.config, self.manifest = to_jsonable(config), to_jsonable(manifest)
        self.resume = resume
        self.resume_hint = resume_hint
        self.saved: list[Path] = []

    # ------------------------------------------------------------ keras-rl hooks
    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        agent_type(self.model)  # an agent type without a parts table fails now, not at the first save
        self.directory.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.directory)
        self._last_saved_step = self.resume.step if self.resume else None
        self._pending = None
        self._tap = ObservationTap(self.env).install()

    def on_step_begin(self, step, logs=None):
        if self._pending is not None:
            self._save()

    def on_step_end(self, step, logs=None):
        super().on_step_end(step, logs)
        done = int(self.model.step) + 1  # keras-rl increments agent.step right after this hook
        if self.every_steps and done % self.every_steps == 0:
            self._pending = done

    def on_episode_end(self, episode, logs=None):
        super().on_episode_end(episode, logs)
        finished = self.tracker.episode
        if self._pending is not None or (self.every_episodes and finished % self.every_episodes == 0):
            self._save()

    def on_train_end(self, logs=None):
        try:
            if self.save_at_end and int(self.model.step) != self._last_saved_step:
                self._save()
        finally:
            self._tap.remove()

    # ------------------------------------------------------------ saving
    def _save(self) -> Path:
        agent, tracker = self.model, self.tracker
        step = int(agent.step)
        mid_episode = tracker.stats.steps > 0
        state, arrays = agent_state.capture_agent(agent, save_memory=self.save_memory)
        rng_state, rng_arrays = agent_state.capture_rng()
        observation = self._tap.observation if mid_episode else None
        env_state, env_arrays = agent_state.capture_env(self.env, observation)
        arrays.update(rng_arrays)
        arrays.update(env_arrays)
        metric = tracker.last.get(self.keep_best_by) if self.keep_best_by else None
        state.update(
            episode=tracker.episode,
            episode_in_progress=tracker.stats.to_json() if mid_episode else None,
            last_episode=to_jsonable(tracker.last),
            metric={"name": self.keep_best_by, "mode": self.best_mode, "value": metric},
            rng=rng_state, env=env_state, config=self.config, manifest=self.manifest,
        )
        self._pending = None  # a failed save is not retried at every step
        try:
            path = write_checkpoint(self.directory, step, state, arrays, resume_hint=self.resume_hint)
        except CheckpointWriteError:
            self._tap.remove()  # the error ends fit, which then skips on_train_end
            raise
        self.saved.append(path)
        self._last_saved_step = step
        self._retain()
        return path

    def _retain(self):
        if self.keep_last is None:
            return
        existing = list_checkpoints(self.directory)
        keep = set(existing[-self.keep_last:])
        best = best_checkpoint(self.directory) if self.keep_best_by else None
        if best is not None:
            keep.add(best)
        for path in existing:
            if path not in keep:
                shutil.rmtree(path, ignore_errors=True)


def best_checkpoint(directory) -> Path | None:
    """The checkpoint whose recorded metric is best (earliest on ties); None if none has one."""
    best, best_value = None, None
    for path in list_checkpoints(directory):
        try:  # the metric only: state.json of a checkpoint whose save finished
            if not (path / MARKER).is_file():
                continue
            state = json.loads((path / "state.json").read_text())
        except (OSError, ValueError):
            continue
        metric = state.get("metric") or {}
        value = metric.get("value")
        if value is None or value != value:  # None or NaN
            continue
        better = best_value is None or (value > best_value if metric.get("mode", "max") == "max"
                                        else value < best_value)
        if better:
            best, best_value = path, value
    return best


__all__ = ["Checkpoint", "ObservationTap", "best_checkpoint", "step_of"]
