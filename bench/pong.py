"""garethjns's Pong DQN: the cost of a step here, a checkpoint/resume check, and the published budget's cost.

One process, published settings (:mod:`reproduce.originals.garethjns_pong`, replay 10,000, batch 32):

1. **env alone**: the wrapped ``PongNoFrameskip-v4`` (4 emulator frames, grey 84 x 84, frame difference)
   under random actions, ms per agent step; the length of random-play episodes (how the run starts:
   eps >= 1 for its first 10,000 steps, and the figure's first ~80 episodes score about -20), and of one
   episode of a scripted ball-tracking player (it wins, with long rallies: how a run's winning episodes
   can look).
2. **run A**: the agent fills its replay buffer (``--fill`` steps, all random, no training), trains
   ``--checkpoint-after`` steps, saves a checkpoint to disk (``callbacks.store``, as the experiment does,
   mid-episode), then runs ``--compare`` more steps, recording actions and rewards.
3. **run B**: a new agent restored from that checkpoint on disk runs the same ``--compare`` steps; its
   actions, rewards, weights, Adam slots and replay buffer must equal run A's.

Per-step cost (wall and process time) of the agent step with training is run A's mean over its
training steps; the estimate of the published budget (600 episodes, 3 repetitions) multiplies it by an
episode length, printed for both measured lengths.

    python bench/pong.py [--fill 10000] [--checkpoint-after 300] [--compare 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import cpu  # bench/timing.py (the script's own directory is on sys.path)

import reproduce  # noqa: F401
from reproduce.envs import pong
from reproduce.originals.garethjns_pong import PongDQN, Settings

EPISODES, REPS = 600, 3  # the published figure: 600 episodes; the 3 repetitions


def env_alone(steps: int, seed: int) -> tuple[float, float, list[int]]:
    """ms per wrapped env step (wall, CPU) under random actions, and the lengths of finished episodes."""
    env, rng = pong.make_env(), np.random.default_rng(seed)
    env.reset(seed=seed)
    lengths, n = [], 0
    wall, proc = time.perf_counter(), cpu()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(pong.N_ACTIONS)))
        n += 1
        if terminated or truncated:
            lengths.append(n)
            n = 0
            env.reset()
    return 1000 * (time.perf_counter() - wall) / steps, 1000 * (cpu() - proc) / steps, lengths


def tracker_episode(seed: int) -> tuple[float, int]:
    """One episode of a player that moves its paddle toward the ball (RAM 51: paddle, 54: ball)."""
    env = pong.make_env()
    env.reset(seed=seed)
    ale, total, n = env.unwrapped.ale, 0.0, 0
    while n < Settings().max_episode_steps:
        ram = ale.getRAM()
        paddle, ball = int(ram[51]), int(ram[54])
        action = 0 if ball == 0 else 2 if paddle > ball + 2 else 3 if paddle < ball - 2 else 0
        _, reward, terminated, truncated, _ = env.step(action)
        total, n = total + reward, n + 1
        if terminated or truncated:
            break
    return total, n


def steps(agent: PongDQN, n: int) -> tuple[list, float, float]:
    """``n`` agent steps: their (action, reward), wall and process seconds."""
    wall, proc = time.perf_counter(), cpu()
    out = [agent.step()[:2] for _ in range(n)]
    return out, time.perf_counter() - wall, cpu() - proc


def main() -> None:
    from callbacks.store import load_arrays_state, save_arrays_state

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fill", type=int, default=Settings().buffer_size, help="steps before training")
    parser.add_argument("--checkpoint-after", type=int, default=300, help="training steps before the save")
    parser.add_argument("--compare", type=int, default=300, help="steps compared after the resume")
    parser.add_argument("--env-steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = Settings(buffer_size=args.fill)
    print(f"load average {tuple(round(x, 2) for x in os.getloadavg())}, {os.cpu_count()} cores")

    env_ms, env_cpu_ms, lengths = env_alone(args.env_steps, args.seed)
    random_len = float(np.mean(lengths)) if lengths else float("nan")
    print(f"env alone (random actions): {env_ms:.2f} ms wall, {env_cpu_ms:.2f} ms CPU per agent step "
          f"({args.env_steps} steps); random-play episodes: lengths {lengths}")
    track_return, track_len = tracker_episode(args.seed)
    print(f"scripted ball tracker: one episode, return {track_return:+.0f}, {track_len} steps")

    a = PongDQN(args.seed, settings)
    _, fill_wall, fill_cpu = steps(a, args.fill)
    print(f"run A fill: {args.fill} steps, {1000 * fill_wall / args.fill:.2f} ms wall, "
          f"{1000 * fill_cpu / args.fill:.2f} ms CPU per step (eps {a.eps:.3f}, no training)")
    _, w1, c1 = steps(a, args.checkpoint_after)
    with tempfile.TemporaryDirectory() as tmp:
        state, arrays = a.state()
        t0 = time.perf_counter()
        path = save_arrays_state(Path(tmp), a.steps, arrays, state)
        save_s = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in path.iterdir())
        print(f"checkpoint at step {a.steps} (episode {a.episode + 1}, its step {a.episode_steps}, "
              f"{a.log.train_steps} training steps): {size / 1e6:.0f} MB written in {save_s:.1f} s")
        after_a, w2, c2 = steps(a, args.compare)
        trained = a.log.train_steps
        ms_wall, ms_cpu = 1000 * (w1 + w2) / trained, 1000 * (c1 + c2) / trained
        share = 100 * env_ms / ms_wall
        print(f"run A training: {trained} steps, {ms_wall:.1f} ms wall, {ms_cpu:.1f} ms CPU per agent step "
              f"(act + env + replay + predict 64 + train 32); env alone is {share:.0f}% of it")
        a_state, a_arrays = a.state()
        t0 = time.perf_counter()
        saved_state, saved_arrays = load_arrays_state(path)
        b = PongDQN.restore(saved_state, saved_arrays)
        load_s = time.perf_counter() - t0
    after_b, _, _ = steps(b, args.compare)
    b_state, b_arrays = b.state()
    same_steps = after_a == after_b
    keys = sorted(a_arrays)
    differing = [k for k in keys if not np.array_equal(a_arrays[k], b_arrays[k])]
    weight_diff = max(float(np.abs(a_arrays[k] - b_arrays[k]).max()) for k in keys if k.startswith("w_"))
    rewards = [r for _, r in after_a if r]
    print(f"resume (load + rebuild {load_s:.1f} s): next {args.compare} steps same actions and rewards: "
          f"{same_steps} (rewards in them: {rewards}); arrays equal after them: {len(keys) - len(differing)}"
          f"/{len(keys)} (weights, target, Adam, replay, generators, emulator); max |weight difference| "
          f"{weight_diff:.1e}{'; differing: ' + ', '.join(differing) if differing else ''}")

    fill = Settings().buffer_size
    print(f"published budget, {EPISODES} episodes x {REPS} repetitions, training from step {fill:,} on; "
          f"wall: at this load; CPU: this process's own time (threads summed), about an idle machine's wall:")
    for label, length in (("random play's", random_len), ("the ball tracker's", track_len)):
        total = EPISODES * length
        hours = [((total - fill) * train + fill * 1000 * filled / args.fill) / 3.6e6
                 for train, filled in ((ms_wall, fill_wall), (ms_cpu, fill_cpu))]
        print(f"  episodes of {label} length ({length:.0f} steps): {total / 1e3:.0f}k steps per repetition; "
              f"wall {hours[0]:.1f} h each, {REPS * hours[0]:.1f} h for {REPS}; "
              f"CPU {hours[1]:.1f} h each, {REPS * hours[1]:.1f} h for {REPS}")
    print(f"load average after: {tuple(round(x, 2) for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
