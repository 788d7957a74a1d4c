"""Run directories: where every experiment writes, and what it records next to its outputs.

Each run directory holds ``config.json`` (the resolved config), ``manifest.json`` (command,
seed, library versions, git revision, start and end time) and the experiment's own files.
A run is *complete* once ``manifest.json`` has ``"status": "complete"``; sweeps and
``reproduce all`` skip complete runs. Every JSON/CSV here is written atomically
(temp file in the same directory, fsync, ``os.replace``), so a crash never leaves a
partial file under a final name.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from callbacks.files import atomic_write, fsync_dir, to_jsonable, write_csv, write_json  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "results"
RUNS_DIR = RESULTS_DIR / "runs"
LIBRARIES = ("tensorflow", "tf-keras", "keras-rl2", "gymnasium", "numpy", "pandas", "numba")


class ConfigError(ValueError):
    """Bad user input: the message is one line saying what was expected and how to fix it."""


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_revision() -> str:
    """The repo's HEAD commit (with ``-dirty`` if the tree has changes), or ``unknown``."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=10,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check_out_dir(out: str | os.PathLike) -> Path:
    """Validate an output directory without creating it (bad input writes nothing)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out must be a directory, but {out} is an existing file; pick another path")
    return out


def default_run_dir(experiment: str, seed: int, root: Path | None = None) -> Path:
    return Path(root or RUNS_DIR) / experiment / f"seed{seed}"


class RunDir:
    """A run directory being written: records config and manifest, marks completion."""

    def __init__(self, path: str | os.PathLike, experiment: str, config, seed: int,
                 command: list[str] | None = None):
        self.path = check_out_dir(path)
        self.experiment = experiment
        self.config = config
        self.seed = seed
        self.command = list(sys.argv if command is None else command)
        self.manifest: dict = {}

    def start(self) -> RunDir:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.path / "config.json", {"experiment": self.experiment, **to_jsonable(self.config)})
        self.manifest = {
            "experiment": self.experiment,
            "seed": self.seed,
            "command": self.command,
            "versions": library_versions(),
            "git_revision": git_revision(),
            "started": now(),
            "status": "running",
        }
        write_json(self.path / "manifest.json", self.manifest)
        return self

    def reopen(self) -> RunDir:
        """Continue an existing run (``--resume``): keep its manifest, note this command and time."""
        import json

        try:
            self.manifest = json.loads((self.path / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot resume {self.path}: unreadable manifest.json ({exc})") from None
        self.manifest.setdefault("resumed", []).append({"command": self.command, "at": now(),
                                                        "git_revision": git_revision()})
        self.manifest["status"] = "running"
        write_json(self.path / "manifest.json", self.manifest)
        return self

    def finish(self, **extra) -> None:
        self.manifest.update(extra, finished=now(), status="complete")
        write_json(self.path / "manifest.json", self.manifest)

    def file(self, name: str) -> Path:
        return self.path / name


def is_complete(run_dir: str | os.PathLike) -> bool:
    """True when the run directory's manifest says the run finished."""
    try:
        manifest = json.loads((Path(run_dir) / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("status") == "complete"
