"""Ports of keras-rl2's integration tests (``tests/integration``, not shipped in its wheel).

Discrete: DQN, double DQN, dueling DQN, CEM and SARSA must reach the optimal mean reward of a
two-round deterministic game (upstream's ``TwoRoundDeterministicRewardEnv``, here a small
gymnasium env behind :class:`~reproduce.adapters.KerasRLEnv`), with upstream's models, seeds
and settings. Continuous: NAF and DDPG train on gymnasium's ``Pendulum-v1`` through the adapter
without error and with finite losses (upstream asserts nothing more there either).

Differences from upstream: SARSA trains 5,000 steps instead of 20,000 (it reaches the optimum
by then; upstream's run takes minutes); the dueling test asserts the optimum exactly where
keras-rl2 allows 3 +- 1.
"""

import random

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from rl.agents import CEMAgent, DDPGAgent, DQNAgent, NAFAgent, SARSAAgent
from rl.memory import EpisodeParameterMemory, SequentialMemory
from rl.policy import EpsGreedyQPolicy
from rl.random import OrnsteinUhlenbeckProcess
from tensorflow.keras.layers import Activation, Concatenate, Dense, Flatten, Input
from tensorflow.keras.models import Model, Sequential
from tensorflow.keras.optimizers import Adam

from reproduce.adapters import KerasRLEnv


class TwoRoundDeterministicRewardEnv(gym.Env):
    """Two moves, then the game ends; rewards ``[[0, 3], [1, 2]][first][second]``.

    Observation 2 at the start, then the first action. Optimal play: 0 then 1, return 3.
    """

    observation_space = gym.spaces.Discrete(3)
    action_space = gym.spaces.Discrete(2)
    REWARDS = ((0.0, 3.0), (1.0, 2.0))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.first = None
        return 2, {}

    def step(self, action):
        if self.first is None:
            self.first = int(action)
            return self.first, 0.0, False, False, {}
        return self.first, self.REWARDS[self.first][int(action)], True, False, {}


OPTIMUM = 3.0


@pytest.fixture(autouse=True)
def seeded_fresh_graph():
    """Upstream's seeds (123 for numpy, random and the env), plus TensorFlow's, in a fresh graph."""
    tf.compat.v1.keras.backend.clear_session()
    np.random.seed(123)
    random.seed(123)
    tf.compat.v1.set_random_seed(123)


def two_round_env():
    return KerasRLEnv(TwoRoundDeterministicRewardEnv(), seed=123)


def small_model(nb_actions=2):
    return Sequential([Dense(16, input_shape=(1,)), Activation("relu"), Dense(nb_actions),
                       Activation("linear")])


def greedy_mean_reward(agent, env, episodes=20):
    history = agent.test(env, nb_episodes=episodes, visualize=False, verbose=0)
    return np.mean(history.history["episode_reward"])


@pytest.mark.parametrize("variant", ["dqn", "double_dqn", "duel_dqn"])
def test_dqn_variants_reach_the_optimum(variant):
    env = two_round_env()
    policy = EpsGreedyQPolicy(eps=0.1)
    dqn = DQNAgent(model=small_model(), nb_actions=2, memory=SequentialMemory(limit=1000, window_length=1),
                   nb_steps_warmup=50, target_model_update=1e-1, policy=policy,
                   enable_double_dqn=variant == "double_dqn", enable_dueling_network=variant == "duel_dqn")
    dqn.compile(Adam(learning_rate=1e-3))
    dqn.fit(env, nb_steps=2000, visualize=False, verbose=0)
    policy.eps = 0.0
    assert greedy_mean_reward(dqn, env) == OPTIMUM


def test_cem_reaches_the_optimum():
    env = two_round_env()
    memory = EpisodeParameterMemory(limit=1000, window_length=1)
    cem = CEMAgent(model=small_model(), nb_actions=2, memory=memory)
    cem.compile()
    cem.fit(env, nb_steps=2000, visualize=False, verbose=0)
    assert greedy_mean_reward(cem, env) == OPTIMUM


def test_sarsa_reaches_the_optimum():
    env = two_round_env()
    policy = EpsGreedyQPolicy(eps=0.1)
    sarsa = SARSAAgent(model=small_model(), nb_actions=2, nb_steps_warmup=50, policy=policy)
    sarsa.compile(Adam(learning_rate=1e-3))
    sarsa.fit(env, nb_steps=5000, visualize=False, verbose=0)
    policy.eps = 0.0
    assert greedy_mean_reward(sarsa, env) == OPTIMUM


class StepLosses(tf.keras.callbacks.Callback):
    """The first metric (the loss) of every step that trained."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_step_end(self, step, logs=None):
        loss = logs["metrics"][0]
        if not np.isnan(loss):
            self.losses.append(loss)


def pendulum():
    env = KerasRLEnv(gym.make("Pendulum-v1"), seed=123)
    return env, env.action_space.shape[0], env.observation_space.shape


def train_and_test(agent, env, steps=400):
    losses = StepLosses()
    agent.fit(env, nb_steps=steps, visualize=False, verbose=0, nb_max_episode_steps=100, callbacks=[losses])
    history = agent.test(env, nb_episodes=2, visualize=False, verbose=0, nb_max_episode_steps=100)
    return np.array(losses.losses), np.array(history.history["episode_reward"])


def test_naf_trains_on_pendulum():
    env, nb_actions, obs_shape = pendulum()
    v_model = Sequential([Flatten(input_shape=(1,) + obs_shape), Dense(16), Activation("relu"), Dense(1)])
    mu_model = Sequential([Flatten(input_shape=(1,) + obs_shape), Dense(16), Activation("relu"),
                           Dense(nb_actions)])
    action_input = Input(shape=(nb_actions,), name="action_input")
    observation_input = Input(shape=(1,) + obs_shape, name="observation_input")
    x = Concatenate()([action_input, Flatten()(observation_input)])
    x = Activation("relu")(Dense(16)(x))
    l_model = Model(inputs=[action_input, observation_input],
                    outputs=Dense((nb_actions * nb_actions + nb_actions) // 2)(x))
    agent = NAFAgent(nb_actions=nb_actions, V_model=v_model, L_model=l_model, mu_model=mu_model,
                     memory=SequentialMemory(limit=1000, window_length=1), nb_steps_warmup=50,
                     random_process=OrnsteinUhlenbeckProcess(theta=0.15, mu=0.0, sigma=0.3, size=nb_actions),
                     gamma=0.99, target_model_update=1e-3)
    agent.compile(Adam(lr=1e-3))
    losses, rewards = train_and_test(agent, env)
    assert len(losses) == 400 - 50 - 1 and np.isfinite(losses).all()
    assert rewards.shape == (2,) and np.isfinite(rewards).all()


def test_ddpg_trains_on_pendulum():
    env, nb_actions, obs_shape = pendulum()
    actor = Sequential([Flatten(input_shape=(1,) + obs_shape), Dense(16), Activation("relu"),
                        Dense(nb_actions), Activation("linear")])
    action_input = Input(shape=(nb_actions,), name="action_input")
    observation_input = Input(shape=(1,) + obs_shape, name="observation_input")
    x = Concatenate()([action_input, Flatten()(observation_input)])
    x = Activation("linear")(Dense(1)(Activation("relu")(Dense(16)(x))))
    critic = Model(inputs=[action_input, observation_input], outputs=x)
    agent = DDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                      memory=SequentialMemory(limit=1000, window_length=1), nb_steps_warmup_critic=50,
                      nb_steps_warmup_actor=50, gamma=0.99, target_model_update=1e-3,
                      random_process=OrnsteinUhlenbeckProcess(theta=0.15, mu=0.0, sigma=0.3))
    agent.compile([Adam(lr=1e-3), Adam(lr=1e-3)])
    losses, rewards = train_and_test(agent, env)
    assert len(losses) == 400 - 50 - 1 and np.isfinite(losses).all()
    assert rewards.shape == (2,) and np.isfinite(rewards).all()
