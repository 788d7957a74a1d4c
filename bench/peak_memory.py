"""Peak memory of keras-rl runs against ``import tensorflow`` alone, side by side in one run.

Issue 24's target: a keras-rl run's peak RSS within 100 MB of a process that only imports
TensorFlow, on the same machine. Every command runs as a fresh single-threaded child process (as
``reproduce all`` runs its jobs); its peak RSS is the child's own ``ru_maxrss`` (``os.wait4``).
The runs use each experiment's published settings; ``--steps`` shortens the long ones (the replay
memories of these examples are small next to TensorFlow, so the peak comes early).

    python bench/peak_memory.py [--repeat 2] [--out bench/results/peak_memory.txt]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from timing import child  # bench/timing.py (the script's own directory is on sys.path)

REPO = Path(__file__).resolve().parent.parent
LIMIT_MB = 100  # issue 24: within 100 MB of `import tensorflow` alone
BASELINE = "python -c 'import tensorflow'"


def commands(tmp: str) -> dict[str, list[str]]:
    """What to measure: the baseline, then keras-rl runs of each agent kind."""
    run = [sys.executable, "-m", "reproduce", "run"]
    return {
        BASELINE: [sys.executable, "-c", "import tensorflow"],
        "cartpole-dqn (50,000 steps, published)": [*run, "cartpole-dqn", "--out", f"{tmp}/dqn"],
        "cartpole-sarsa (published)": [*run, "cartpole-sarsa", "--out", f"{tmp}/sarsa"],
        "cartpole-cem (10,000 steps)": [*run, "cartpole-cem", "--steps", "10000", "--out", f"{tmp}/cem"],
        "pendulum-ddpg (10,000 steps)": [*run, "pendulum-ddpg", "--steps", "10000", "--out", f"{tmp}/ddpg"],
        "pendulum-naf (10,000 steps)": [*run, "pendulum-naf", "--steps", "10000", "--out", f"{tmp}/naf"],
        "snake-dqn (conv net, published 8,000 steps)": [*run, "snake-dqn", "--out", f"{tmp}/snake"],
    }


def main(argv=None) -> int:
    from reproduce.runs import machine
    from reproduce.sweep import SINGLE_THREAD_ENV

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (the peak is the max)")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    env = {**os.environ, **SINGLE_THREAD_ENV}
    peaks: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeat):
            for name, argv_ in commands(f"{tmp}/{repeat}").items():
                wall, peak, proc_s, code, tail = child(argv_, env=env, cwd=REPO)
                if code != 0:
                    raise SystemExit(f"error: {name} exited {code}: {tail.strip().splitlines()[-1:]}")
                peaks.setdefault(name, []).append(peak)
    base = max(peaks[BASELINE])
    head = f"{machine()['cores']} CPUs, load {os.getloadavg()[0]:.1f}"
    lines = [f"$ python bench/peak_memory.py --repeat {args.repeat}   # {head}",
             f"{'command':<46} {'peak MB':>8} {'over TF MB':>11}  within {LIMIT_MB} MB"]
    for name, values in peaks.items():
        peak = max(values)
        over = peak - base
        verdict = "" if name == BASELINE else ("yes" if over <= LIMIT_MB else "NO")
        lines.append(f"{name:<46} {peak:8.0f} {over:11.0f}  {verdict}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        previous = args.out.read_text() if args.out.exists() else ""
        args.out.write_text(text + "\n" + (f"\n# earlier:\n{previous}" if previous else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
