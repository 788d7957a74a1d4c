"""``snake-dqn``: keras-rl's ``DQNAgent`` on Snake with Qlearning4k's test_snake.py settings.

The example's network (4 stacked frames, Conv16 3x3 -> Conv32 3x3 -> Dense 256 -> 5; the frames
enter channels-last through a ``Permute``), RMSprop (Keras 2.0's lr 1e-3, epsilon 1e-8), squared
error, batch 64, gamma 0.8, epsilon 1 -> 0.1 over the first half of the run, no target network
(``target_model_update=1`` copies the online one every step) and a memory as large as the run
(Qlearning4k's is unbounded). Compared with ``snake-qlearning4k`` through the game's statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Column, Report
from reproduce.experiments.snake_qlearning4k import SOURCE
from reproduce.kerasrl.config import DQNConfig, DQNRunConfig, PolicyConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import ENV_ID, POSITIVE, nested, option

STEPS = 8_000  # about the env steps of snake-qlearning4k's 500 epochs in `reproduce all`
QLEARNING4K_SNAKE_DQN = DQNConfig(
    hidden=(), memory_limit=STEPS, window_length=4, batch_size=64, gamma=0.8,
    policy=PolicyConfig("linear-annealed-eps", value_max=1.0, value_min=0.1, nb_steps=STEPS // 2),
    test_policy=PolicyConfig("greedy"), nb_steps_warmup=64, target_model_update=1, optimizer="rmsprop",
    learning_rate=1e-3, train_interval=1, fast=True,
)


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """8,000 steps on Snake (1,000-step episodes at most), then 100 greedy games."""

    env: str = option("SnakeCapped-v0", "gymnasium env id (Snake-v0 with a 1,000-step limit)", check=ENV_ID)
    steps: int = option(STEPS, "training steps (epsilon reaches 0.1 at 4,000)", check=POSITIVE)
    dqn: DQNConfig = nested(lambda: QLEARNING4K_SNAKE_DQN)


def build(config, env, processor=None):
    """The example's conv network behind keras-rl's ``(window, 10, 10)`` state, and Keras 2.0's RMSprop."""
    import tensorflow as tf

    from reproduce.kerasrl.builders import build_agent

    dqn, layers = config.dqn, tf.keras.layers
    shape, actions = tuple(env.observation_space.shape), int(env.action_space.n)
    model = tf.keras.Sequential([
        layers.Permute((2, 3, 1), input_shape=(dqn.window_length, *shape)),
        layers.Conv2D(16, (3, 3), activation="relu"), layers.Conv2D(32, (3, 3), activation="relu"),
        layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dense(actions, activation="linear"),
    ])
    optimizer = tf.keras.optimizers.legacy.RMSprop(learning_rate=dqn.learning_rate, rho=0.9, epsilon=1e-8)
    return build_agent(dqn, actions, shape, model=model, processor=processor, optimizer=optimizer)


def game_statistics(agent, run, config) -> dict:
    """The game's statistics over the greedy test games: fruit eaten, final length, deaths."""
    import gymnasium as gym
    import numpy as np

    from reproduce.evaluation import eval_seed

    fruit, length, died = [], [], []
    window = agent.memory.window_length
    for i in range(config.eval_episodes):
        env = gym.make(config.env)
        obs, info = env.reset(seed=eval_seed(config.seed) + i)
        recent, done = [np.zeros_like(obs)] * (window - 1) + [obs], False
        while not done:
            action = int(np.argmax(agent.compute_batch_q_values([recent])[0]))
            obs, _, terminated, truncated, info = env.step(action)
            recent = recent[1:] + [obs]
            done = terminated or truncated
        fruit.append(info["fruit_eaten"]), length.append(info["length"]), died.append(terminated)
    return {"play_fruit": float(np.mean(fruit)), "play_length": float(np.mean(length)),
            "play_died": float(np.mean(died)), "play_won": float(np.mean(np.array(fruit) > 0))}


EXPERIMENT = kerasrl_experiment(
    "snake-dqn", "keras-rl's DQNAgent on Snake with Qlearning4k's test_snake.py settings (conv net, RMSprop)",
    Config,
    Report("keras-rl DQNAgent, Qlearning4k Snake settings",
           columns=(Column("fruit / greedy game", "play_fruit"), Column("final length", "play_length"),
                    Column("deaths (vs cap)", "play_died"), Column("ate once (is_won)", "play_won")),
           notes="Snake with a 1,000-step limit; the same game statistics as snake-qlearning4k's.",
           source=SOURCE),
    hooks=Hooks(build=build, after_training=game_statistics),
    differences=(
        "keras-rl's DQNAgent (FastDQNAgent's session calls, the same update): its memory samples without "
        "the replayed [S; S'] forward pass, trains from step 64 and pads an episode's first state with zero "
        "frames where Qlearning4k repeats the first frame",
        "8,000 steps with epsilon annealed over the first 4,000 (Qlearning4k: 10,000 games, over the first "
        "5,000); a memory of 8,000 transitions (the whole run, as Qlearning4k's unbounded one)",
        "episodes capped at 1,000 steps (SnakeCapped-v0) for training and the greedy test: keras-rl's runner "
        "makes its env from an id alone",
    ),
)
