"""``reproduce doctor``: versions, active compat fixes, and a real keras-rl smoke test."""

from __future__ import annotations

import sys
import time


def smoke_test(steps: int = 300, seed: int = 0) -> float:
    """Train keras-rl's DQNAgent on CartPole-v1 for ``steps`` steps, then play one test episode.

    Returns the test episode's reward. Uses soft target updates and a current-API Adam, so
    it exercises the compat fixes that matter most.
    """
    import gymnasium as gym
    import tensorflow as tf
    from rl.agents import DQNAgent
    from rl.memory import SequentialMemory
    from rl.policy import BoltzmannQPolicy

    from reproduce.adapters import KerasRLEnv

    env = KerasRLEnv(gym.make("CartPole-v1"), seed=seed)
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(1, 4)),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(2, activation="linear"),
    ])
    agent = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=1000, window_length=1),
                     nb_steps_warmup=50, target_model_update=1e-2, policy=BoltzmannQPolicy())
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3))
    agent.fit(env, nb_steps=steps, verbose=0)
    if agent.step != steps:
        raise RuntimeError(f"fit stopped at step {agent.step}, expected {steps}")
    history = agent.test(env, nb_episodes=1, visualize=False, verbose=0)
    return float(history.history["episode_reward"][0])


def main() -> int:
    try:
        from reproduce import compat
        from reproduce.runs import library_versions

        compat.apply()  # import TensorFlow and keras-rl now, so every fix runs before it is listed
    except Exception as exc:  # noqa: BLE001 - the doctor reports any import failure
        print(f"doctor: FAILED importing reproduce: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("versions:")
    for name, version in library_versions().items():
        print(f"  {name:<11} {version}")
    print("compat fixes active:")
    for fix in compat.ACTIVE_FIXES:
        print(f"  - {fix}")
    start = time.perf_counter()
    try:
        reward = smoke_test()
    except Exception as exc:  # noqa: BLE001
        print(f"doctor: FAILED keras-rl smoke test: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"smoke test: DQNAgent trained 300 steps on CartPole-v1 and played a test episode "
          f"(reward {reward:.0f}) in {time.perf_counter() - start:.1f} s")
    print("doctor: OK")
    return 0
