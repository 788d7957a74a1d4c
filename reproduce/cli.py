"""Command line: ``reproduce doctor|list|run|sweep|all|report|evaluate`` (also ``python -m reproduce``).

Help, ``list`` and every usage error answer without importing TensorFlow. Bad input prints
one line (``error: ...``) to stderr and exits 2, before anything is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
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


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer seed >= 0, got {text!r}")
    return value


def add_seed_options(parser, seeds_default: int, out_help: str) -> None:
    parser.add_argument("--seed", type=seed_int, default=0, help="first seed (default 0)")
    parser.add_argument("--seeds", type=positive_int, default=seeds_default,
                        help=f"number of seeds: seed, seed+1, ... (default {seeds_default})")
    parser.add_argument("--out", type=Path, default=None, help=out_help)


def experiment_parser(experiment, prog: str) -> Parser:
    """The parser of one experiment's own options (declared on its Config)."""
    from reproduce import options

    parser = Parser(prog=prog, description=experiment.summary)
    options.add_arguments(parser, experiment.config)
    return parser


def experiment_config(experiment, args: argparse.Namespace, seed: int = 0):
    """The experiment's config from parsed options, every option checked; raises ConfigError."""
    from reproduce import options

    return experiment.validate(options.from_args(experiment.config, args, seed=seed))


def _run(argv: list[str]) -> int:
    from reproduce import experiments
    from reproduce.runs import RunDir, check_out_dir, default_run_dir

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
    parser.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                        help="continue RUN_DIR from its newest good checkpoint to its configured steps")
    args = parser.parse_args(rest)
    if args.resume is not None:
        if experiment.resume is None:
            raise ConfigError(f"{name} does not checkpoint (a run takes seconds); rerun it without --resume")
        if not RunDir(args.resume).config_json.is_file():
            raise ConfigError(f"--resume expects a run directory with config.json, got {args.resume}; "
                              f"pass the --out directory of an earlier run")
        print(f"{name} resumed: {experiment.resume(args.resume)}  -> {args.resume}")
        return 0
    config = experiment_config(experiment, args, args.seed)  # before any file is written
    if args.out is not None:
        check_out_dir(args.out)
    for seed in range(args.seed, args.seed + args.seeds):
        if args.out is None:
            run_dir = default_run_dir(name, seed)
        else:
            run_dir = args.out if args.seeds == 1 else args.out / f"seed{seed}"
        check_out_dir(run_dir)
        summary = experiment.run(dataclasses.replace(config, seed=seed), run_dir)
        print(f"{name} seed {seed}: {summary}  -> {run_dir}")
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

    outcome = report.build(results, include=list(include), quick=quick)
    for path, reason in outcome["problems"]:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if outcome["missing"]:
        print(f"no runs yet for: {', '.join(outcome['missing'])}", file=sys.stderr)
    print(f"report: {outcome['runs']} runs -> {outcome['report']} ({len(outcome['plots'])} plots)")
    return 0


def _all(args) -> int:
    from reproduce import suite
    from reproduce.sweep import make_executor

    # --quick writes under RESULTS/quick so a smoke run never mixes with the committed results
    root = args.results / "quick" if args.quick else args.results
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
        print(f"  {result.status:<8} {result.job.experiment} seed {result.job.seed} "
              f"{result.wall_time_s:6.1f} s{note}", flush=True)

    summary = runs_dir / "sweep_summary.csv"
    frame = sweep(jobs, executor, summary, progress)
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
    executor = make_executor(args.executor, args.workers, args.address)
    out = check_out_dir(args.out or RUNS_DIR / experiment.name)
    jobs = [Job(experiment.name, seed, out / f"seed{seed}", tuple(run_options))
            for seed in range(args.seed, args.seed + args.seeds)]
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
    rep.add_argument("--results", type=Path, default=Path("results"),
                     help="results directory holding runs/ (default results)")
    rep.add_argument("--include", type=Path, action="append", default=[], metavar="DIR",
                     help="also read the run directories under DIR (e.g. bench/results/sb3_runs); repeatable")
    every = sub.add_parser("all", help="run the reproduction suite (skipping complete runs), then the report")
    every.add_argument("--quick", action="store_true", help="a small smoke version (about a minute)")
    every.add_argument("--results", type=Path, default=Path("results"),
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
        "report": lambda: _report(args.results, args.include),
        "all": lambda: _all(args),
    }
    try:
        return commands[args.command]()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in DISK_ERRORS:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot write{where}: [Errno {exc.errno}] {exc.strerror}; free space (or fix the "
              f"permissions), then run the same command again (a run that has a checkpoint continues with "
              f"--resume RUN_DIR)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
