"""Process and wall time of one call, shared by the benchmarks that report both (a machine shared with
other jobs inflates wall time; process time counts only this process's work)."""

from __future__ import annotations

import resource
import time


def cpu() -> float:
    """User + system seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn):
    """``(fn(), wall seconds, process seconds)``."""
    wall, proc = time.perf_counter(), cpu()
    result = fn()
    return result, time.perf_counter() - wall, cpu() - proc
