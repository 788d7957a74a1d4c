"""Behaviour before and after a change, on one machine.

``python bench/before_after.py run TREE OUT`` runs, from the source tree TREE (``git worktree add
/tmp/before REV`` for an old revision), every experiment of the quick suite at seed 0 and five
experiments at their full budget. ``python bench/before_after.py compare BEFORE AFTER`` then checks
that every CSV is byte-identical once timing columns are dropped, and that every non-timing summary
value is equal (a key on one side only counts as a difference).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FULL = ("nchain-tabular", "nchain-keras", "cartpole-dqn-tuned", "catch-qlearning4k", "cartpole-dotmask")


def timing(key: str) -> bool:
    return key.endswith("_s") or key in ("seconds", "t", "t_start")


def run(tree: Path, out: Path) -> None:
    sys.path.insert(0, str(tree))
    from reproduce import suite

    jobs, seen = [], set()
    for experiment, variant, _, args in suite.QUICK:
        key = experiment + (f"/{variant}" if variant else "")
        if key not in seen:
            seen.add(key)
            jobs.append((f"quick/{key}", experiment, list(args)))
    jobs += [(f"full/{e}", e, ["--rule", "tutorial"] if e == "nchain-tabular" else []) for e in FULL]
    env = dict(os.environ, PYTHONPATH=str(tree))
    for name, experiment, args in jobs:
        done = out / name / "manifest.json"
        if done.exists() and '"complete"' in done.read_text():
            continue
        result = subprocess.run([sys.executable, "-m", "reproduce", "run", experiment, "--seed", "0", "--out",
                                 str(out / name), *args], env=env, cwd=tree, capture_output=True, text=True)
        print(name, result.returncode, result.stderr.strip().splitlines()[-1:] if result.returncode else "")


def differences(before: Path, after: Path) -> list[str]:
    import pandas as pd

    problems = []
    for f in sorted(before.glob("*.csv")):
        g = after / f.name
        if not g.exists():
            problems.append(f"{f.name} missing")
        elif f.read_bytes() != g.read_bytes():
            skip = 1 if f.name == "episodes.csv" else 0  # the Monitor header holds a start time
            x, y = (frame[[c for c in frame.columns if not timing(c)]]
                    for frame in (pd.read_csv(f, skiprows=skip), pd.read_csv(g, skiprows=skip)))
            if x.to_csv(index=False) != y.to_csv(index=False):
                problems.append(f"{f.name} differs")
    old, new = (json.loads((d / "summary.json").read_text()) for d in (before, after))
    problems += [f"summary[{k}]: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new))
                 if not timing(k) and old.get(k) != new.get(k)]
    return problems


def compare(before: Path, after: Path) -> int:
    count = 0
    for manifest in sorted(before.rglob("manifest.json")):
        rel = manifest.parent.relative_to(before)
        found = (after / rel / "summary.json").exists()
        problems = differences(manifest.parent, after / rel) if found else ["missing"]
        detail = ": " + "; ".join(problems) if problems else ""
        print(("DIFF " if problems else "OK   ") + str(rel) + detail)
        count += bool(problems)
    print("runs with differences:", count)
    return count


if __name__ == "__main__":
    command, first, second = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    run(first, second) if command == "run" else compare(first, second)
