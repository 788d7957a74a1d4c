"""A warm worker: one process imports TensorFlow, keras-rl and the package once, then runs many jobs.

``python -m reproduce.worker LOG_DIR`` reads jobs as JSON lines on stdin (``{"argv": ["run", NAME,
...]}``), runs each through :func:`reproduce.cli.main`, the code path of ``python -m reproduce run
...``, and answers one JSON line on stdout (``{"code": 0, "cpu_s": ..., "rss_mb": ...}``). Each job's
stdout and stderr (file descriptors 1 and 2, so TensorFlow's native lines too) go to ``LOG_DIR/stdout``
and ``LOG_DIR/stderr``, truncated per job; the protocol has its own copies of the original pipes.
:mod:`reproduce.sweep` starts and feeds these workers; this module only serves them.

Why: importing TensorFlow, keras-rl and the package costs 3-4 s of process time, 11% of
``reproduce all`` (``bench/results/main_job.txt``); a warm worker pays it once per worker.

Between jobs the worker puts back what a fresh process would not carry: a new default graph with no
Keras session, Keras's name counters at zero and no Keras seed generator (so layer names, op seeds and
initial weights repeat), Python's and numpy's global generators reseeded from the OS (as a fresh
process starts them), the environment, working directory, ``sys.argv`` (the manifest records it),
``sys.path``, ``sys.stdout``/``sys.stderr``, numpy's error settings, tf-keras's float type and
epsilon, warnings filters and their "once" registries, logging's handlers and levels (a logger first
made during a job: as it was after that job), signal handlers, and the package's per-process records
(runs being written, the interrupt counter). Compiled numba kernels and imported modules are kept:
they are the point, and hold no run state. ``tests/test_warm_workers.py`` checks that every output
file of a job run here equals a fresh process's, byte for byte (timing fields aside).

SIGINT during a job is a Ctrl-C to that run: it marks itself interrupted and answers code 130, as
``python -m reproduce run`` exits 130. A SIGINT while idle is remembered and interrupts the next job
before it starts (the sweep only signals a worker it has given a job). A job that ends the process
(a crash, ``os._exit``, a kill) ends the worker: the sweep records the job failed and starts a new
worker. The sweep also retires a worker whose job failed with an exception or was interrupted (its
state is whatever the failure left), and one whose resident memory passed :data:`MAX_RSS_MB` after a
job: TensorFlow keeps some memory of every graph it ran, and a long sweep should not grow without bound.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import pkgutil
import random
import resource
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path

MAX_RSS_MB = 2048  # retire a worker above this resident size after a job (775-936 MB after four short
# jobs of DQN, the Keras Q-network and the table tournament: WarmWorker.rss_mb, read after each)
MAIN = str(Path(__file__).resolve().parent / "__main__.py")  # sys.argv[0] of `python -m reproduce`
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


def warm_up() -> None:
    """Import what the experiments import (TensorFlow with the compat fixes, keras-rl's agents, gymnasium,
    pandas, numba, matplotlib with the figures' backend, scikit-learn's pieces, tqdm) and every module of
    the package and of ``callbacks`` that imports, so no job pays for it, and the warnings filters and
    loggers those imports set up are in the state every job starts from (a filter that
    ``reproduce.kerasrl.run`` set on its import was dropped after the job that imported it). ``reproduce``
    (and so the compat fixes) is already imported: it is this module's package."""
    import gymnasium  # noqa: F401
    import numba  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import rl.agents  # noqa: F401
    import rl.core  # noqa: F401
    import scipy.special  # noqa: F401
    import sklearn.kernel_approximation  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    import tensorflow  # noqa: F401
    import threadpoolctl  # noqa: F401
    import tqdm  # noqa: F401

    import callbacks
    import reproduce
    from reproduce import figures

    figures.plt()
    for package in (reproduce, callbacks):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name.endswith(".__main__"):
                continue
            try:
                importlib.import_module(module.name)
            except Exception:  # noqa: BLE001 - an extra not installed: its jobs say so themselves, as fresh
                pass


class State:
    """What one job may change that a fresh process would not carry into the next: taken once after
    warm-up, put back before every job."""

    def __init__(self):
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.warnings = list(warnings.filters)
        self.signals = {sig: signal.getsignal(sig) for sig in SIGNALS}
        self.loggers = {name: _logger_state(logger) for name, logger in _loggers().items()}
        self.root = _logger_state(logging.getLogger())
        self.keras = {(module, name): getattr(module, name) for module, name in _keras_globals()}
        self.path = list(sys.path)
        self.streams = sys.stdout, sys.stderr
        import numpy as np

        self.numpy_errors = np.geterr()

    def restore(self) -> None:
        import numpy as np

        os.chdir(self.cwd)
        sys.path[:] = self.path
        sys.stdout, sys.stderr = self.streams
        np.seterr(**self.numpy_errors)
        if dict(os.environ) != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        warnings.filters[:] = self.warnings
        warnings._filters_mutated()  # noqa: SLF001 - empties every module's "once" registry, as at start
        warnings.onceregistry.clear()
        for sig, handler in self.signals.items():
            if handler is not None:
                signal.signal(sig, handler)
        for name, logger in _loggers().items():
            if name not in self.loggers:  # made by a library a job imported: as it was then
                self.loggers[name] = _logger_state(logger)
            _set_logger_state(logger, self.loggers[name])
        _set_logger_state(logging.getLogger(), self.root)
        for (module, name), value in self.keras.items():
            setattr(module, name, value)
        reset_tensorflow()
        reset_package()
        random.seed()  # from the OS, as a fresh interpreter seeds it
        np.random.seed()
        gc.collect()


def _loggers() -> dict[str, logging.Logger]:
    return {name: logger for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)}


def _logger_state(logger: logging.Logger) -> tuple:
    return logger.level, list(logger.handlers), logger.propagate, logger.disabled


def _set_logger_state(logger: logging.Logger, state: tuple) -> None:
    logger.level, handlers, logger.propagate, logger.disabled = state
    logger.handlers[:] = handlers


def _keras_globals() -> list[tuple[object, str]]:
    """tf-keras's process-wide settings a job may change (``set_floatx``, manual variable
    initialization, the RNG kind)."""
    if "tf_keras" not in sys.modules:
        return []
    from tf_keras.src import backend, backend_config

    return [(backend, "_MANUAL_VAR_INIT"), (backend, "_USE_GENERATOR_FOR_RNG"),
            (backend_config, "_FLOATX"), (backend_config, "_EPSILON"), (backend_config, "_IMAGE_DATA_FORMAT")]


def reset_tensorflow() -> None:
    """A new default graph, no Keras session, Keras's name counters at zero: a fresh process's state.

    ``clear_session`` closes the session and zeroes the counters but builds Keras's learning-phase
    placeholder in its new graph; a fresh process has no op there yet, and graph-level seeds derive op
    seeds from the op count, so a second new graph is made (empty, as at start).

    ``tf.keras.utils.set_random_seed`` also leaves Keras a seed generator (a ``random.Random``) from which
    every unseeded initializer draws its seed from then on; a fresh process has none, and draws from
    Python's ``random`` instead: a job that seeds only ``random`` (keras-rl's runs) got other weights
    after one that had called it (``tests/test_warm_workers.py`` found it: DQN after the tutorial's
    Keras Q-network), so it is dropped."""
    if "tensorflow" not in sys.modules:
        return
    import tensorflow as tf

    tf.compat.v1.keras.backend.clear_session()
    tf.compat.v1.reset_default_graph()
    if "tf_keras" in sys.modules:
        from tf_keras.src import backend

        backend._SEED_GENERATOR.__dict__.clear()  # noqa: SLF001


def reset_package() -> None:
    """The package's per-process records: runs being written (a fresh process's exit releases their
    locks) and the Ctrl-C counter."""
    from reproduce import runs

    for run in list(runs.RunDir.active):
        run.release()
    runs._interrupts[0] = 0  # noqa: SLF001


_pending_interrupt = False


def _idle_sigint(signum, frame) -> None:
    global _pending_interrupt
    _pending_interrupt = True


def run(argv: list[str]) -> int:
    """One job, as ``python -m reproduce ARGV`` would run it; its exit code."""
    global _pending_interrupt
    from reproduce import cli

    sys.argv = [MAIN, *argv]
    try:
        if _pending_interrupt:
            _pending_interrupt = False
            raise KeyboardInterrupt
        signal.signal(signal.SIGINT, signal.default_int_handler)
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse's usage errors, sys.exit(...) in a job
        code = exc.code
        if code is None:
            code = 0
        elif not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:  # before the CLI took over (or after it finished)
        print("interrupted before a run started; nothing was written", file=sys.stderr)
        code = 130
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught exception
        traceback.print_exc()
        code = 1
    finally:
        signal.signal(signal.SIGINT, _idle_sigint)
    return int(code or 0)


def _redirect(log_dir: Path) -> None:
    """Point descriptors 1 and 2 at this job's fresh log files."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        target = os.open(log_dir / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)


def rss_mb() -> float:
    """Resident memory now (Linux's /proc; the peak elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def serve(log_dir: Path) -> int:
    """The worker's loop: warm up, say ready, then one reply per job until stdin closes."""
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # a job reads nothing (a fresh run's stdin is /dev/null)
    signal.signal(signal.SIGINT, _idle_sigint)
    _redirect(log_dir)
    start = time.perf_counter()
    warm_up()
    state = State()
    gc.collect()
    gc.freeze()  # what warm-up made lives on: collections between and during jobs need not scan it
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(devnull, 1)
    replies.write(json.dumps({"ready": True, "startup_s": time.perf_counter() - start, "cpu_s": cpu_s(),
                              "pid": os.getpid()}) + "\n")
    replies.flush()
    for line in requests:
        job = json.loads(line)
        state.restore()
        _redirect(log_dir)
        cpu = cpu_s()
        code = run(job["argv"])
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(devnull, 1)
        replies.write(json.dumps({"code": code, "cpu_s": cpu_s() - cpu, "rss_mb": round(rss_mb(), 1)}) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m reproduce.worker LOG_DIR (started by reproduce.sweep; jobs as JSON lines on "
              "stdin)", file=sys.stderr)
        sys.exit(2)
    sys.exit(serve(Path(sys.argv[1])))
