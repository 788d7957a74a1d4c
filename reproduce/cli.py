"""Command line: ``reproduce doctor|list|run ...`` (also ``python -m reproduce``).

Bad input prints one line (``error: ...``) to stderr and exits 2, before anything is
written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reproduce.runs import ConfigError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: ...``) and exit code 2."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer seed >= 0, got {text!r}")
    return value


def _run(argv: list[str]) -> int:
    from reproduce import experiments
    from reproduce.runs import check_out_dir, default_run_dir

    if not argv or argv[0].startswith("-"):
        known = ", ".join(experiments.names())
        raise ConfigError(f"reproduce run needs an experiment name first; one of: {known}")
    name, rest = argv[0], argv[1:]
    module = experiments.get(name)
    parser = Parser(prog=f"reproduce run {name}", description=module.DESCRIPTION)
    parser.add_argument("--seed", type=seed_int, default=0, help="first seed (default 0)")
    parser.add_argument("--seeds", type=positive_int, default=1,
                        help="number of independent seeds: seed, seed+1, ... (default 1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="run directory (default results/runs/NAME/seedS); with --seeds N, "
                             "each seed writes to OUT/seedS")
    parser.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                        help="continue RUN_DIR from its newest good checkpoint to its configured steps")
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    if args.resume is not None:
        return _resume(name, module, args.resume)
    config = module.config_from_args(args)  # validates everything before any file is written
    seeds = range(args.seed, args.seed + args.seeds)
    if args.out is not None:
        check_out_dir(args.out)
    for seed in seeds:
        if args.out is None:
            run_dir = default_run_dir(name, seed)
        else:
            run_dir = args.out if args.seeds == 1 else args.out / f"seed{seed}"
        check_out_dir(run_dir)
        summary = module.run(config.with_seed(seed) if hasattr(config, "with_seed")
                             else _replace_seed(config, seed), run_dir)
        print(f"{name} seed {seed}: {summary}  -> {run_dir}")
    return 0


def _resume(name, module, run_dir: Path) -> int:
    """``reproduce run NAME --resume RUN_DIR``: the run's own config, from its newest good checkpoint."""
    if not hasattr(module, "resume"):
        raise ConfigError(f"{name} does not checkpoint (a run takes seconds); rerun it without --resume")
    if not (run_dir / "config.json").is_file():
        raise ConfigError(f"--resume expects a run directory with config.json, got {run_dir}; "
                          f"pass the --out directory of an earlier run")
    summary = module.resume(run_dir)
    print(f"{name} resumed: {summary}  -> {run_dir}")
    return 0


def _replace_seed(config, seed):
    import dataclasses

    return dataclasses.replace(config, seed=seed)


def _list() -> int:
    import dataclasses

    from reproduce import experiments

    def brief(value):
        """A nested config as only the fields that differ from its class's defaults."""
        if not dataclasses.is_dataclass(value):
            return repr(value)
        base = type(value)()
        changed = [f"{f.name}={brief(getattr(value, f.name))}" for f in dataclasses.fields(value)
                   if getattr(value, f.name) != getattr(base, f.name)]
        return f"{type(value).__name__}({', '.join(changed)})"

    for name in experiments.names():
        module = experiments.get(name)
        defaults = ", ".join(f"{f.name}={brief(getattr(module.Config(), f.name))}"
                             for f in dataclasses.fields(module.Config) if f.name != "seed")
        print(f"{name:<20} {module.DESCRIPTION}")
        print(f"{'':<20} defaults: {defaults}")
    return 0


def _report(results: Path) -> int:
    from reproduce import report

    outcome = report.build(results)
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
    code = _report(root)
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


def _sweep_command(args) -> int:
    from reproduce import experiments
    from reproduce.runs import RUNS_DIR, check_out_dir
    from reproduce.sweep import Job, make_executor

    experiments.get(args.experiment)  # unknown names fail here, with a suggestion
    executor = make_executor(args.executor, args.workers, args.address)
    out = check_out_dir(args.out or RUNS_DIR / args.experiment)
    extra = tuple(a for a in args.extra if a != "--")
    jobs = [Job(args.experiment, seed, out / f"seed{seed}", extra)
            for seed in range(args.seed, args.seed + args.seeds)]
    print(f"sweep: {args.experiment}, {len(jobs)} seeds, {args.executor} executor -> {out}", flush=True)
    return 1 if _sweep(jobs, executor, out) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="reproduce", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    sub.add_parser("doctor", help="print versions and compat fixes, run a keras-rl smoke test")
    sub.add_parser("list", help="list experiments with their defaults")
    rep = sub.add_parser("report", help="build REPORT.md, summary CSVs and plots from run directories")
    rep.add_argument("--results", type=Path, default=Path("results"),
                     help="results directory holding runs/ (default results)")
    every = sub.add_parser("all", help="run the reproduction suite (skipping complete runs), then the report")
    every.add_argument("--quick", action="store_true", help="a small smoke version (about a minute)")
    every.add_argument("--results", type=Path, default=Path("results"),
                       help="results directory (default results; --quick uses RESULTS/quick)")
    sw = sub.add_parser("sweep", help="run one experiment over many seeds in parallel (local pool or Ray)")
    sw.add_argument("experiment")
    sw.add_argument("--seeds", type=positive_int, default=5, help="number of seeds (default 5)")
    sw.add_argument("--seed", type=seed_int, default=0, help="first seed (default 0)")
    sw.add_argument("--out", type=Path, default=None,
                    help="sweep directory (default results/runs/EXPERIMENT)")
    sw.add_argument("extra", nargs=argparse.REMAINDER, help="after --: options passed to `reproduce run`")
    for p in (every, sw):
        p.add_argument("--workers", type=positive_int, default=2, help="parallel processes (default 2)")
        p.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="local process pool (default) or Ray tasks")
        p.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray)")
    run = sub.add_parser("run", help="run an experiment: reproduce run NAME [options]", add_help=False)
    run.add_argument("argv", nargs=argparse.REMAINDER)
    ev = sub.add_parser("evaluate", help="reload a checkpoint, run greedy episodes, print mean +/- CI")
    ev.add_argument("path", type=Path, help="run directory (newest good checkpoint) or ckpt_<step>_steps")
    ev.add_argument("--episodes", type=positive_int, default=10, help="greedy test episodes (default 10)")
    ev.add_argument("--seed", type=seed_int, default=0, help="env seed for the test episodes (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            from reproduce import doctor

            return doctor.main()
        if args.command == "list":
            return _list()
        if args.command == "run":
            return _run(args.argv)
        if args.command == "evaluate":
            from reproduce import evaluate

            return evaluate.main(args.path, episodes=args.episodes, seed=args.seed)
        if args.command == "report":
            return _report(args.results)
        if args.command == "all":
            return _all(args)
        if args.command == "sweep":
            return _sweep_command(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
