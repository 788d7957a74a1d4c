"""Builders and a worker script for the checkpoint tests (this file holds no tests).

The tests run it in fresh processes (``python tests/test_checkpoint_worker.py ...``) to
train, resume, be killed and reload, and import its builders in-process. The agents are
small real keras-rl ``DQNAgent``s on NChain (40-step episodes, so a few hundred steps hold
several episodes) and CartPole.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import reproduce  # noqa: E402,F401,I001  (compat fixes first)
import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from reproduce.adapters import KerasRLEnv, OneHotProcessor  # noqa: E402

FIXED_NCHAIN_OBS = np.eye(5, dtype=np.float32)


def seed_everything(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    tf.compat.v1.set_random_seed(seed)
    tf.keras.utils.set_random_seed(seed)


def make_env(config: dict):
    if config["env"] == "nchain":
        env = gym.make("NChain-v0", max_episode_steps=config.get("episode_steps", 40))
    else:
        env = gym.make("CartPole-v1")
    return KerasRLEnv(env, seed=config["seed"])


def build_agent(config: dict):
    """A compiled DQNAgent from a plain dict config (what a checkpoint stores)."""
    from rl.agents.dqn import DQNAgent
    from rl.memory import SequentialMemory
    from rl.policy import EpsGreedyQPolicy, LinearAnnealedPolicy

    nchain = config["env"] == "nchain"
    n_in, n_actions = (5, 2) if nchain else (4, 2)
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(1, n_in)),
        tf.keras.layers.Dense(config.get("hidden", 16), activation="relu"),
        tf.keras.layers.Dense(n_actions, activation="linear"),
    ])
    if config.get("anneal", True):
        policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), attr="eps", value_max=1.0, value_min=0.1,
                                      value_test=0.0, nb_steps=config.get("anneal_steps", 200))
    else:
        policy = EpsGreedyQPolicy(eps=0.2)
    agent = DQNAgent(model=model, nb_actions=n_actions, memory=SequentialMemory(limit=1000, window_length=1),
                     nb_steps_warmup=config.get("warmup", 20), target_model_update=config.get("target", 0.01),
                     policy=policy, processor=OneHotProcessor(5) if nchain else None, batch_size=8)
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent


def default_config(**overrides) -> dict:
    config = {"experiment": "test-dqn", "env": "nchain", "seed": 0, "episode_steps": 40, "hidden": 16,
              "anneal": True, "anneal_steps": 200, "warmup": 20, "target": 10}
    config.update(overrides)
    return config


def train(run_dir: Path, steps: int, config: dict, resume: bool, every: int, keep_last: int | None,
          crash_on_save: int | None = None, progress: bool = False):
    from callbacks import resume_from, training_callbacks

    tf.config.experimental.enable_op_determinism()
    seed_everything(config["seed"])
    env = make_env(config)
    agent = build_agent(config)
    state = None
    if resume and any((run_dir / "checkpoints").glob("ckpt_*_steps")):
        state = resume_from(run_dir, agent, env)
    if crash_on_save is not None:
        _crash_on_save(crash_on_save)
    callbacks = training_callbacks(run_dir, resume=state, every_steps=every, keep_last=keep_last,
                                   save_memory=True, config=config)
    if progress:
        from rl.callbacks import Callback

        class Progress(Callback):
            def on_step_end(self, step, logs=None):
                metrics = [float(m) for m in logs["metrics"]]
                step = int(self.model.step)
                print(f"step {step} {logs['action']} {logs['reward']!r} {metrics}", flush=True)

        callbacks.append(Progress())
    print("training", flush=True)
    agent.fit(env, nb_steps=steps, callbacks=callbacks, verbose=0)
    print(json.dumps({"final_step": int(agent.step)}), flush=True)


def _crash_on_save(n: int):
    """Kill the process (os._exit) inside the n-th save, after its parts are written, before its marker."""
    import callbacks.store as store

    original, calls = store._digest, {"n": 0}

    def digest(path):
        if path.name == "state.json":
            calls["n"] += 1
            if calls["n"] == n:
                os._exit(17)
        return original(path)

    store._digest = digest


def probe(checkpoint: Path):
    """Reload ``checkpoint`` into a fresh agent; print weights digest, Q-values, greedy actions."""
    from reproduce.evaluate import load_agent

    agent = load_agent(checkpoint, builder=build_agent)
    q = agent.compute_batch_q_values([[o] for o in FIXED_NCHAIN_OBS])
    opt = __import__("callbacks.agent_state", fromlist=["x"]).real_optimizer(agent).get_weights()
    print(json.dumps({
        "q": q.tolist(), "actions": q.argmax(axis=1).tolist(), "step": int(agent.step),
        "online": [w.tolist() for w in agent.model.get_weights()],
        "target": [w.tolist() for w in agent.target_model.get_weights()],
        "optimizer": [np.asarray(w).tolist() for w in opt],
    }))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["train", "probe"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--keep-last", type=int, default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--crash-on-save", type=int, default=None)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--config", default="{}", help="JSON overrides of default_config()")
    args = parser.parse_args(argv)
    if args.mode == "probe":
        return probe(args.path)
    train(args.path, args.steps, default_config(**json.loads(args.config)), args.resume, args.every,
          args.keep_last, args.crash_on_save, args.progress)


if __name__ == "__main__":
    main()
