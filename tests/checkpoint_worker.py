"""Builders and a worker script for the checkpoint tests (this file holds no tests).

The tests run it in fresh processes (``python tests/checkpoint_worker.py ...``) to
train, resume, be killed and reload, and import its builders in-process. The agents are
small real keras-rl agents: ``DQNAgent`` (plain, double, dueling) on NChain (40-step
episodes, so a few hundred steps hold several episodes) and CartPole, ``SARSAAgent`` and
``CEMAgent`` on CartPole, ``DDPGAgent`` and ``NAFAgent`` on Pendulum (50-step episodes).
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
    """A fresh TensorFlow graph and every seed set: the same agent in any process."""
    tf.keras.backend.clear_session()
    random.seed(seed)
    np.random.seed(seed)
    tf.compat.v1.set_random_seed(seed)
    tf.keras.utils.set_random_seed(seed)


def make_env(config: dict):
    if config["env"] == "nchain":
        env = gym.make("NChain-v0", max_episode_steps=config.get("episode_steps", 40))
    elif config["env"] == "pendulum":
        env = gym.make("Pendulum-v1", max_episode_steps=config.get("episode_steps", 50))
    else:
        env = gym.make("CartPole-v1")
    return KerasRLEnv(env, seed=config["seed"])


def build_agent(config: dict):
    """A compiled keras-rl agent from a plain dict config (what a checkpoint stores)."""
    return AGENT_BUILDERS[config.get("agent", "dqn")](config)


def mlp(n_in: int, n_out: int, hidden: int, activation: str = "linear"):
    return tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(1, n_in)),
        tf.keras.layers.Dense(hidden, activation="relu"),
        tf.keras.layers.Dense(n_out, activation=activation),
    ])


def annealed_policy(config: dict):
    from rl.policy import EpsGreedyQPolicy, LinearAnnealedPolicy

    return LinearAnnealedPolicy(EpsGreedyQPolicy(), attr="eps", value_max=1.0, value_min=0.1,
                                value_test=0.0, nb_steps=config.get("anneal_steps", 200))


def build_sarsa(config: dict):
    from rl.agents.sarsa import SARSAAgent

    agent = SARSAAgent(mlp(4, 2, config.get("hidden", 16)), nb_actions=2, policy=annealed_policy(config),
                       nb_steps_warmup=config.get("warmup", 20))
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent


def build_cem(config: dict):
    from rl.agents.cem import CEMAgent
    from rl.memory import EpisodeParameterMemory

    agent = CEMAgent(mlp(4, 2, config.get("hidden", 16), "softmax"), nb_actions=2,
                     memory=EpisodeParameterMemory(limit=30, window_length=1), batch_size=4,
                     nb_steps_warmup=config.get("warmup", 40), train_interval=2, elite_frac=0.5,
                     noise_ampl=0.05, noise_decay_const=0.01)
    agent.compile()
    return agent


def continuous_critic(hidden: int):
    """A Q(s, a) network (Pendulum: 3 observation values, 1 action): ``(model, action_input)``."""
    action = tf.keras.layers.Input(shape=(1,), name="action_input")
    observation = tf.keras.layers.Input(shape=(1, 3), name="observation_input")
    x = tf.keras.layers.Concatenate()([action, tf.keras.layers.Flatten()(observation)])
    x = tf.keras.layers.Dense(hidden, activation="relu")(x)
    return tf.keras.Model(inputs=[action, observation], outputs=tf.keras.layers.Dense(1)(x)), action


def ou_process():
    from rl.random import OrnsteinUhlenbeckProcess

    return OrnsteinUhlenbeckProcess(theta=0.15, mu=0.0, sigma=0.3, size=1, sigma_min=0.05,
                                    n_steps_annealing=100)


def build_ddpg(config: dict):
    from rl.agents.ddpg import DDPGAgent
    from rl.memory import SequentialMemory

    hidden = config.get("hidden", 16)
    critic, action_input = continuous_critic(hidden)
    warmup = config.get("warmup", 20)
    agent = DDPGAgent(nb_actions=1, actor=mlp(3, 1, hidden, "tanh"), critic=critic,
                      critic_action_input=action_input, memory=SequentialMemory(limit=1000, window_length=1),
                      nb_steps_warmup_actor=warmup, nb_steps_warmup_critic=warmup, batch_size=8,
                      random_process=ou_process(), target_model_update=config.get("target", 10))
    adam = tf.keras.optimizers.Adam
    agent.compile([adam(learning_rate=1e-3), adam(learning_rate=1e-3)], metrics=["mae"])
    return agent


def build_naf(config: dict):
    from rl.agents.dqn import NAFAgent
    from rl.memory import SequentialMemory

    hidden = config.get("hidden", 16)
    l_model, _ = continuous_critic(hidden)  # one output: the 1x1 lower-triangular L of a 1-d action
    agent = NAFAgent(nb_actions=1, V_model=mlp(3, 1, hidden), L_model=l_model, mu_model=mlp(3, 1, hidden),
                     memory=SequentialMemory(limit=1000, window_length=1),
                     nb_steps_warmup=config.get("warmup", 20), batch_size=8, random_process=ou_process(),
                     target_model_update=config.get("target", 10))
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent


def build_dqn(config: dict):
    """A compiled DQNAgent (``double``/``dueling`` for those variants) on NChain or CartPole."""
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
                     policy=policy, processor=OneHotProcessor(5) if nchain else None, batch_size=8,
                     enable_double_dqn=config.get("double", False),
                     enable_dueling_network=config.get("dueling", False))
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent


AGENT_BUILDERS = {
    "dqn": build_dqn, "sarsa": build_sarsa, "cem": build_cem, "ddpg": build_ddpg, "naf": build_naf,
}


def agent_config(name: str, **overrides) -> dict:
    """The resume tests' config of each agent kind (tiny networks; CartPole or Pendulum)."""
    configs = {
        "dqn": {"agent": "dqn", "env": "cartpole", "target": 10},
        "double-dqn": {"agent": "dqn", "env": "cartpole", "double": True, "target": 0.01},
        "dueling-dqn": {"agent": "dqn", "env": "cartpole", "dueling": True, "target": 10},
        "sarsa": {"agent": "sarsa", "env": "cartpole"},
        "cem": {"agent": "cem", "env": "cartpole", "warmup": 40},
        "ddpg": {"agent": "ddpg", "env": "pendulum", "episode_steps": 50},
        "naf": {"agent": "naf", "env": "pendulum", "episode_steps": 50},
    }
    return default_config(experiment=f"test-{name}", **{**configs[name], **overrides})


def default_config(**overrides) -> dict:
    config = {"experiment": "test-dqn", "env": "nchain", "seed": 0, "episode_steps": 40, "hidden": 16,
              "anneal": True, "anneal_steps": 200, "warmup": 20, "target": 10}
    config.update(overrides)
    return config


def train(run_dir: Path, steps: int, config: dict, resume: bool, every: int, keep_last: int | None,
          crash_on_save: int | None = None, progress: bool = False, kill_at: int | None = None):
    """Train (or resume) a run; ``kill_at``: SIGKILL this process once that many steps are done."""
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
    if kill_at is not None:
        callbacks.append(KillAt(kill_at))
    print("training", flush=True)
    agent.fit(env, nb_steps=steps, callbacks=callbacks, verbose=0)
    print(json.dumps({"final_step": int(agent.step)}), flush=True)


def KillAt(step: int):
    """A callback that SIGKILLs its own process when ``step`` steps are done: no clean-up runs."""
    import signal

    from rl.callbacks import Callback

    class _KillAt(Callback):
        def on_step_end(self, episode_step, logs=None):
            if int(self.model.step) + 1 >= step:
                os.kill(os.getpid(), signal.SIGKILL)

    return _KillAt()


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
    from reproduce.evaluate_command import load_agent

    agent = load_agent(checkpoint, builder=build_agent)
    q = agent.compute_batch_q_values([[o] for o in FIXED_NCHAIN_OBS])
    opt = __import__("callbacks.agent_state", fromlist=["x"]).real_optimizer(agent).get_weights()
    print(json.dumps({
        "q": q.tolist(), "actions": q.argmax(axis=1).tolist(), "step": int(agent.step),
        "online": [w.tolist() for w in agent.model.get_weights()],
        "target": [w.tolist() for w in agent.target_model.get_weights()],
        "optimizer": [np.asarray(w).tolist() for w in opt],
    }))


# ---------------------------------------------------------------- the per-agent resume check
RESUME_STEPS = {"cartpole": 200, "pendulum": 160}
KILL_AFTER = 13  # steps past the mid-run checkpoint
# The state parts each agent type's checkpoint must hold (arrays.npz key prefixes).
EXPECTED_PARTS = {
    "dqn": {"online", "target", "optimizer", "memory"},
    "sarsa": {"online", "optimizer", "window"},
    "cem": {"online", "cem", "memory"},
    "ddpg": {"actor", "critic", "target_actor", "target_critic", "actor_optimizer", "critic_optimizer",
             "random_process", "memory"},
    "naf": {"V", "L", "mu", "target_V", "optimizer", "random_process", "memory"},
}
AGENT_TYPES = {
    "dqn": "DQNAgent", "sarsa": "SARSAAgent", "cem": "CEMAgent", "ddpg": "DDPGAgent", "naf": "NAFAgent",
}


def _checkpoint(run_dir: Path, step: int) -> tuple[dict, dict]:
    from callbacks.store import read_checkpoint

    return read_checkpoint(run_dir / "checkpoints" / f"ckpt_{step:09d}_steps")


def assert_identical(a: tuple[dict, dict], b: tuple[dict, dict]):
    """Two checkpoints hold the same state and the same arrays (values, dtypes), bit for bit."""
    (state_a, arrays_a), (state_b, arrays_b) = a, b
    assert json.dumps(state_a, sort_keys=True) == json.dumps(state_b, sort_keys=True)
    assert sorted(arrays_a) == sorted(arrays_b)
    for key in arrays_a:
        assert arrays_a[key].dtype == arrays_b[key].dtype, key
        assert np.array_equal(arrays_a[key], arrays_b[key], equal_nan=arrays_a[key].dtype.kind == "f"), key


def check_sigkill_resume(name: str, tmp_path: Path):
    """N steps straight (in this process) == N/2 steps, SIGKILL, resume (here), N/2 more.

    The killed run is a fresh process that checkpoints at N/2 and SIGKILLs itself
    ``KILL_AFTER`` steps later, mid-episode. Compared: both checkpoints (state and every
    array), and the reward logs (every column but ``t``).
    """
    import signal
    import subprocess

    from callbacks import load_rewards
    from callbacks.reward_logger import rows_text
    from callbacks.store import list_checkpoints

    config = agent_config(name)
    total = RESUME_STEPS[config["env"]]
    half = total // 2
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    train(straight, total, config, resume=False, every=half, keep_last=None)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [sys.executable, __file__, "train", str(killed), "--steps", str(total), "--every", str(half),
         "--kill-at", str(half + KILL_AFTER), "--config", json.dumps(config)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert [p.name for p in list_checkpoints(killed / "checkpoints")] == [f"ckpt_{half:09d}_steps"]
    mid = _checkpoint(killed, half)
    assert mid[0]["episode_in_progress"] is not None  # the kill interrupts an episode; resume continues it
    assert_identical(mid, _checkpoint(straight, half))

    train(killed, total, config, resume=True, every=half, keep_last=None)
    final = _checkpoint(killed, total)
    assert_identical(final, _checkpoint(straight, total))
    assert rows_text(killed / "episodes.csv") == rows_text(straight / "episodes.csv")

    state, arrays = final
    kind = config["agent"]
    assert state["agent_type"] == AGENT_TYPES[kind]
    assert {key.split("/")[0] for key in arrays} == EXPECTED_PARTS[kind] | {"rng", "env"}
    weights = {"ddpg": "actor/000", "naf": "mu/000"}.get(kind, "online/000")
    assert not np.array_equal(arrays[weights], mid[1][weights])  # it trained after the resume
    log = load_rewards(killed / "episodes.csv")
    assert log["episode"].tolist() == list(range(len(log))) and len(log) >= 2


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
    parser.add_argument("--kill-at", type=int, default=None)
    parser.add_argument("--config", default="{}", help="JSON overrides of default_config()")
    args = parser.parse_args(argv)
    if args.mode == "probe":
        return probe(args.path)
    train(args.path, args.steps, default_config(**json.loads(args.config)), args.resume, args.every,
          args.keep_last, args.crash_on_save, args.progress, args.kill_at)


if __name__ == "__main__":
    main()
