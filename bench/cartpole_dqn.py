"""Benchmark: ``cartpole-dqn-tuned`` vs SB3 DQN (rl-zoo's tuned CartPole-v1), same seeds, one run.

Every run is its own child process, so its wall time and peak RSS (``os.wait4`` rusage of that
child) are its own. Both sides stop once solved under the same rule: every 1,000 steps a
10-episode greedy check; if its mean is >= 475, 100 greedy episodes (the same reset seeds
for both sides) must average >= 475. Both sides train at most 50,000 steps.

    pip install -e ".[bench]"   # torch first: pip install torch==2.13.0 (CPU wheel)
    python bench/cartpole_dqn.py --seeds 10

Writes ``bench/results/cartpole_dqn.csv`` (per run) and prints per-seed and median tables.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
THRESHOLD, CHECK_EVERY, CHECK_EPISODES, CONFIRM, EVAL_SEED_BASE = 475.0, 1000, 10, 100, 1_000_000

# rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1
ZOO = dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000, gamma=0.99,
           target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16,
           exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[256, 256]))
ZOO_STEPS = 50_000


def sb3_evaluate(model, episodes, seed):
    """Greedy batched evaluation, reset seeds ``seed..seed+episodes-1`` (as reproduce's evaluate)."""
    import gymnasium as gym

    envs = [gym.make("CartPole-v1") for _ in range(episodes)]
    obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    returns = np.zeros(episodes)
    active = np.arange(episodes)
    while active.size:
        actions, _ = model.predict(obs[active], deterministic=True)
        still = []
        for a, i in zip(actions, active):
            o, r, term, trunc, _ = envs[i].step(int(a))
            obs[i] = o
            returns[i] += r
            if not (term or trunc):
                still.append(i)
        active = np.array(still, dtype=int)
    return returns


def sb3_child(seed: int, out: Path) -> None:
    """Train SB3 DQN with the zoo's hyperparameters; stop once solved; write a summary JSON."""
    import gymnasium as gym
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    t0 = time.perf_counter()
    result = {"solved": False, "steps_to_solve": None, "time_to_solve_s": None, "eval_mean": None}

    class SolveCheck(BaseCallback):
        def _on_step(self):
            if self.num_timesteps % CHECK_EVERY:
                return True
            quick = sb3_evaluate(self.model, CHECK_EPISODES, EVAL_SEED_BASE + 1000 * seed + 500_000)
            if quick.mean() >= THRESHOLD:
                full = sb3_evaluate(self.model, CONFIRM, EVAL_SEED_BASE + 1000 * seed)
                if full.mean() >= THRESHOLD:
                    result.update(solved=True, steps_to_solve=self.num_timesteps,
                                  eval_mean=float(full.mean()),
                                  eval_std=float(full.std(ddof=1)),
                                  time_to_solve_s=time.perf_counter() - t0)
                    return False
            return True

    model = DQN("MlpPolicy", gym.make("CartPole-v1"), seed=seed, verbose=0, **ZOO)
    model.learn(total_timesteps=ZOO_STEPS, callback=SolveCheck())
    if not result["solved"]:
        full = sb3_evaluate(model, CONFIRM, EVAL_SEED_BASE + 1000 * seed)
        result.update(eval_mean=float(full.mean()), eval_std=float(full.std(ddof=1)))
    result["steps_trained"] = int(model.num_timesteps)
    out.write_text(json.dumps(result))


def run_child(argv: list[str]) -> tuple[float, float, int]:
    """Run a child process; return (wall seconds, peak RSS in MB, exit code)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.stderr.write(proc.stderr.read().decode()[-2000:])
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--sb3-child", nargs=2, metavar=("SEED", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "cartpole_dqn.csv")
    args = parser.parse_args(argv)
    if args.sb3_child:
        sb3_child(int(args.sb3_child[0]), Path(args.sb3_child[1]))
        return 0
    import pandas as pd

    from reproduce.stats import mean_ci

    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            run_dir = Path(tmp) / f"tuned{seed}"
            wall, rss, rc = run_child([sys.executable, "-m", "reproduce", "run", "cartpole-dqn-tuned",
                                       "--seed", str(seed), "--out", str(run_dir)])
            s = json.loads((run_dir / "summary.json").read_text()) if rc == 0 else {}
            rows.append({"agent": "cartpole-dqn-tuned", "seed": seed, "process_wall_s": wall,
                         "peak_rss_mb": rss,
                         "solved": s.get("solved"), "steps_to_solve": s.get("steps_to_solve"),
                         "time_to_solve_s": s.get("time_to_solve_s"), "eval_mean": s.get("eval_mean"),
                         "eval_ci_low": s.get("eval_ci_low"), "eval_ci_high": s.get("eval_ci_high"),
                         "load1": os.getloadavg()[0]})
            print(rows[-1], flush=True)
            out = Path(tmp) / f"sb3_{seed}.json"
            wall, rss, rc = run_child([sys.executable, str(Path(__file__).resolve()), "--sb3-child",
                                       str(seed), str(out)])
            s = json.loads(out.read_text()) if rc == 0 else {}
            half = float(1.984 * s.get("eval_std", 0.0) / np.sqrt(CONFIRM)) if s else None
            rows.append({"agent": "sb3-zoo-dqn", "seed": seed, "process_wall_s": wall, "peak_rss_mb": rss,
                         "solved": s.get("solved"), "steps_to_solve": s.get("steps_to_solve"),
                         "time_to_solve_s": s.get("time_to_solve_s"), "eval_mean": s.get("eval_mean"),
                         "eval_ci_low": s["eval_mean"] - half if s else None,
                         "eval_ci_high": s["eval_mean"] + half if s else None, "load1": os.getloadavg()[0]})
            print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(frame.round(2).to_markdown(index=False))
    summary = []
    for agent, group in frame.groupby("agent", sort=False):
        tts = group["time_to_solve_s"].astype(float).fillna(np.inf)  # unsolved: never
        m, lo, hi = mean_ci(group["eval_mean"].astype(float))
        summary.append({"agent": agent, "solved": f"{int(group['solved'].sum())}/{len(group)}",
                        "median_time_to_solve_s": float(np.median(tts)),
                        "median_steps_to_solve": float(np.median(group["steps_to_solve"].astype(float)
                                                                 .fillna(np.inf))),
                        "median_process_wall_s": float(group["process_wall_s"].median()),
                        "eval_mean_over_seeds": f"{m:.1f} [{lo:.1f}, {hi:.1f}]",
                        "max_peak_rss_mb": float(group["peak_rss_mb"].max())})
    print()
    print(pd.DataFrame(summary).round(1).to_markdown(index=False))
    print(f"\nunsolved runs count as never solved (inf) in the medians; load average before "
          f"{load_before}, after {os.getloadavg()} on {os.cpu_count()} CPUs; rows in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
