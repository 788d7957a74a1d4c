"""Run directories: where every experiment writes, and what it records next to its outputs.

Each run directory holds ``config.json`` (the resolved config), ``manifest.json`` (command,
seed, library versions, git revision, start and end time) and the experiment's own files.
A run is *complete* once ``manifest.json`` has ``"status": "complete"``; sweeps and
``reproduce all`` skip complete runs. A run stopped by Ctrl-C says ``"status": "interrupted"``. The
manifest records the config's ``fingerprint`` (experiment name included): a directory belongs to one
run, and the CLI refuses to write another run into it (see :func:`existing_run`). Every JSON/CSV
here is written atomically (temp file in the same directory, fsync, ``os.replace``), so a crash never
leaves a partial file under a final name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
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


NAME_MAX = 255  # bytes in one path component (Linux, macOS)
PATH_MAX = 4000  # bytes in a whole path, with room under Linux's 4096 for the files a run writes


def check_out_dir(out: str | os.PathLike, flag: str = "--out", probe: bool = False) -> Path:
    """Validate an output directory without leaving anything behind (bad input writes nothing).

    Checked: not empty, every name and the whole path within the system's limits, not a file, the
    nearest existing parent a directory; with ``probe``, that a directory can really be created there
    (made and removed at once), so ``/proc``, read-only and permission-less places fail here, in one line.
    """
    text = os.fspath(out)
    if not str(text).strip():
        raise ConfigError(f"{flag} expects a directory path, got an empty string; e.g. {flag} results/mine")
    out = Path(text)
    for part in out.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise ConfigError(f"{flag} has a name of {len(os.fsencode(part))} bytes ({part[:24]}...); names "
                              f"are limited to {NAME_MAX} bytes: pick a shorter one")
    if len(os.fsencode(os.path.abspath(out))) > PATH_MAX:
        raise ConfigError(f"{flag} is a path of more than {PATH_MAX} bytes; pick a shorter one")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{flag} must be a directory, but {out} is an existing file; pick another path")
    parent = out
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{flag} {out} is under {parent}, which is not a directory; pick a path under a "
                          f"directory")
    if probe:
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".reproduce-probe-", dir=parent))
        except OSError as exc:
            raise ConfigError(f"{flag} {out}: cannot create a directory in {parent} ([Errno {exc.errno}] "
                              f"{exc.strerror}); pick a writable directory") from None
    return out


def default_run_dir(experiment: str, seed: int, root: Path | None = None) -> Path:
    return Path(root or RUNS_DIR) / experiment / f"seed{seed}"


_interrupts = [0]


def interrupts() -> int:
    """How many SIGINTs arrived under :func:`recording_interrupts` (even if a loop swallowed them)."""
    return _interrupts[0]


@contextlib.contextmanager
def recording_interrupts(on_interrupt=None):
    """While inside (main thread), Ctrl-C is recorded (and ``on_interrupt()`` called) before it raises
    ``KeyboardInterrupt`` as usual, so code that swallows ``KeyboardInterrupt`` (keras-rl's ``fit``) is
    found out: compare :func:`interrupts` before and after it. A SIGINT the process ignores stays ignored."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous in (signal.SIG_IGN, None):
        yield
        return

    def handler(signum, frame):
        _interrupts[0] += 1
        if on_interrupt is not None:
            on_interrupt()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_config(experiment: str, config) -> dict:
    """A run's config as ``config.json`` holds it (JSON types), experiment name first."""
    return json.loads(json.dumps({"experiment": experiment, **to_jsonable(config)}))


def fingerprint(config: dict) -> str:
    """A short hash of a run config (as :func:`run_config` gives it): equal configs, equal fingerprints."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flat(data, prefix: str = "") -> dict:
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def differences(there: dict, here: dict, limit: int = 4) -> str:
    """The options two run configs differ in, as one short phrase: ``steps 6000 there, 1000 here``."""
    a, b = _flat(there), _flat(here)
    missing = object()
    diffs = [f"{key} {a.get(key, 'unset')!s} there, {b.get(key, 'unset')!s} here"
             for key in dict.fromkeys([*a, *b]) if a.get(key, missing) != b.get(key, missing)]
    more = f" (and {len(diffs) - limit} more)" if len(diffs) > limit else ""
    return "; ".join(diffs[:limit]) + more


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
    PERFORMANCE = "performance.csv"  # dungeon-*: the printed performance (mean of streams), the optimum's
    REPEATS = "repeats.csv"  # dungeon-*, blob-qtable: one row per independent stream (run) of the process
    MOVING_AVERAGE = "moving_average.csv"  # blob-qtable: the 3,000-episode moving average of each run
    STATS = "stats.csv"  # blob-dqn: the tutorial's TensorBoard scalars every 50 episodes
    EPISODE_LOG = "episode_log.csv"  # blob-dqn: reward, length and epsilon per episode

    active: list[RunDir] = []  # the runs this process is writing (marked interrupted on Ctrl-C)

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

    def holds_run(self) -> bool:
        """True when the directory has a run's config or manifest in it."""
        return os.path.lexists(self.config_json) or os.path.lexists(self.manifest_json)

    def start(self) -> RunDir:
        """Start a new run here; a previous run's files are removed first (the caller decided to replace
        it: the CLI refuses unless the configs match or ``--force``), so checkpoint retention, the report
        and ``evaluate`` only ever see this run's files."""
        self.lock()
        if self.holds_run():
            self._clear()
        config = run_config(self.experiment, self.config)
        write_json(self.config_json, config)
        self.manifest = {
            "experiment": self.experiment,
            "seed": self.seed,
            "command": self.command,
            "versions": library_versions(),
            "machine": machine(),
            "git_revision": git_revision(),
            "fingerprint": fingerprint(config),
            "started": now(),
            "status": "running",
        }
        write_json(self.manifest_json, self.manifest)
        RunDir.active.append(self)
        return self

    def _clear(self) -> None:
        for entry in self.path.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def reopen(self) -> RunDir:
        """Continue an existing run (``--resume``): keep its manifest, note this command and time."""
        self.lock()
        try:
            self.manifest = read_json(self.manifest_json)
        except ConfigError as exc:
            self.release()
            raise ConfigError(f"cannot resume {self.path}: {exc}") from None
        self.manifest.setdefault("resumed", []).append({"command": self.command, "at": now(),
                                                        "git_revision": git_revision()})
        self.manifest["status"] = "running"
        write_json(self.manifest_json, self.manifest)
        RunDir.active.append(self)
        return self

    def finish(self, **extra) -> None:
        self.manifest.update(extra, finished=now(), status="complete")
        write_json(self.manifest_json, self.manifest)
        self.release()

    def interrupt(self) -> None:
        """Ctrl-C: the manifest says ``interrupted`` (never complete) and the lock is released."""
        self.manifest.update(status="interrupted", interrupted=now())
        write_json(self.manifest_json, self.manifest)
        self.release()

    def release(self) -> None:
        if self in RunDir.active:
            RunDir.active.remove(self)
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
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device would hang or mislead the reader
            raise ConfigError(f"{path} is not a regular file; remove it or rerun the run")
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


def interrupt_active() -> list[RunDir]:
    """Mark every run this process is writing as interrupted (Ctrl-C); returns them."""
    runs = list(RunDir.active)
    for run in runs:
        try:
            run.interrupt()
        except OSError:
            run.release()
    return runs


def newest_checkpoint_step(run_dir: str | os.PathLike) -> int | None:
    """The step of the newest finished checkpoint in a run directory (None if it has none)."""
    steps = []
    for marker in (Path(run_dir) / RunDir.CHECKPOINTS).glob("ckpt_*_steps/COMPLETE"):
        try:
            steps.append(int(marker.parent.name.split("_")[1]))
        except (IndexError, ValueError):
            continue
    return max(steps) if steps else None


@dataclasses.dataclass
class Existing:
    """What a directory already holds: a run's config and manifest (``None`` where unreadable)."""

    path: Path
    config: dict | None
    manifest: dict | None
    problem: str = ""

    @property
    def status(self) -> str:
        return (self.manifest or {}).get("status", "unknown")

    @property
    def complete(self) -> bool:
        return self.status == "complete"


def existing_run(path: str | os.PathLike) -> Existing | None:
    """The run ``path`` holds, or ``None`` when it holds none (missing or not a run directory)."""
    rd = RunDir(path)
    if not rd.path.is_dir() or not rd.holds_run():
        return None
    values, problems = [], []
    for file in (rd.config_json, rd.manifest_json):
        try:
            values.append(read_json(file))
        except ConfigError as exc:
            values.append(None)
            problems.append(str(exc))
    return Existing(rd.path, values[0], values[1], "; ".join(problems))
