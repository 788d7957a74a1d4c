"""garethjns's Pong DQN: the cost of a step here, a checkpoint/resume check, and the published budget's cost.

One process, published settings (:mod:`reproduce.originals.garethjns_pong`, replay 10,000, batch 32):

1. **env alone**: the wrapped ``PongNoFrameskip-v4`` (4 emulator frames, grey 84 x 84, frame difference)
   under random actions, ms per agent step, and the length of random-play episodes (how the run starts:
   eps >= 1 for its first 10,000 steps, and the figure's first ~80 episodes score about -20).
2. **run A**: the agent fills its replay buffer (``--fill`` steps, all random, no training), trains
   ``--checkpoint-after`` steps, saves a checkpoint to disk (``callbacks.store``, as the experiment does,
   mid-episode), then runs ``--compare`` more steps, recording actions and rewards.
3. **run B**: a new agent restored from that checkpoint on disk runs the same ``--compare`` steps; its
   actions, rewards, weights, Adam slots and replay buffer must equal run A's.

Per-step cost (wall and process time) of the agent step with training is run A's mean over its
training steps; the estimate of the published budget (600 episodes, 3 repetitions) multiplies it by an
episode length: random play's (measured here), a trained DQN's (rl-baselines3-zoo's benchmark: 1,702
agent steps per episode at +20.6), and the two mixed as the published curve suggests (first 100 episodes
losing).

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
LOSING = 100  # the figure's mean is near -20 until about episode 80 and crosses 0 near 160
# rl-baselines3-zoo benchmark.md, dqn PongNoFrameskip-v4 (mean reward 20.6): 598,998 eval timesteps over
# 88 episodes; its Atari rows count frames (Monitor sits below the 4-frame skip: ~600k where the other
# envs have ~150k), so 598,998 / 88 / 4 = 1,702 agent steps per episode of a trained DQN.
TRAINED_LENGTH = 598_998 / 88 / 4


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
    parser.add_argument("--trained-length", type=float, default=TRAINED_LENGTH,
                        help="agent steps per episode of a trained agent (default: rl-zoo's DQN, 1,702)")
    args = parser.parse_args()
    settings = Settings(buffer_size=args.fill)
    print(f"load average {tuple(round(x, 2) for x in os.getloadavg())}, {os.cpu_count()} cores")

    env_ms, env_cpu_ms, lengths = env_alone(args.env_steps, args.seed)
    random_len = float(np.mean(lengths)) if lengths else float("nan")
    print(f"env alone (random actions): {env_ms:.2f} ms wall, {env_cpu_ms:.2f} ms CPU per agent step "
          f"({args.env_steps} steps); random-play episodes: lengths {lengths}")

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
        n_trained = a.log.train_steps
        ms_wall, ms_cpu = 1000 * (w1 + w2) / n_trained, 1000 * (c1 + c2) / n_trained
        share = 100 * env_ms / ms_wall
        print(f"run A training: {n_trained} steps, {ms_wall:.1f} ms wall, {ms_cpu:.1f} ms CPU per agent step "
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
          f"wall at this load, and CPU (this process's time, its threads summed):")
    mixed = (LOSING * random_len + (EPISODES - LOSING) * args.trained_length) / EPISODES
    trained = args.trained_length
    for label, length in ((f"random play's length ({random_len:.0f}, measured above)", random_len),
                          (f"a trained DQN's length ({trained:.0f}, rl-zoo's benchmark)", trained),
                          (f"the first {LOSING} random play's, the rest a trained DQN's", mixed)):
        total = EPISODES * length
        hours = [((total - fill) * train + fill * 1000 * filled / args.fill) / 3.6e6
                 for train, filled in ((ms_wall, fill_wall), (ms_cpu, fill_cpu))]
        print(f"  episodes of {label}: {total / 1e3:.0f}k steps per repetition; "
              f"wall {hours[0]:.1f} h each, {REPS * hours[0]:.1f} h for {REPS}; "
              f"CPU {hours[1]:.1f} h each, {REPS * hours[1]:.1f} h for {REPS}")
    print(f"load average after: {tuple(round(x, 2) for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
