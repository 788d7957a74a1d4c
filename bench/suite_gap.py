"""Benchmark: where a keras-rl suite run's time per step goes, against a bare ``fit`` of the same agent.

``cartpole-dqn`` (keras-rl's CartPole DQN example, keras-rl's own ``DQNAgent`` on the compat fast
path) in two kinds of child process, alternately, same seed and steps:

- ``bare``: what ``bench/stock_agent_speed.py`` times: the same agent built by the suite's own
  builder and seeding, then ``agent.fit(env, nb_steps, verbose=0)`` with no callback of ours;
- ``suite``: the run ``reproduce run cartpole-dqn --steps N`` makes (the experiment's ``run``
  into a temporary directory): episode log, checkpoints every 10,000 steps with the replay
  memory, the solve snapshot, the progress bar, greedy checks every 2,500 steps (the learning
  curve), the 100-episode final evaluation and the result files.

Each child reports process-time milestones (start-up = imports; build; ``fit``; the final
evaluation; writing results) and a cProfile of ``fit`` with a process-time timer, whose shares
(not wall times: the machine is shared) attribute ``fit``'s time to checkpoint saves, greedy
checks, each callback's per-step hooks, keras-rl's replay sampling and the rest (agent and env).
The profiler inflates Python-heavy code, so the shares come from the profiled runs and the
ms-per-step figures from unprofiled ones (``--repeats`` pairs; the fastest of each kind is the
figure, the median beside it). ``--check-identical`` compares the bare run's episode rewards
with the suite run's ``episodes.csv`` (same agent, same seed: the callbacks must not change
training).

    flock /tmp/bench.lock nice -n 5 python bench/suite_gap.py [--steps 50000] [--repeats 2] \\
        [--bench-steps 5000] [--out bench/results/suite_gap.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reproduce  # noqa: F401  (compat fixes before anything imports TensorFlow; does not import it)

GROUPS = (  # (label, profile keys whose cumulative process time is the group's), first match wins
    ("checkpoint saves (replay memory included)", ("callbacks/checkpoint.py:_save",)),
    ("greedy checks (eval_curve.csv)", ("reproduce/evaluation.py:solve_check",)),
    ("keras-rl replay sampling (SequentialMemory.sample)", ("rl/memory.py:sample",)),
)


def _key(filename: str, name: str) -> str:
    for root in ("site-packages/", str(Path(__file__).resolve().parents[1]) + "/"):
        if root in filename:
            filename = filename.split(root, 1)[1]
    return f"{filename}:{name}"


def _profile_shares(profile, fit_seconds: float, steps: int) -> list[dict]:
    """``fit``'s process time split into the groups, each callback's hooks, and the rest."""
    import pstats

    stats = pstats.Stats(profile).stats
    cumulative, own = {}, {}
    for (filename, _, name), (_, _, tottime, cumtime, _) in stats.items():
        key = _key(filename, name)
        cumulative[key] = cumulative.get(key, 0.0) + cumtime
        own[key] = own.get(key, 0.0) + tottime
    profiled_fit = cumulative.get("rl/core.py:fit", 0.0)
    rows = []
    for label, keys in GROUPS:
        rows.append({"what": label, "s": sum(cumulative.get(k, 0.0) for k in keys)})
    # per-step callback work outside the groups: every callback hook of ours, own time of the hooks and
    # what they call, minus the saves and checks they trigger (counted above)
    hook_names = ("on_step_begin", "on_step_end", "on_episode_begin", "on_episode_end", "on_action_begin",
                  "on_action_end")
    ours = ("callbacks/", "reproduce/kerasrl/training.py", "tqdm/")
    hooks = sum(v for k, v in cumulative.items()
                if k.startswith(ours) and k.rsplit(":", 1)[1] in hook_names and "Snapshot" not in k)
    tqdm_update = cumulative.get("tqdm/std.py:update", 0.0)
    nested = rows[0]["s"] + rows[1]["s"]
    rows.append({"what": "our callbacks' per-step hooks (tracker, log, checkpoint, snapshot, progress, "
                         "check counter)", "s": max(0.0, hooks - nested)})
    rows.append({"what": "  of which the tqdm progress bar", "s": tqdm_update, "sub": True})
    dispatch = (own.get("reproduce/compat.py:hook", 0.0)
                + cumulative.get("reproduce/compat.py:_keras_step_logs", 0.0))
    rows.append({"what": "callback dispatch (compat's CallbackList hooks, History's Keras logs)",
                 "s": dispatch})
    counted = sum(r["s"] for r in rows if not r.get("sub"))
    rows.append({"what": "agent and env (keras-rl's loop, forward, backward, env.step)",
                 "s": max(0.0, profiled_fit - counted)})
    scale = fit_seconds / profiled_fit if profiled_fit else 0.0  # profiled shares applied to unprofiled time
    for row in rows:
        row["share"] = row["s"] / profiled_fit if profiled_fit else 0.0
        row["ms_per_step"] = row["s"] * scale / steps * 1e3
    return rows


def child(kind: str, steps: int, seed: int, out: str, profile: bool) -> None:
    started = time.process_time()
    import cProfile

    import reproduce.kerasrl.run as runner
    from reproduce.experiments import cartpole_dqn

    marks = {"start-up (imports)": time.process_time() - started}
    config = cartpole_dqn.Config(steps=steps, seed=seed)
    profiler = cProfile.Profile(time.process_time) if profile else None
    fit_time = {}

    def timed_fit(agent, env, nb_steps, callbacks):
        t = time.process_time()
        if profiler:
            profiler.enable()
        try:
            return original_fit(agent, env, nb_steps, callbacks)
        finally:
            if profiler:
                profiler.disable()
            fit_time["fit"] = time.process_time() - t
            fit_time["end"] = time.process_time()

    result = {"kind": kind, "steps": steps}
    t = time.process_time()
    if kind == "bare":
        runner.validate_run(config)
        runner.seed_everything(config.seed)
        env = runner.make_env(config)
        agent = runner.make_agent(config, env)
        marks["build"] = time.process_time() - t
        history = {}

        def fit(agent, env, nb_steps, callbacks):
            history["h"] = agent.fit(env, nb_steps=nb_steps, verbose=0, callbacks=callbacks)

        original_fit = fit
        timed_fit(agent, env, steps, [])
        result["episode_rewards"] = [float(r) for r in history["h"].history["episode_reward"]]
    else:
        original_fit = runner.fit
        runner.fit = timed_fit
        with tempfile.TemporaryDirectory() as tmp:
            cartpole_dqn.EXPERIMENT.run(config, Path(tmp) / "run")
            after = time.process_time()
            import pandas as pd

            result["episode_rewards"] = [float(r) for r in
                                         pd.read_csv(Path(tmp) / "run" / "episodes.csv", skiprows=1)["r"]]
        marks["build"] = fit_time["end"] - t - fit_time["fit"]  # run set-up and build before fit
        marks["after fit (final evaluation, result files)"] = after - fit_time["end"]
    marks["fit"] = fit_time["fit"]
    result["marks"] = marks
    result["total"] = time.process_time() - started
    if profiler:
        path = out + ".prof"
        profiler.dump_stats(path)
        result["groups"] = _profile_shares(path, fit_time["fit"], steps)
    Path(out).write_text(json.dumps(result))


def run_child(kind: str, steps: int, seed: int, profile: bool, tmp: str, tag: str) -> dict:
    out = str(Path(tmp) / f"{kind}_{tag}.json")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--steps", str(steps),
                           "--seed", str(seed), "--json", out] + (["--profile"] if profile else []),
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{done.stderr[-3000:]}")
    return json.loads(Path(out).read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000, help="training steps of each run (the suite's)")
    parser.add_argument("--bench-steps", type=int, default=5_200,
                        help="also time bare runs this long (stock_agent_speed.py's 200 + 5,000); 0: skip")
    parser.add_argument("--repeats", type=int, default=2, help="unprofiled pairs, alternating")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile-kinds", nargs="*", default=["bare", "suite"], choices=("bare", "suite"),
                        help="which kinds also run once under cProfile")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument("--child", choices=("bare", "suite"), help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.steps, args.seed, args.json, args.profile)
        return 0
    lines = []

    def say(text=""):
        lines.append(text)
        print(text, flush=True)

    say(f"$ {' '.join(['python', *sys.argv])}")
    say(f"cartpole-dqn, seed {args.seed}, {args.steps} steps; process time; load average before "
        f"{tuple(round(x, 2) for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"bare": [], "suite": []}
        for repeat in range(args.repeats):
            for kind in ("bare", "suite"):
                runs[kind].append(run_child(kind, args.steps, args.seed, False, tmp, str(repeat)))
        short = [run_child("bare", args.bench_steps, args.seed, False, tmp, f"short{r}")
                 for r in range(args.repeats)] if args.bench_steps else []
        profiled = {kind: run_child(kind, args.steps, args.seed, True, tmp, "profiled")
                    for kind in runs if kind in args.profile_kinds}
    same = all(r["episode_rewards"] == runs["bare"][0]["episode_rewards"]
               for kind in runs for r in runs[kind] + ([profiled[kind]] if kind in profiled else []))
    say(f"training identical in every run (episode rewards, bare fit vs the suite's episodes.csv): {same}")
    say()
    say("ms per step (process time / steps), fastest of each kind (median):")

    def best(kind_runs, what):
        values = [r["marks"].get(what, 0.0) / r["steps"] * 1e3 for r in kind_runs]
        return min(values), statistics.median(values)

    def total(kind_runs):
        values = [r["total"] / r["steps"] * 1e3 for r in kind_runs]
        return min(values), statistics.median(values)

    if short:
        fit_short = best(short, "fit")
        say(f"  bare fit, {args.bench_steps} steps (stock_agent_speed.py's window): "
            f"{fit_short[0]:.3f} ({fit_short[1]:.3f})")
    for kind in runs:
        fit_ms, whole = best(runs[kind], "fit"), total(runs[kind])
        say(f"  {kind} fit, {args.steps} steps: {fit_ms[0]:.3f} ({fit_ms[1]:.3f}); whole process "
            f"{whole[0]:.3f} ({whole[1]:.3f})")
    say()
    say("whole process, process seconds (fastest run of each kind):")
    for kind in runs:
        fastest = min(runs[kind], key=lambda r: r["total"])
        parts = ", ".join(f"{k} {v:.1f}" for k, v in fastest["marks"].items())
        say(f"  {kind}: {fastest['total']:.1f} s = {parts}")
    say()
    say("fit, by profile share (cProfile, process-time timer), ms per step at the unprofiled fastest fit:")
    for kind in profiled:
        fit_s = min(r["marks"]["fit"] for r in runs[kind])
        say(f"  {kind} (profiled fit {profiled[kind]['marks']['fit']:.1f} s, unprofiled {fit_s:.1f} s):")
        for row in _profile_shares_scaled(profiled[kind], fit_s, args.steps):
            say(f"    {row['what']}: {row['share'] * 100:.1f}%, {row['ms_per_step']:.3f} ms")
    say(f"load average after {tuple(round(x, 2) for x in os.getloadavg())}")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


def _profile_shares_scaled(profiled: dict, fit_seconds: float, steps: int) -> list[dict]:
    scale = fit_seconds / profiled["marks"]["fit"]
    return [dict(row, ms_per_step=row["ms_per_step"] * scale) for row in profiled["groups"]]


if __name__ == "__main__":
    sys.exit(main())
