"""The experiment contract: what an experiment declares, the summary every run writes, and the one run
skeleton.

An experiment is one module under :mod:`reproduce.experiments` with an ``EXPERIMENT`` (an
:class:`Experiment`), plus one line in the registry. Everything the report shows about it (its table
family, extra columns, figures, published numbers, differences from the original and its source) is
declared here, on its :class:`Report`; :mod:`reproduce.report` only assembles what experiments declare.

This module imports neither the registry nor the report, and nothing heavy at module level, so
``reproduce list`` answers at once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reproduce.runs import RunDir, write_csv, write_json

TABLES = ("optimum", "solve", "return")
"""The report's table families: ``optimum`` (tasks with an exact solver: greedy return, regret against the
optimum, greedy policy, max |Q - Q*|), ``solve`` (episodic tasks with a reward threshold: solve rates,
steps to solve) and ``return`` (the greedy return alone)."""


@dataclass(frozen=True)
class Source:
    """The original an experiment reproduces, as a reader finds it."""

    title: str
    author: str
    url: str

    def markdown(self) -> str:
        if not self.url:
            return f"{self.title}, {self.author} (no public address known)"
        return f"[{self.title}]({self.url}), {self.author}"


@dataclass(frozen=True)
class Column:
    """An extra column an experiment adds to its table: ``label`` shows the mean over seeds of the rows'
    ``key`` (with its bootstrap interval), at ``digits``."""

    label: str
    key: str
    digits: int = 2


Figure = tuple[Path, str]  # a written PNG and its caption


@dataclass(frozen=True)
class Report:
    """What an experiment gives the report.

    ``agent`` labels its rows; ``table`` picks its table family (:data:`TABLES`) and ``columns`` adds
    its own columns there; ``notes`` is prose shown under that table (what the scores mean).
    ``rows(run) -> [dict]`` overrides the default one row per run (the summary's standard fields);
    ``published(runs) -> [dict]`` compares its runs with what the original published;
    ``figures`` are ``figure(runs, out_dir) -> [Figure]``, called with every run of the report (a
    figure picks its own, by experiment or env). ``source`` names the original.
    """

    agent: str
    table: str = "return"
    columns: tuple[Column, ...] = ()
    notes: str = ""
    rows: Callable[[Any], list[dict]] | None = None
    published: Callable[[list], list[dict]] | None = None
    figures: tuple[Callable[[list, Path], list[Figure]], ...] = ()
    source: Source | None = None

    def __post_init__(self):
        if self.table not in TABLES:
            raise ValueError(f"Report.table must be one of {TABLES}, got {self.table!r}")


@dataclass(frozen=True)
class Experiment:
    """One experiment: its name, options (``config``, a dataclass of :mod:`reproduce.options` fields)
    and what it can do.

    ``run(config, run_dir) -> dict`` trains and evaluates, writing the run directory, and returns
    the few numbers the CLI prints. Optional: ``resume(run_dir) -> dict`` continues a run from its
    newest good checkpoint; ``load_agent(config_dict)`` and ``make_env(config_dict)`` rebuild a
    checkpointed agent and its env for ``reproduce evaluate``; ``check(config)`` validates what
    spans several options (each option checks itself); ``differences`` lists, for the report,
    every way the run differs from the original it reproduces.
    """

    name: str
    summary: str
    config: type
    run: Callable[[Any, Path], dict]
    report: Report
    resume: Callable[[Path], dict] | None = None
    load_agent: Callable[[dict], Any] | None = None
    make_env: Callable[[dict], Any] | None = None
    check: Callable[[Any], None] | None = None
    differences: tuple[str, ...] = field(default=())

    def validate(self, config):
        """Every option's own check, then the experiment's; returns ``config``."""
        from reproduce import options

        options.validate(config)
        if self.check is not None:
            self.check(config)
        return config


@dataclass
class Summary:
    """``summary.json``: the standard fields the report reads, then the experiment's own (``extra``).

    Standard fields left ``None`` are not written, unless set (to ``None``: "not solved" writes
    ``"steps_to_solve": null``) through :meth:`update` or read back so. The report reads a summary back with
    :meth:`from_json`; ``summary["key"]`` and ``summary.get("key")`` reach standard and extra fields
    alike.
    """

    env_id: str | None = None
    eval_episodes: int | None = None
    eval_mean: float | None = None
    eval_ci_low: float | None = None
    eval_ci_high: float | None = None
    eval_min: float | None = None
    reward_threshold: float | None = None
    solved: bool | None = None
    steps_to_solve: int | None = None
    time_to_solve_s: float | None = None
    env_steps: int | None = None
    wall_time_s: float | None = None
    extra: dict = field(default_factory=dict)
    explicit: set = field(default_factory=set, repr=False, compare=False)
    """standard fields set to a value, ``None`` included, through :meth:`update`"""

    STANDARD = ()  # filled below: the standard field names, in order

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in Summary.STANDARD
               if getattr(self, k) is not None or k in self.explicit}
        return {**out, **self.extra}

    @classmethod
    def from_json(cls, data: dict) -> Summary:
        standard = {k: data[k] for k in cls.STANDARD if k in data}
        return cls(**standard, extra={k: v for k, v in data.items() if k not in cls.STANDARD},
                   explicit=set(standard))

    def get(self, key: str, default=None):
        if key in Summary.STANDARD:
            value = getattr(self, key)
            return default if value is None else value
        return self.extra.get(key, default)

    def __getitem__(self, key: str):
        if key in Summary.STANDARD and getattr(self, key) is not None:
            return getattr(self, key)
        return self.extra[key]

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None or key in self.extra

    def update(self, values: dict) -> Summary:
        """Set standard fields by name and everything else in ``extra``; returns ``self``."""
        for key, value in values.items():
            if key in Summary.STANDARD:
                setattr(self, key, value)
                self.explicit.add(key)
            else:
                self.extra[key] = value
        return self


Summary.STANDARD = tuple(f.name for f in dataclasses.fields(Summary) if f.name not in ("extra", "explicit"))


class RunContext:
    """The run skeleton every experiment shares: start the run directory, time the run, write the greedy
    evaluation with its interval and solve decision, write ``summary.json`` and mark the run complete.

    ``run = RunContext(name, config, run_dir)`` starts (or, with ``resume``, reopens) the directory
    and the clock; ``run.evaluate(returns, lengths, env_id)`` writes ``eval.csv`` and fills the
    summary's evaluation fields; ``run.finish(...)`` writes the summary and the manifest and returns
    the numbers the CLI prints.
    """

    PRINTED = ("eval_mean", "solved", "steps_to_solve", "time_to_solve_s", "wall_time_s")

    def __init__(self, experiment: str, config, run_dir, resume: bool = False, seed: int | None = None):
        self.dir = RunDir(run_dir, experiment, config, config.seed if seed is None else seed)
        self.dir.reopen() if resume else self.dir.start()
        self.summary = Summary()
        self.t0 = time.perf_counter()

    @property
    def path(self) -> Path:
        return self.dir.path

    def file(self, name: str) -> Path:
        """The path of a run-directory file: ``run.file(RunDir.EPISODES)``."""
        return self.dir.file(name)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def evaluate(self, returns: Sequence[float], lengths: Sequence[int] | None = None,
                 env_id: str | None = None, threshold: float | None = None, write: bool = True) -> Summary:
        """Greedy test episodes: ``eval.csv`` (episode, r, l), the mean with its t interval, the minimum,
        and ``solved`` (mean >= ``threshold``, by default the env's reward threshold, when it has one)."""
        import numpy as np
        import pandas as pd

        from reproduce.stats import mean_ci

        returns = [float(r) if not isinstance(r, (int, np.integer)) else r for r in returns]
        if write:
            frame = pd.DataFrame({"episode": range(len(returns)), "r": returns})
            if lengths is not None:
                frame["l"] = list(lengths)
            write_csv(self.dir.path / RunDir.EVAL, frame)
        mean, low, high = mean_ci(returns)
        if threshold is None and env_id is not None:
            import gymnasium as gym

            threshold = gym.spec(env_id).reward_threshold
        self.summary.update({"env_id": env_id, "eval_episodes": len(returns), "eval_mean": mean,
                             "eval_ci_low": low, "eval_ci_high": high})
        if threshold is not None:
            self.summary.reward_threshold = threshold
            self.summary.solved = bool(mean >= threshold)
        return self.summary

    def finish(self, printed: Sequence[str] | None = None, manifest: dict | None = None, **values) -> dict:
        """Write ``summary.json`` (``values`` added to the summary; ``wall_time_s`` defaults to the time
        since start) and mark the run complete (``manifest`` adds to its manifest); returns the printed
        numbers."""
        self.summary.update(values)
        if self.summary.wall_time_s is None:
            self.summary.wall_time_s = self.elapsed()
        write_json(self.dir.path / RunDir.SUMMARY, self.summary.to_json())
        self.dir.finish(wall_time_s=self.summary.wall_time_s, **(manifest or {}))
        return self.printed(printed)

    def printed(self, keys: Sequence[str] | None = None) -> dict:
        """The summary's ``keys`` (default :data:`PRINTED`) as the CLI prints them."""
        keys = self.PRINTED if keys is None else keys
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.summary.to_json().items()
                if k in keys}
