"""keras-rl callbacks for DQN runs: a progress bar and stop-once-solved checks.

The episode log and checkpoints are the package's own callbacks (``callbacks.training_callbacks``);
checks evaluate through the one greedy evaluator (:mod:`reproduce.evaluation`), batched, so
periodic checks stay cheap.
"""

from __future__ import annotations

import time

import numpy as np
from rl.callbacks import Callback

from reproduce.evaluation import keras_rl_episodes, solve_check


class StopTraining(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a callback to end training early (solved). Its own exception, never a
    ``KeyboardInterrupt``, so an early stop and a Ctrl-C cannot be mistaken for each other; the runner
    (:func:`reproduce.kerasrl.run.fit`) catches it and runs the callbacks' ``on_train_end``."""


class Progress(Callback):
    """A tqdm bar over training steps showing the last episode's reward."""

    def __init__(self, total: int, desc: str):
        super().__init__()
        self.total, self.desc = total, desc
        self.bar = None

    def on_train_begin(self, logs=None):
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, desc=self.desc, unit="step", mininterval=1.0, leave=False)

    def on_step_end(self, step, logs=None):
        self.bar.update(1)

    def on_episode_end(self, episode, logs=None):
        self.bar.set_postfix(episode=int(episode), r=float(logs["episode_reward"]), refresh=False)

    def on_train_end(self, logs=None):
        self.bar.close()


class SolveCheck(Callback):
    """Every ``every`` steps, a cheap greedy check, recorded as one row of the run's learning curve.

    With a ``threshold`` and a passing check, ``confirm`` more episodes decide: solved means their
    mean >= ``threshold``. The first solve is recorded (``solved_at``, its confirm episodes in
    ``solve_eval``) and ``on_solve(steps)`` is called (the runner saves that agent's checkpoint there);
    with ``stop``, training ends (``StopTraining``) and the solving agent is the final one; without,
    the checks go on to the end of training, so the learning curve is real. Each check appends
    ``step, r_mean, r_min, r_max, episodes`` to ``curve_path`` (flushed; on resume, rows past the
    resumed step are dropped first).
    """

    COLUMNS = ("step", "r_mean", "r_min", "r_max", "episodes")

    def __init__(self, env_id, threshold, every, check_episodes, confirm, seed, t0, stop=True,
                 curve_path=None, resumed_step=0, on_solve=None):
        super().__init__()
        self.env_id, self.threshold, self.every = env_id, threshold, every
        self.check_episodes, self.confirm, self.seed = check_episodes, confirm, seed
        self.t0, self.stop = t0, stop
        self.solved_at = None  # (steps, seconds since t0) of the first solve
        self.solve_eval = None  # its confirm episodes
        self.on_solve = on_solve
        self.checks = 0
        self.curve_path = curve_path
        if curve_path is not None:
            self._start_curve(resumed_step)

    def _start_curve(self, resumed_step: int) -> None:
        import pandas as pd

        from reproduce.runs import write_csv

        old = pd.read_csv(self.curve_path) if resumed_step and self.curve_path.exists() else None
        kept = old[old.step <= resumed_step] if old is not None else pd.DataFrame(columns=self.COLUMNS)
        write_csv(self.curve_path, kept)
        self.checks = len(kept)  # the checks before a resume count too

    def on_step_end(self, step, logs=None):
        steps = int(self.model.step) + 1
        if steps % self.every:
            return
        self.checks += 1
        threshold = self.threshold if self.solved_at is None else None  # after the first solve: the curve
        quick, full = solve_check(lambda n, seed: keras_rl_episodes(self.model, self.env_id, n, seed),
                                  self.check_episodes, self.confirm, self.seed, threshold)
        if self.curve_path is not None:
            with open(self.curve_path, "a") as handle:
                handle.write(f"{steps},{float(np.mean(quick))!r},{min(quick)!r},{max(quick)!r},{len(quick)}\n")
        if full is not None:
            self.solve_eval = full
            self.solved_at = (steps, time.perf_counter() - self.t0)
            if self.on_solve is not None:
                self.on_solve(steps)
        self.model.training = True
        if self.solved_at is not None and self.stop:
            raise StopTraining


def solve_snapshot(directory, main, config: dict, manifest: dict, resume=None):
    """A :class:`callbacks.Checkpoint` that saves once, when asked (``request(steps)``: the first solve),
    into its own directory, so retention of the periodic checkpoints never removes it. It shares the run's
    main checkpoint's tracker and observation tap (list it after ``main``)."""
    from callbacks import Checkpoint

    class SolveSnapshot(Checkpoint):
        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            self._tap.remove()  # one tap per env: the main checkpoint's
            self._tap = main._tap

        def on_train_end(self, logs=None):
            pass  # nothing to save at the end; the main checkpoint removes the tap

        def request(self, steps: int) -> None:
            self._pending = steps  # saved as the next step begins, when agent.step == steps

    return SolveSnapshot(directory, save_at_end=False, config=config, manifest=manifest, resume=resume,
                         tracker=main.tracker)
