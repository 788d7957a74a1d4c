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


def child(argv: list[str], env: dict | None = None, cwd=None) -> tuple[float, float, float, int, str]:
    """Run ``argv`` as a fresh child process; ``(wall s, peak RSS MB, process s, exit code, stderr tail)``.

    Peak RSS and process time are the child's own (``os.wait4``'s rusage), whatever else runs."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        tail = err.read().decode(errors="replace")[-2000:]
    return (wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime,
            os.waitstatus_to_exitcode(status), tail)


def single_thread_session(seed: int) -> None:
    """One thread for BLAS and TensorFlow, a fresh graph-mode session, and Python's, numpy's and
    TensorFlow's seeds set: the set-up of the per-step agent benches' child processes."""
    import random

    import numpy as np
    import tensorflow as tf
    import threadpoolctl

    threadpoolctl.threadpool_limits(1, user_api="blas")
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    tf.compat.v1.keras.backend.set_session(tf.compat.v1.Session(config=config))
    np.random.seed(seed)
    random.seed(seed)
    tf.compat.v1.set_random_seed(seed)
