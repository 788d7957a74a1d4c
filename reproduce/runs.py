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

from callbacks.files import atomic_write, to_jsonable, write_csv, write_json  # noqa: F401
from reproduce.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "results"
RUNS_DIR = RESULTS_DIR / "runs"
LIBRARIES = ("tensorflow", "tf-keras", "keras-rl2", "gymnasium", "numpy", "pandas", "numba")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine() -> dict:
    """CPU model, core count and whether oneDNN is on: what DQN runs' exact numbers depend on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") not in ("0", "false", "False")
    return {"cpu": cpu, "cores": os.cpu_count(), "onednn": "on" if onednn else "off"}


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
    """A run directory: the one owner of its file names, and the writer of config and manifest.

    Every file an experiment writes is named here (``RunDir.EPISODES``, ``RunDir.EVAL``, ...; the
    path is ``rd.file(RunDir.EVAL)``), so the run layout is spelled out once. While a process writes a
    run directory it holds an exclusive ``flock`` on the directory; a second writer gets a one-line
    ``ConfigError``.
    """

    CONFIG = "config.json"  # the resolved config, with "experiment"
    MANIFEST = "manifest.json"  # command, seed, versions, git revision, times, status
    SUMMARY = "summary.json"  # the flat headline numbers the report quotes
    EPISODES = "episodes.csv"  # one row per training episode, SB3 Monitor format
    EVAL = "eval.csv"  # greedy test episodes: episode, r, l
    EVAL_CURVE = "eval_curve.csv"  # periodic greedy checks during training: step, r_mean, ...
    CHECKPOINTS = "checkpoints"  # ckpt_<step>_steps/ directories (callbacks.Checkpoint)
    TENSORBOARD = "tensorboard"  # event files (--tensorboard; callbacks.TensorBoardLogger)
    Q_TABLE = "q_table.csv"  # NChain: state, q_forward, q_backward
    Q_TABLES = "q_tables.csv"  # nchain-tabular: method, state, q_forward, q_backward
    ROUNDS = "rounds.csv"  # nchain-tabular: each round's test returns and winner
    CURVES = "curves.csv"  # nchain-tabular: mean training return per episode and method
    METHOD_TABLE = "summary.csv"  # nchain-tabular: one row per method
    REWARD_PLOT = "reward_per_step.png"  # nchain-keras: the tutorial's figure
    UP_TIME = "up_time.csv"  # cartpole-dotmask: the notebook's printed log (step, up_time, seconds)
    WIN_COUNTS = "win_counts.csv"  # catch-qlearning4k: the README's per-epoch log

    def __init__(self, path: str | os.PathLike, experiment: str = "", config=None, seed: int = 0,
                 command: list[str] | None = None):
        self.path = check_out_dir(path)
        self.experiment = experiment
        self.config = config
        self.seed = seed
        self.command = list(sys.argv if command is None else command)
        self.manifest: dict = {}
        self._lock = None

    def file(self, name: str) -> Path:
        """The path of one of the files named above: ``rd.file(RunDir.EVAL)``."""
        return self.path / name

    def lock(self) -> RunDir:
        """Take the writer's lock on the directory itself (held until :meth:`finish` or the process exits)."""
        import fcntl

        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(f"{self.path} is being written by another process; wait for it to finish "
                              f"or pass another --out") from None
        self._lock = fd
        return self

    def start(self) -> RunDir:
        self.lock()
        write_json(self.config_json, {"experiment": self.experiment, **to_jsonable(self.config)})
        self.manifest = {
            "experiment": self.experiment,
            "seed": self.seed,
            "command": self.command,
            "versions": library_versions(),
            "machine": machine(),
            "git_revision": git_revision(),
            "started": now(),
            "status": "running",
        }
        write_json(self.manifest_json, self.manifest)
        return self

    def reopen(self) -> RunDir:
        """Continue an existing run (``--resume``): keep its manifest, note this command and time."""
        self.lock()
        try:
            self.manifest = read_json(self.manifest_json)
        except ConfigError as exc:
            raise ConfigError(f"cannot resume {self.path}: {exc}") from None
        self.manifest.setdefault("resumed", []).append({"command": self.command, "at": now(),
                                                        "git_revision": git_revision()})
        self.manifest["status"] = "running"
        write_json(self.manifest_json, self.manifest)
        return self

    def finish(self, **extra) -> None:
        self.manifest.update(extra, finished=now(), status="complete")
        write_json(self.manifest_json, self.manifest)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    @property
    def config_json(self) -> Path:
        return self.file(self.CONFIG)

    @property
    def manifest_json(self) -> Path:
        return self.file(self.MANIFEST)

    def read_config(self) -> dict:
        return read_json(self.config_json)

    def is_complete(self) -> bool:
        """True when the manifest says the run finished."""
        try:
            return read_json(self.manifest_json).get("status") == "complete"
        except ConfigError:
            return False


def read_json(path: str | os.PathLike) -> dict:
    """A JSON object from ``path``, or a one-line ``ConfigError`` saying what is wrong with it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"missing {path.name} in {path.parent}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"unreadable {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object")
    return data


def is_complete(run_dir: str | os.PathLike) -> bool:
    return RunDir(run_dir).is_complete()
