"""The per-episode reward log format: Stable-Baselines3 ``Monitor`` CSV, plus our columns.

First line ``#{json}`` (``t_start``, ``env_id`` and any metadata), then a header row
``r,l,t,<extra columns>``, then one flushed row per episode: ``r`` episode reward, ``l``
episode length, ``t`` seconds since ``t_start``. SB3's ``load_results`` and rl-zoo3's plot
scripts read these files unchanged. Every writer in the package (keras-rl callbacks,
tabular loops, the Keras Q-network) goes through :class:`MonitorWriter`.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import pandas as pd

BASE_COLUMNS = ("r", "l", "t")


class RewardLogError(ValueError):
    """A reward log is missing or not in the expected format."""


class MonitorWriter:
    """Append episode rows to a Monitor-format CSV, flushing each row.

    With ``append=True`` and an existing non-empty file, rows are added after the existing
    ones and no second header is written; the existing header must have the same columns.
    """

    def __init__(self, path, extra_columns=(), metadata: dict | None = None, append: bool = False):
        self.path = Path(path)
        self.columns = list(BASE_COLUMNS) + [c for c in extra_columns if c not in BASE_COLUMNS]
        self.metadata = dict(metadata or {})
        self.append = append
        self._file = None
        self._writer = None
        self.t_start = None

    def open(self) -> MonitorWriter:
        existing = self.append and self.path.exists() and self.path.stat().st_size > 0
        if existing:
            header = read_header(self.path)
            self.t_start = float(header.get("t_start", time.time()))
            with self.path.open(newline="") as handle:
                handle.readline()
                columns = next(csv.reader(handle), None)
            if columns != self.columns:
                raise RewardLogError(
                    f"cannot append to {self.path}: its columns are {columns}, expected {self.columns}"
                )
            self._file = self.path.open("a", newline="")
        else:
            self.t_start = time.time()
            self._file = self.path.open("w", newline="")
            meta = {"t_start": self.t_start, **self.metadata}
            self._file.write("#" + json.dumps(meta, sort_keys=True) + "\n")
        self._writer = csv.DictWriter(self._file, fieldnames=self.columns, extrasaction="ignore")
        if not existing:
            self._writer.writeheader()
        self._flush()
        return self

    def write(self, r, l, t=None, **extra) -> None:  # noqa: E741 - SB3's column names
        if self._writer is None:
            self.open()
        t = round(time.time() - self.t_start, 6) if t is None else t
        self._writer.writerow({"r": r, "l": l, "t": t, **extra})
        self._flush()

    def _flush(self):
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:  # a full disk: say which file (a failed flush names none)
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()


def read_header(path) -> dict:
    path = Path(path)
    with path.open() as handle:
        first = handle.readline()
    if not first.startswith("#"):
        raise RewardLogError(
            f"{path} is not a reward log: its first line should be '#{{json}}', got {first[:40]!r}"
        )
    try:
        header = json.loads(first[1:])
    except ValueError as exc:
        raise RewardLogError(f"{path} has a malformed '#{{json}}' first line: {exc}") from None
    if not isinstance(header, dict):
        raise RewardLogError(f"{path}: the '#{{json}}' first line should hold an object")
    return header


def load_rewards(path) -> pd.DataFrame:
    """Read a reward log into a DataFrame (columns ``r, l, t`` plus extras).

    ``path`` is the CSV or a run directory holding ``episodes.csv``. The header metadata is
    in ``df.attrs["header"]``. Raises :class:`RewardLogError` naming what it looked for.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "episodes.csv"
    if not path.is_file():
        raise RewardLogError(f"no reward log at {path}: expected a Monitor-format CSV (episodes.csv)")
    header = read_header(path)
    try:
        frame = pd.read_csv(path, skiprows=1)
    except (ValueError, pd.errors.ParserError) as exc:
        raise RewardLogError(f"{path}: cannot parse the CSV body: {exc}") from None
    missing = [c for c in BASE_COLUMNS if c not in frame.columns]
    if missing:
        raise RewardLogError(f"{path}: missing columns {missing}; expected at least {list(BASE_COLUMNS)}")
    frame.attrs["header"] = header
    return frame
