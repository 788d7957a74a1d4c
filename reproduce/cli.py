"""Command line: ``reproduce doctor|list|run ...`` (also ``python -m reproduce``).

Bad input prints one line (``error: ...``) to stderr and exits 2, before anything is
written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reproduce.runs import ConfigError


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
    parser = argparse.ArgumentParser(prog=f"reproduce run {name}", description=module.DESCRIPTION)
    parser.add_argument("--seed", type=seed_int, default=0, help="first seed (default 0)")
    parser.add_argument("--seeds", type=positive_int, default=1,
                        help="number of independent seeds: seed, seed+1, ... (default 1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="run directory (default results/runs/NAME/seedS); with --seeds N, "
                             "each seed writes to OUT/seedS")
    module.add_arguments(parser)
    args = parser.parse_args(rest)
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


def _replace_seed(config, seed):
    import dataclasses

    return dataclasses.replace(config, seed=seed)


def _list() -> int:
    import dataclasses

    from reproduce import experiments

    for name in experiments.names():
        module = experiments.get(name)
        defaults = ", ".join(f"{f.name}={getattr(module.Config(), f.name)!r}"
                             for f in dataclasses.fields(module.Config) if f.name != "seed")
        print(f"{name:<20} {module.DESCRIPTION}")
        print(f"{'':<20} defaults: {defaults}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reproduce", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="print versions and compat fixes, run a keras-rl smoke test")
    sub.add_parser("list", help="list experiments with their defaults")
    run = sub.add_parser("run", help="run an experiment: reproduce run NAME [options]", add_help=False)
    run.add_argument("argv", nargs=argparse.REMAINDER)
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
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
