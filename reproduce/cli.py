"""Command line: ``reproduce doctor|list|run|sweep|all|report|evaluate`` (also ``python -m reproduce``).

Help, ``list`` and every usage error answer without importing TensorFlow. Bad input prints
one line (``error: ...``) to stderr and exits 2, before anything is written. Ctrl-C marks the runs
being written ``interrupted`` (never complete), prints one line saying how to continue, and exits 130.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import os
import signal
import sys
from pathlib import Path

from reproduce.errors import ConfigError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: ...``) and exit code 2."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


SEED_MAX = 2**32 - 1  # numpy's seeds are 32-bit


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer seed >= 0, got {text!r}")
    if value > SEED_MAX:
        raise argparse.ArgumentTypeError(f"expected a seed up to {SEED_MAX} (numpy's range), got {text!r}")
    return value


def add_seed_options(parser, seeds_default: int, out_help: str) -> None:
    parser.add_argument("--seed", type=seed_int, default=None, help="first seed (default 0)")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help=f"number of seeds: seed, seed+1, ... (default {seeds_default})")
    parser.add_argument("--out", type=str, default=None, help=out_help)


def seed_range(args, seeds_default: int) -> range:
    """The seeds of ``--seed``/``--seeds``, all within numpy's range."""
    first = 0 if args.seed is None else args.seed
    count = seeds_default if args.seeds is None else args.seeds
    if first + count - 1 > SEED_MAX:
        raise ConfigError(f"--seed {first} with --seeds {count} goes past numpy's largest seed {SEED_MAX}; "
                          f"start lower or run fewer seeds")
    return range(first, first + count)


def check_env(experiment, config) -> None:
    """An ``env`` other than the experiment's own must be makeable (its extras installed) and offer the same
    kinds of action and observation space (discrete or continuous) as the env the agent is built for."""
    env_id = getattr(config, "env", None)
    default = getattr(experiment.config(), "env", None)
    if not isinstance(env_id, str) or not isinstance(default, str) or env_id == default:
        return
    import gymnasium as gym

    try:
        env = gym.make(env_id)
    except gym.error.DependencyNotInstalled as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"--env {env_id} needs a package that is not installed: {first}; install it or "
                          f"pick another env") from None
    except Exception as exc:  # noqa: BLE001 - any env that cannot be made is one line
        raise ConfigError(f"--env {env_id} cannot be made: {type(exc).__name__}: {exc}") from None
    reference = gym.make(default)
    try:
        for what in ("action_space", "observation_space"):
            want, got = getattr(reference, what), getattr(env, what)
            if type(want) is not type(got):
                raise ConfigError(f"{experiment.name} needs an env whose {what.replace('_', ' ')} is "
                                  f"{type(want).__name__} (like {default}), but {env_id} has {got}; "
                                  f"pick an env of that kind")
    finally:
        env.close()
        reference.close()


def experiment_parser(experiment, prog: str) -> Parser:
    """The parser of one experiment's own options (declared on its Config)."""
    from reproduce import options

    parser = Parser(prog=prog, description=experiment.summary)
    options.add_arguments(parser, experiment.config)
    return parser


def experiment_config(experiment, args: argparse.Namespace, seed: int = 0):
    """The experiment's config from parsed options, every option checked; raises ConfigError."""
    from reproduce import options

    config = experiment.validate(options.from_args(experiment.config, args, seed=seed))
    check_env(experiment, config)
    return config


def _run(argv: list[str]) -> int:
    from reproduce import experiments
    from reproduce.runs import check_out_dir, default_run_dir

    if not argv or argv[0].startswith("-"):
        if argv and argv[0] in ("-h", "--help"):
            print("usage: reproduce run NAME [options]; `reproduce list` names every experiment and "
                  "`reproduce run NAME --help` lists its options")
            return 0
        known = ", ".join(experiments.names())
        raise ConfigError(f"reproduce run needs an experiment name first; one of: {known}")
    name, rest = argv[0], argv[1:]
    experiment = experiments.get(name)
    parser = experiment_parser(experiment, f"reproduce run {name}")
    add_seed_options(parser, 1, "run directory (default results/runs/NAME/seedS); with --seeds N, each seed "
                                "writes to OUT/seedS")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR",
                        help="continue RUN_DIR from its newest good checkpoint to its configured steps")
    parser.add_argument("--force", action="store_true",
                        help="replace the run an output directory already holds (default: refuse)")
    args = parser.parse_args(rest)
    if args.resume is not None:
        return _resume(experiment, args)
    seeds = seed_range(args, 1)
    if args.out is not None:
        check_out_dir(args.out, probe=True)
    config = experiment_config(experiment, args, seeds.start)  # before any file is written
    planned = []
    for seed in seeds:  # every directory is checked before the first run starts
        if args.out is None:
            run_dir = default_run_dir(name, seed)
        else:
            run_dir = Path(args.out) if len(seeds) == 1 else Path(args.out) / f"seed{seed}"
        check_out_dir(run_dir, probe=True)
        seed_config = dataclasses.replace(config, seed=seed)
        planned.append((seed, run_dir, seed_config, claim(experiment, seed_config, run_dir, args.force)))
    for seed, run_dir, seed_config, verdict in planned:
        if verdict == "complete":
            print(f"{name} seed {seed}: already complete, nothing to do -> {run_dir} (--force runs it again)")
            continue
        summary = experiment.run(seed_config, run_dir)
        print(f"{name} seed {seed}: {summary}  -> {run_dir}")
    return 0


def claim(experiment, config, run_dir: Path, force: bool = False) -> str:
    """May a run of ``config`` write ``run_dir``? ``"new"`` (nothing there, or ``--force``), ``"rerun"``
    (an unfinished run of the same options that has nothing to continue from), ``"complete"`` (that
    run, finished: nothing to do); anything else is one ``ConfigError`` naming the differing options."""
    from reproduce.runs import differences, existing_run, newest_checkpoint_step, run_config

    existing = existing_run(run_dir)
    if existing is None:
        if run_dir.is_dir() and any(run_dir.iterdir()):
            raise ConfigError(f"{run_dir} is not empty and holds no run; pass a new or empty directory as "
                              f"--out (a run owns its directory)")
        return "new"
    if force:
        return "new"
    here = run_config(experiment.name, config)
    there = existing.config
    if there == here:
        if existing.complete:
            return "complete"
        step = newest_checkpoint_step(run_dir) if experiment.resume is not None else None
        if step is None:
            return "rerun"
        raise ConfigError(f"{run_dir} holds an {existing.status} run of these options with a checkpoint at "
                          f"step {step}; continue it with `reproduce run {experiment.name} --resume "
                          f"{run_dir}`, or pass --force to start it over")
    if there is None:
        what = existing.problem
    elif there.get("experiment") != experiment.name:
        what = f"a run of {there.get('experiment')!r}, not {experiment.name!r}"
    else:
        what = f"a run with other options: {differences(there, here)}"
    raise ConfigError(f"{run_dir} holds {what} ({existing.status}); pass another --out, or --force to "
                      f"replace that run")


def _resume(experiment, args) -> int:
    """``run NAME --resume RUN_DIR``: continue the run as it is configured (its config.json, checked like
    the command line); options that contradict it are refused, a complete run is left as it is."""
    from reproduce import options
    from reproduce.runs import RunDir, differences, existing_run, run_config

    name, path = experiment.name, Path(args.resume)
    if experiment.resume is None:
        raise ConfigError(f"{name} does not checkpoint (a run takes seconds); rerun it without --resume")
    for flag, value in (("--out", args.out), ("--seeds", args.seeds), ("--force", args.force or None)):
        if value is not None:
            raise ConfigError(f"--resume {path} continues that run in its own directory; drop {flag} (or "
                              f"start a new run without --resume)")
    existing = existing_run(path) if str(args.resume).strip() else None
    if existing is None or existing.config is None:
        raise ConfigError(f"--resume expects a run directory with config.json, got {args.resume!r}; "
                          f"pass the --out directory of an earlier run"
                          + (f" ({existing.problem})" if existing is not None else ""))
    if existing.config.get("experiment") != name:
        other = existing.config.get("experiment")
        raise ConfigError(f"{path} is a run of {other!r}, not {name!r}; resume it with "
                          f"`reproduce run {other} --resume {path}`")
    stored = options.from_json(experiment.config, existing.config, str(RunDir(path).config_json))
    if existing.manifest is None:
        raise ConfigError(f"cannot resume {path}: {existing.problem}")
    given = {opt.path: opt.convert(raw) for opt in options.options(experiment.config)
             if (raw := getattr(args, options._dest(opt), None)) is not None}
    wanted = stored
    for path_, value in given.items():
        wanted = options._replace(wanted, path_, value)
    if args.seed is not None:
        wanted = dataclasses.replace(wanted, seed=args.seed)
    if wanted != stored:
        diff = differences(run_config(name, stored), run_config(name, wanted))
        raise ConfigError(f"--resume {path} continues that run as it is configured, but the options given "
                          f"contradict it ({diff}); drop them, or start a new run with --out")
    if existing.complete:
        print(f"{name}: {path} is already complete; nothing changed (a new run: reproduce run {name} "
              f"--out DIR)")
        return 0
    print(f"{name} resumed: {experiment.resume(path)}  -> {path}")
    return 0


def _list() -> int:
    from reproduce import experiments, options

    for name in experiments.names():
        experiment = experiments.get(name)
        print(f"{name:<20} {experiment.summary}")
        print(f"{'':<20} defaults: {options.describe(experiment.config())}")
    return 0


def _report(results: Path, include: list[Path] = (), quick: bool | None = None) -> int:
    from reproduce import report
    from reproduce.runs import check_out_dir

    check_out_dir(results, "--results")

    outcome = report.build(results, include=list(include), quick=quick)
    for path, reason in outcome["problems"]:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if outcome["missing"]:
        print(f"no runs yet for: {', '.join(outcome['missing'])}", file=sys.stderr)
    print(f"report: {outcome['runs']} runs -> {outcome['report']} ({len(outcome['plots'])} plots)")
    return 0


def _all(args) -> int:
    from reproduce import suite
    from reproduce.runs import check_out_dir
    from reproduce.sweep import make_executor

    # --quick writes under RESULTS/quick so a smoke run never mixes with the committed results
    check_out_dir(args.results, "--results", probe=True)
    results = Path(args.results)
    root = results / "quick" if args.quick else results
    runs_dir = root / "runs"
    executor = make_executor(args.executor, args.workers, args.address)
    jobs = suite.jobs(runs_dir, quick=args.quick)
    print(f"reproduce all: {len(jobs)} runs, {args.executor} executor, {args.workers} workers -> {runs_dir}",
          flush=True)
    failed = _sweep(jobs, executor, runs_dir)
    from reproduce.runs import REPO_ROOT

    sb3 = REPO_ROOT / "bench" / "results" / "sb3_runs"  # SB3 reference runs, made by bench/cartpole_dqn.py
    code = _report(root, [sb3] if sb3.is_dir() and not args.quick else [], quick=args.quick)
    return 1 if failed else code


def _sweep(jobs, executor, runs_dir: Path) -> int:
    """Run jobs, print one line per job, write the sweep summary; return the number failed."""
    from reproduce.sweep import sweep

    def progress(result):
        note = f" ({result.error})" if result.error else ""
        try:  # the variant too: runs/nchain-tabular/textbook/seed0 -> nchain-tabular/textbook
            label = str(Path(result.job.out).parent.relative_to(runs_dir))
        except ValueError:
            label = result.job.experiment
        print(f"  {result.status:<8} {label} seed {result.job.seed} "
              f"{result.wall_time_s:6.1f} s{note}", flush=True)

    summary = runs_dir / "sweep_summary.csv"
    frame = sweep(jobs, executor, summary, progress)  # Ctrl-C: SweepInterrupted, after the summary
    failed = int((frame.status == "failed").sum())
    if failed:
        print(f"error: {failed} of {len(frame)} runs failed (see {summary}); rerun the same command "
              f"to retry only those", file=sys.stderr)
    return failed


def sweep_parser() -> Parser:
    parser = Parser(prog="reproduce sweep", description="run one experiment over many seeds in parallel; "
                    "options before or after NAME, the experiment's own options after them (or after --)")
    parser.add_argument("experiment", metavar="NAME", help="experiment name (reproduce list)")
    add_seed_options(parser, 5, "sweep directory (default results/runs/NAME); seed S writes to OUT/seedS")
    add_executor_options(parser)
    return parser


def add_executor_options(parser) -> None:
    parser.add_argument("--workers", type=positive_int, default=2, help="parallel processes (default 2)")
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="local process pool (default) or Ray tasks")
    parser.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray)")


def _sweep_command(argv: list[str]) -> int:
    from reproduce import experiments
    from reproduce.runs import RUNS_DIR, check_out_dir
    from reproduce.sweep import Job, make_executor

    head, tail = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    parser = sweep_parser()
    args, run_options = parser.parse_known_args(head)
    run_options += tail
    experiment = experiments.get(args.experiment)
    # every seed's options are checked here, once, before any process starts or any file is written
    run_parser = experiment_parser(experiment, f"reproduce sweep {experiment.name}")
    experiment_config(experiment, run_parser.parse_args(run_options))
    seeds = seed_range(args, 5)
    executor = make_executor(args.executor, args.workers, args.address)
    out = check_out_dir(RUNS_DIR / experiment.name if args.out is None else args.out, probe=True)
    jobs = [Job(experiment.name, seed, out / f"seed{seed}", tuple(run_options)) for seed in seeds]
    print(f"sweep: {experiment.name}, {len(jobs)} seeds, {args.executor} executor -> {out}", flush=True)
    return 1 if _sweep(jobs, executor, out) else 0


def _doctor() -> int:
    from reproduce import doctor

    return doctor.main()


def _evaluate(args) -> int:
    from reproduce import evaluate_command

    return evaluate_command.main(args.path, episodes=args.episodes, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="reproduce", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("doctor", help="print versions and compat fixes, run a keras-rl smoke test")
    sub.add_parser("list", help="list experiments with their defaults")
    rep = sub.add_parser("report", help="build REPORT.md, summary CSVs and plots from run directories")
    rep.add_argument("--results", type=str, default="results",
                     help="results directory holding runs/ (default results)")
    rep.add_argument("--include", type=Path, action="append", default=[], metavar="DIR",
                     help="also read the run directories under DIR (e.g. bench/results/sb3_runs); repeatable")
    every = sub.add_parser("all", help="run the reproduction suite (skipping complete runs), then the report")
    every.add_argument("--quick", action="store_true", help="a small smoke version (about a minute)")
    every.add_argument("--results", type=str, default="results",
                       help="results directory (default results; --quick uses RESULTS/quick)")
    add_executor_options(every)
    for name, text in (("sweep", "run one experiment over many seeds in parallel: reproduce sweep NAME "
                                 "[--seeds N] [...] [-- run options]"),
                       ("run", "run an experiment: reproduce run NAME [options]")):
        cmd = sub.add_parser(name, help=text, add_help=False)
        cmd.add_argument("argv", nargs=argparse.REMAINDER)
    ev = sub.add_parser("evaluate", help="reload a checkpoint, run greedy episodes, print mean and 95%% CI")
    ev.add_argument("path", type=Path, help="run directory (newest good checkpoint) or ckpt_<step>_steps")
    ev.add_argument("--episodes", type=positive_int, default=None,
                    help="greedy test episodes (default: the run's eval_episodes)")
    ev.add_argument("--seed", type=seed_int, default=None,
                    help="first reset seed (default: the run's own evaluation seed, as in its eval.csv)")
    return parser


# a disk that is full, over quota, read-only or not writable: one line instead of a traceback
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # Started with `&` by a non-interactive shell, which ignores SIGINT for it (and Python keeps that):
        # Ctrl-C, and a sweep passing it on to its seeds, must still end a run as interrupted.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if argv and argv[0] in ("run", "sweep"):  # options may come before NAME: their own parsers read them
        args = argparse.Namespace(command=argv[0], argv=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    commands = {
        "doctor": _doctor,
        "list": _list,
        "run": lambda: _run(args.argv),
        "sweep": lambda: _sweep_command(args.argv),
        "evaluate": lambda: _evaluate(args),
        "report": lambda: _report(Path(args.results), args.include),
        "all": lambda: _all(args),
    }
    from reproduce.runs import recording_interrupts

    try:
        with recording_interrupts():
            return commands[args.command]()
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:  # `reproduce list | head -1`: the reader has gone; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ConfigError as exc:
        _fail_active(str(exc))
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        _fail_active(str(exc))
        where = f" {exc.filename}" if exc.filename else ""
        if exc.errno in DISK_ERRORS:
            print(f"error: cannot write{where}: [Errno {exc.errno}] {exc.strerror}; free space (or fix the "
                  f"permissions), then run the same command again (a run that has a checkpoint continues "
                  f"with --resume RUN_DIR)", file=sys.stderr)
        else:  # ENOTDIR, ENOENT, ENAMETOOLONG, ...: one line, never a traceback
            print(f"error:{where or ' ' + type(exc).__name__}: [Errno {exc.errno}] {exc.strerror}; check the "
                  f"path (every parent a directory, names short enough) and run the same command again",
                  file=sys.stderr)
        return 1


def _fail_active(reason: str) -> None:
    """A run that ends with an error says so (``failed``) instead of staying ``running``."""
    from reproduce.runs import RunDir, write_json

    for run in list(RunDir.active):
        try:
            run.manifest.update(status="failed", error=reason)
            write_json(run.manifest_json, run.manifest)
        except OSError:
            pass
        run.release()


def _interrupted() -> int:
    """Ctrl-C: the runs being written are marked interrupted, one line says how to go on; exit 130."""
    from reproduce import experiments
    from reproduce.runs import interrupt_active, newest_checkpoint_step
    from reproduce.sweep import SweepInterrupted

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the bookkeeping short
    exc = sys.exc_info()[1]
    if isinstance(exc, SweepInterrupted):
        print(f"interrupted: {exc}", file=sys.stderr)
        return 130
    runs = interrupt_active()
    if not runs:
        print("interrupted before a run started; nothing was written", file=sys.stderr)
        return 130
    for run in runs:
        experiment = experiments.get(run.experiment)
        step = newest_checkpoint_step(run.path) if experiment.resume is not None else None
        if step is not None:
            how = (f"its last checkpoint is at step {step}: continue it with "
                   f"`reproduce run {run.experiment} --resume {run.path}`")
        else:
            how = "it has no checkpoint to continue from: run the same command again to start it over"
        print(f"interrupted: {run.experiment} seed {run.seed} in {run.path} is marked interrupted (not "
              f"complete); {how}", file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
