"""Shared test setup: apply the compat layer before any test imports TensorFlow."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import reproduce  # noqa: F401  (compat fixes + NChain-v0 registration)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_checkpoint_worker():
    """Make ``tests/checkpoint_worker.py`` importable as ``checkpoint_worker`` (tests is no package)."""
    path = Path(__file__).parent / "checkpoint_worker.py"
    spec = importlib.util.spec_from_file_location("checkpoint_worker", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["checkpoint_worker"] = module
    spec.loader.exec_module(module)


_load_checkpoint_worker()


def run_cli(*args, cwd=None, timeout=600, **kwargs):
    """Run ``python -m reproduce ARGS`` in a subprocess with stdin closed."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.update(kwargs.pop("env", {}))
    return subprocess.run(
        [sys.executable, "-m", "reproduce", *map(str, args)],
        cwd=cwd or REPO_ROOT, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, env=env, **kwargs,
    )


@pytest.fixture
def cli():
    return run_cli
