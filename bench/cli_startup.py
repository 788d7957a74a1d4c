"""CLI start-up, side by side in one run: ``reproduce --help``, ``reproduce list`` and ``import tensorflow``.

Each command runs as a whole process ``--repeat`` times (interleaved, so machine noise hits all
three alike); prints the median wall time and the peak RSS (``ru_maxrss`` of the child,
from ``os.wait4``). Target: ``--help`` and ``list`` each <= 0.5 s median and
<= 150 MB peak. Usage: ``python bench/cli_startup.py [--repeat 7]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from timing import child  # bench/timing.py (the script's own directory is on sys.path)

COMMANDS = {
    "reproduce --help": [sys.executable, "-m", "reproduce", "--help"],
    "reproduce list": [sys.executable, "-m", "reproduce", "list"],
    "python -c 'import tensorflow'": [sys.executable, "-c", "import tensorflow"],
}


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of ``command`` as a fresh child process."""
    wall, peak, _, code, _ = child(command)
    if code != 0:
        raise SystemExit(f"error: {' '.join(command)} failed")
    return wall, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    times = {name: [] for name in COMMANDS}
    peaks = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():
            wall, peak = measure(command)
            times[name].append(wall)
            peaks[name].append(peak)
    print(f"{'command':<32} {'median s':>9} {'min s':>7} {'peak MB':>8}   ({args.repeat} runs, interleaved)")
    for name in COMMANDS:
        med, low, peak = statistics.median(times[name]), min(times[name]), max(peaks[name])
        print(f"{name:<32} {med:9.2f} {low:7.2f} {peak:8.0f}")
    tf = statistics.median(times["python -c 'import tensorflow'"])
    for name in ("reproduce --help", "reproduce list"):
        med, peak = statistics.median(times[name]), max(peaks[name])
        verdict = "meets" if med <= 0.5 and peak <= 150 else "MISSES"
        print(f"{name}: {med:.2f} s, {peak:.0f} MB ({tf / med:.0f}x faster than importing TensorFlow): "
              f"{verdict} the <= 0.5 s / 150 MB target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
