"""keras-rl's own example agents (keras-rl/examples/*.py), each as ``build(config, env, processor)``.

Network sizes, memories, policies, random processes, warm-ups, target updates and optimizers
are the published scripts' own. Differences, all forced by today's stack and named in the
report: gymnasium envs through :class:`reproduce.adapters.KerasRLEnv` (CartPole-v1 by default,
``--env CartPole-v0`` for the scripts' 200-step original; Pendulum-v1 for the retired
Pendulum-v0, same dynamics and 200-step limit); optimizers written ``learning_rate=`` (the
scripts' ``lr=`` means the same through :mod:`reproduce.compat`); our seeds instead of 123.
"""

from __future__ import annotations

import tensorflow as tf
from rl.agents import CEMAgent, DDPGAgent, NAFAgent, SARSAAgent
from rl.core import Processor
from rl.memory import EpisodeParameterMemory, SequentialMemory
from rl.policy import BoltzmannQPolicy
from rl.random import OrnsteinUhlenbeckProcess

layers = tf.keras.layers


def _mlp(input_shape, sizes, outputs, activation="linear"):
    model = tf.keras.Sequential([layers.Flatten(input_shape=(1,) + tuple(input_shape))])
    for size in sizes:
        model.add(layers.Dense(size, activation="relu"))
    model.add(layers.Dense(outputs, activation=activation))
    return model


def sarsa_cartpole(config, env, processor=None) -> SARSAAgent:
    """examples/sarsa_cartpole.py: 3 x Dense(16, relu), Boltzmann, warm-up 10, Adam(1e-3)."""
    nb_actions = int(env.action_space.n)
    model = _mlp(env.observation_space.shape, (16, 16, 16), nb_actions)
    agent = SARSAAgent(model=model, nb_actions=nb_actions, nb_steps_warmup=10, policy=BoltzmannQPolicy(),
                       processor=processor)
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent


def sarsa_onehot(config, env, processor) -> SARSAAgent:
    """SARSA on a one-hot Discrete env (NChain): the example's agent, eps-greedy at ``config.eps``."""
    from rl.policy import EpsGreedyQPolicy

    nb_actions = int(env.action_space.n)
    model = _mlp((processor.n,), (32,), nb_actions)
    agent = SARSAAgent(model=model, nb_actions=nb_actions, nb_steps_warmup=10, gamma=config.gamma,
                       policy=EpsGreedyQPolicy(config.eps), processor=processor)
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return agent


def cem_cartpole(config, env, processor=None) -> CEMAgent:
    """examples/cem_cartpole.py, option 1: a linear softmax policy; 1000-episode parameter memory,
    batch 50, warm-up 2000, train every 50 steps, elite fraction 0.05."""
    nb_actions = int(env.action_space.n)
    model = _mlp(env.observation_space.shape, (), nb_actions, activation="softmax")
    memory = EpisodeParameterMemory(limit=1000, window_length=1)
    agent = CEMAgent(model=model, nb_actions=nb_actions, memory=memory, batch_size=50, nb_steps_warmup=2000,
                     train_interval=50, elite_frac=0.05, processor=processor)
    agent.compile()
    return agent


def _critic_inputs(env, nb_actions):
    action_input = layers.Input(shape=(nb_actions,), name="action_input")
    shape = (1,) + tuple(env.observation_space.shape)
    observation_input = layers.Input(shape=shape, name="observation_input")
    joined = layers.Concatenate()([action_input, layers.Flatten()(observation_input)])
    return action_input, observation_input, joined


def _head(x, sizes, outputs):
    for size in sizes:
        x = layers.Dense(size, activation="relu")(x)
    return layers.Dense(outputs, activation="linear")(x)


def ddpg_pendulum(config, env, processor=None) -> DDPGAgent:
    """examples/ddpg_pendulum.py: actor 3 x Dense(16), critic 3 x Dense(32), OU(0.15, 0, 0.3),
    memory 100k, warm-ups 100, gamma 0.99, target 1e-3, Adam(1e-3, clipnorm 1)."""
    nb_actions = int(env.action_space.shape[0])
    actor = _mlp(env.observation_space.shape, (16, 16, 16), nb_actions)
    action_input, observation_input, x = _critic_inputs(env, nb_actions)
    critic = tf.keras.Model(inputs=[action_input, observation_input], outputs=_head(x, (32, 32, 32), 1))
    agent = DDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                      memory=SequentialMemory(limit=100_000, window_length=1), nb_steps_warmup_critic=100,
                      nb_steps_warmup_actor=100, gamma=0.99, target_model_update=1e-3, processor=processor,
                      random_process=OrnsteinUhlenbeckProcess(size=nb_actions, theta=0.15, mu=0.0, sigma=0.3))
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0), metrics=["mae"])
    return agent


class PendulumProcessor(Processor):
    """examples/naf_pendulum.py's processor: rewards divided by 100."""

    def process_reward(self, reward):
        return reward / 100.0


def naf_pendulum(config, env, processor) -> NAFAgent:
    """examples/naf_pendulum.py: V and mu 3 x Dense(16), L 3 x Dense(32), OU(0.15, 0, 0.3),
    memory 100k, warm-up 100, gamma 0.99, target 1e-3, Adam(1e-3, clipnorm 1), rewards / 100."""
    nb_actions = int(env.action_space.shape[0])
    v_model = _mlp(env.observation_space.shape, (16, 16, 16), 1)
    mu_model = _mlp(env.observation_space.shape, (16, 16, 16), nb_actions)
    action_input, observation_input, x = _critic_inputs(env, nb_actions)
    l_model = tf.keras.Model(inputs=[action_input, observation_input],
                             outputs=_head(x, (32, 32, 32), (nb_actions * nb_actions + nb_actions) // 2))
    agent = NAFAgent(nb_actions=nb_actions, V_model=v_model, L_model=l_model, mu_model=mu_model,
                     memory=SequentialMemory(limit=100_000, window_length=1), nb_steps_warmup=100,
                     random_process=OrnsteinUhlenbeckProcess(theta=0.15, mu=0.0, sigma=0.3, size=nb_actions),
                     gamma=0.99, target_model_update=1e-3, processor=processor)
    agent.compile(tf.keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0), metrics=["mae"])
    return agent
