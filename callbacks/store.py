"""The checkpoint format on disk: arrays (``.npz``) plus JSON, written atomically, read safely.

A checkpoint is a directory ``ckpt_{step:09d}_steps`` (SB3-style name carrying the global
step) holding ``state.json``, ``arrays.npz`` and, written last, ``COMPLETE``: JSON with the
size and SHA-256 of the two parts. It is built under a hidden temp name in the same parent
directory (every file fsynced) and renamed into place with ``os.replace``, so a crash never
leaves a partial checkpoint under a final name, and a checkpoint whose ``COMPLETE`` does not
match its parts is never taken for a good one.

Reading never executes code: JSON, and ``np.load(allow_pickle=False)`` (object arrays, the
only way an ``.npz`` can carry a pickle, are refused). Every problem raises a
:class:`CheckpointError` subclass naming the file, what was expected and what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from callbacks.files import fsync_dir as _fsync_dir

FORMAT = "keras-rl-reproduce-checkpoint"
VERSION = 1
PARTS = ("state.json", "arrays.npz")
MARKER = "COMPLETE"
NAME_RE = re.compile(r"^ckpt_(\d{9})_steps$")


class CheckpointError(ValueError):
    """A checkpoint cannot be used; the message says which file, why, and what to do."""


class CheckpointNotFoundError(CheckpointError):
    """No checkpoint (or no good one) where one was expected."""


class CheckpointIncompleteError(CheckpointError):
    """The ``COMPLETE`` marker is missing: the save never finished."""


class CheckpointCorruptError(CheckpointError):
    """A part is damaged: zero bytes, truncated, random bytes, checksum mismatch."""


class CheckpointFormatError(CheckpointError):
    """Readable, but not our format (wrong kind of file, unknown version, pickled objects)."""


class CheckpointMismatchError(CheckpointError):
    """A good checkpoint that belongs to another env, agent type or a model of another shape."""


class CheckpointWriteError(CheckpointError):
    """A save failed (disk full, quota, read-only, I/O error); nothing partial was left behind.

    ``step`` is the step that was being saved, ``last_good`` the newest complete checkpoint
    (None if there is none) and ``errno`` the OS error number.
    """

    def __init__(self, message, step=None, last_good=None, errno=None):
        super().__init__(message)
        self.step, self.last_good, self.errno = step, last_good, errno


class UnsupportedAgentError(CheckpointError):
    """The agent's type has no entry in the checkpoint's table of state parts."""


def checkpoint_name(step: int) -> str:
    return f"ckpt_{int(step):09d}_steps"


def step_of(path) -> int | None:
    match = NAME_RE.match(Path(path).name)
    return int(match.group(1)) if match else None


def _fsync_file(path: Path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _digest(path: Path) -> dict:
    data = path.read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_checkpoint(directory, step: int, state: dict, arrays: dict[str, np.ndarray],
                     resume_hint: str | None = None) -> Path:
    """Write one checkpoint atomically under ``directory`` and return its final path.

    An OS error while writing (``ENOSPC`` and the like) removes the temp directory and raises
    a one-line :class:`CheckpointWriteError` naming the step, the directory, the last good
    checkpoint and how to resume (``resume_hint``, default: ``--resume <run directory>``).
    """
    directory = Path(directory)
    for key, value in arrays.items():
        if np.asarray(value).dtype.kind == "O":
            raise TypeError(f"checkpoint array {key!r} has dtype object; only plain arrays are saved")
    try:
        return _write(directory, step, state, arrays)
    except OSError as exc:
        raise _write_error(directory, step, exc, resume_hint) from None


def _write_error(directory: Path, step: int, exc: OSError, resume_hint: str | None) -> CheckpointWriteError:
    reason = exc.strerror or str(exc)
    if exc.errno is not None:
        reason = f"[Errno {exc.errno}] {reason}"
    last = newest_complete(directory)
    run_dir = directory.parent if directory.name == "checkpoints" else directory
    hint = resume_hint or f"resume with --resume {run_dir}"
    if last is None:
        tail = "no earlier checkpoint exists, so free space and start the run again"
    else:
        tail = f"the last good checkpoint is {last} (step {step_of(last)}); free space, then {hint}"
    message = f"cannot save the checkpoint of step {step} in {directory}: {reason}; {tail}"
    return CheckpointWriteError(message.replace("\n", " "), step=step, last_good=last, errno=exc.errno)


def newest_complete(directory) -> Path | None:
    """The newest checkpoint under ``directory`` whose ``COMPLETE`` marker exists (not verified)."""
    for path in reversed(list_checkpoints(directory)):
        if (path / MARKER).is_file():
            return path
    return None


def _write(directory: Path, step: int, state: dict, arrays: dict[str, np.ndarray]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / checkpoint_name(step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=directory))
    old = None
    try:
        os.chmod(tmp, 0o755)
        state = {"format": FORMAT, "version": VERSION, "step": int(step), **state}
        with open(tmp / "state.json", "w") as handle:
            json.dump(state, handle, indent=1, sort_keys=True, allow_nan=True)
        with open(tmp / "arrays.npz", "wb") as handle:
            np.savez(handle, **{k: np.asarray(v) for k, v in arrays.items()})
        for part in PARTS:
            _fsync_file(tmp / part)
        marker = {"format": FORMAT, "version": VERSION, "files": {p: _digest(tmp / p) for p in PARTS}}
        with open(tmp / MARKER, "w") as handle:  # written last: its presence means "complete"
            json.dump(marker, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(tmp)
        if final.exists():  # same step saved again (e.g. train end right after a resume)
            old = directory / f".{final.name}.old"
            if old.exists():
                shutil.rmtree(old)
            os.replace(final, old)
        os.replace(tmp, final)
        _fsync_dir(directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not final.exists():
            os.replace(old, final)  # the same step's earlier save goes back under its name
        raise
    return final


def remove_stale_temps(directory) -> list[Path]:
    """Delete temp directories left by a save that was killed; return what was removed."""
    directory = Path(directory)
    removed = []
    if directory.is_dir():
        for path in directory.glob(".ckpt_*"):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def list_checkpoints(directory) -> list[Path]:
    """Checkpoint directories under ``directory`` (final names only), oldest step first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and step_of(p) is not None]
    return sorted(found, key=step_of)


def read_checkpoint(path) -> tuple[dict, dict[str, np.ndarray]]:
    """Validate and read one checkpoint directory: ``(state, arrays)``. Never unpickles."""
    path = Path(path)
    if not path.exists():
        raise CheckpointNotFoundError(f"no checkpoint at {path}: expected a directory ckpt_<step>_steps")
    if not path.is_dir():
        raise CheckpointFormatError(
            f"{path} is a file, not a checkpoint: expected a directory ckpt_<step>_steps holding "
            f"{', '.join(PARTS)} and {MARKER}; pass that directory or the run directory"
        )
    marker_path = path / MARKER
    if not marker_path.is_file():
        raise CheckpointIncompleteError(
            f"{path} has no {MARKER} marker: the save did not finish; use an earlier checkpoint"
        )
    marker = _read_json(marker_path, "the completion marker")
    if marker.get("format") != FORMAT or not isinstance(marker.get("files"), dict):
        raise CheckpointFormatError(f"{marker_path} is not a {FORMAT} marker (got {str(marker)[:80]!r})")
    _check_version(marker, marker_path)
    for part in PARTS:
        expected = marker["files"].get(part)
        file = path / part
        if not isinstance(expected, dict) or not file.is_file():
            raise CheckpointCorruptError(f"{file} is missing; the checkpoint is damaged, use an earlier one")
        got = _digest(file)
        if got != expected:
            raise CheckpointCorruptError(
                f"{file} is damaged: expected {expected.get('bytes')} bytes with sha256 "
                f"{str(expected.get('sha256'))[:12]}..., found {got['bytes']} bytes with sha256 "
                f"{got['sha256'][:12]}... (zero-byte, truncated or overwritten); use an earlier checkpoint"
            )
    state = _read_json(path / "state.json", "the checkpoint state")
    if state.get("format") != FORMAT:
        raise CheckpointFormatError(
            f"{path / 'state.json'} is not a {FORMAT} state file (format={state.get('format')!r})"
        )
    _check_version(state, path / "state.json")
    return state, _read_arrays(path / "arrays.npz")


def _check_version(obj: dict, where: Path):
    if obj.get("version") != VERSION:
        raise CheckpointFormatError(
            f"{where} has format version {obj.get('version')!r}, this code reads version {VERSION}"
        )


def _read_json(path: Path, what: str) -> dict:
    try:
        obj = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointCorruptError(f"{path} ({what}) is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise CheckpointFormatError(f"{path} ({what}) should hold a JSON object, got {type(obj).__name__}")
    return obj


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as handle:
        magic = handle.read(6)
    if not magic.startswith((b"PK\x03\x04", b"\x93NUMPY")):
        raise CheckpointCorruptError(
            f"{path} is not a readable .npz archive: it starts with {magic!r}, not a zip header "
            f"(it is never unpickled); use an earlier checkpoint"
        )
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise CheckpointFormatError(f"{path} is a single .npy array, expected an .npz archive")
        with npz:
            return {key: npz[key] for key in npz.files}
    except CheckpointError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise CheckpointFormatError(
                f"{path} holds a pickled object array; checkpoints hold plain arrays only and "
                f"pickles are never loaded (they can run code)"
            ) from None
        raise CheckpointCorruptError(f"{path} is not a readable .npz archive: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise CheckpointCorruptError(f"{path} is not a readable .npz archive: {exc}") from None


def find_checkpoint(path) -> Path:
    """Resolve a checkpoint directory, a file inside one, a checkpoints folder or a run directory."""
    path = Path(path)
    if path.is_file() and step_of(path.parent) is not None:
        return path.parent
    if path.is_dir() and step_of(path) is None:
        return newest_good(path)[0]
    return path


def newest_good(directory) -> tuple[Path, dict, dict]:
    """The newest checkpoint that reads cleanly, as ``(path, state, arrays)``.

    ``directory`` is a run directory (its ``checkpoints/`` is searched) or a checkpoints
    folder. A bad newer checkpoint is skipped with a warning naming why.
    """
    directory = Path(directory)
    if (directory / "checkpoints").is_dir():
        directory = directory / "checkpoints"
    candidates = list_checkpoints(directory)
    if not candidates:
        raise CheckpointNotFoundError(
            f"no checkpoint under {directory}: expected directories named ckpt_<step>_steps; "
            f"train with the Checkpoint callback first"
        )
    problems = []
    for path in reversed(candidates):
        try:
            state, arrays = read_checkpoint(path)
        except CheckpointError as exc:
            problems.append(str(exc))
            warnings.warn(f"skipping bad checkpoint {path.name}: {exc}", stacklevel=2)
            continue
        return path, state, arrays
    raise CheckpointNotFoundError(f"no good checkpoint under {directory}; all failed: {'; '.join(problems)}")


def save_arrays_state(directory, step: int, arrays: dict[str, np.ndarray], state: dict | None = None) -> Path:
    """Save any numpy tables (tabular agents) plus JSON state as a checkpoint at ``step``."""
    return write_checkpoint(directory, step, {"kind": "arrays", **(state or {})}, arrays)


def load_arrays_state(path) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a checkpoint written by :func:`save_arrays_state` (or any checkpoint): ``(state, arrays)``."""
    return read_checkpoint(find_checkpoint(path))
