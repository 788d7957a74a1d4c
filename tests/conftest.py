"""Shared test setup: apply the compat layer before any test imports TensorFlow."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import reproduce  # noqa: F401  (compat fixes + NChain-v0 registration)

REPO_ROOT = Path(__file__).resolve().parent.parent


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
