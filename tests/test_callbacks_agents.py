"""Every keras-rl agent through our callbacks: reward log, checkpoints, exact resume after SIGKILL.

For DQN (plain, double, dueling), SARSA and CEM on CartPole-v1 (tiny networks): a straight
run of N steps, a run in a fresh process that checkpoints at N/2 and SIGKILLs itself a few
steps later, then a resume to N; the resumed run's checkpoints and reward log equal the
straight run's, bit for bit (``checkpoint_worker.check_sigkill_resume``). Also: foreign agent
types, DQN variants and network shapes, and unsupported agents, are refused with one-line
typed errors.
"""

from __future__ import annotations

from pathlib import Path

import checkpoint_worker  # registered by tests/conftest.py
import numpy as np
import pytest

import callbacks
from callbacks.parts import AGENT_PARTS
from callbacks.store import (
    CheckpointMismatchError,
    UnsupportedAgentError,
    list_checkpoints,
    read_checkpoint,
)

DISCRETE = ["dqn", "double-dqn", "dueling-dqn", "sarsa", "cem"]  # DDPG, NAF: ..._agents_continuous.py


def train(run_dir: Path, config: dict, steps: int, resume: bool = False):
    """Train (or resume) in this process, through ``training_callbacks``."""
    checkpoint_worker.train(run_dir, steps, config, resume=resume, every=steps // 2, keep_last=None)


@pytest.mark.parametrize("name", DISCRETE)
def test_sigkill_then_resume_equals_a_straight_run(name, tmp_path):
    checkpoint_worker.check_sigkill_resume(name, tmp_path)


def test_the_table_lists_every_keras_rl_agent():
    from rl.agents import CEMAgent, DDPGAgent, DQNAgent, NAFAgent, SARSAAgent

    assert set(AGENT_PARTS) == {cls.__name__ for cls in (DQNAgent, SARSAAgent, CEMAgent, DDPGAgent, NAFAgent)}


@pytest.fixture(scope="module")
def sarsa_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("sarsa")
    train(run_dir, checkpoint_worker.agent_config("sarsa"), 60)
    return run_dir


def test_another_agent_type_is_refused(sarsa_run):
    w = checkpoint_worker
    config = w.agent_config("dqn")
    agent = w.build_agent(config)
    before = [x.copy() for x in agent.model.get_weights()]
    words = "holds a SARSAAgent, the agent given is a DQNAgent"
    with pytest.raises(CheckpointMismatchError, match=words) as info:
        callbacks.resume_from(sarsa_run, agent, w.make_env(config))
    assert "\n" not in str(info.value)
    assert all(np.array_equal(a, b) for a, b in zip(before, agent.model.get_weights()))


def test_another_network_shape_is_refused(sarsa_run):
    w = checkpoint_worker
    config = w.agent_config("sarsa", hidden=32)
    with pytest.raises(CheckpointMismatchError, match="model of another shape") as info:
        callbacks.resume_from(sarsa_run, w.build_agent(config), w.make_env(config))
    assert "\n" not in str(info.value)


def test_dqn_variants_must_match(tmp_path):
    w = checkpoint_worker
    config = w.agent_config("double-dqn")
    train(tmp_path, config, 30)
    plain = w.agent_config("dqn", target=0.01)
    words = "enable_double_dqn=True, this agent has enable_double_dqn=False"
    with pytest.raises(CheckpointMismatchError, match=words):
        callbacks.resume_from(tmp_path, w.build_agent(plain), w.make_env(plain))


def test_cem_keeps_its_parameter_memory_without_save_memory(tmp_path):
    w = checkpoint_worker
    config = w.agent_config("cem")
    w.seed_everything(0)
    env, agent = w.make_env(config), w.build_agent(config)
    cbs = callbacks.training_callbacks(tmp_path, save_memory=False)
    agent.fit(env, nb_steps=120, verbose=0, callbacks=cbs)
    state, arrays = read_checkpoint(list_checkpoints(tmp_path / "checkpoints")[-1])
    assert state["parts"]["memory"]["class"] == "EpisodeParameterMemory"
    assert len(arrays["memory/params"]) == len(agent.memory.params) > 0
    n = agent.num_weights
    assert np.array_equal(arrays["cem/mean"], agent.theta[:n])
    assert np.array_equal(arrays["cem/std"], agent.theta[n:])
    assert state["parts"]["cem"]["episode"] == agent.episode > 0


class RandomAgent:
    """Built on demand (keras-rl imports TensorFlow): an agent type the checkpoint table lacks."""

    @staticmethod
    def make(nb_actions: int):
        from rl.core import Agent

        class RandomAgent(Agent):
            compiled = True
            metrics_names = []

            def forward(self, observation):
                return np.random.randint(nb_actions)

            def backward(self, reward, terminal):
                return []

        return RandomAgent()


def test_unsupported_agent_type_fails_at_train_begin_with_the_supported_list(tmp_path):
    w = checkpoint_worker
    env = w.make_env(w.agent_config("dqn"))
    agent = RandomAgent.make(2)
    with pytest.raises(UnsupportedAgentError) as info:
        agent.fit(env, nb_steps=50, verbose=0,
                  callbacks=callbacks.training_callbacks(tmp_path, every_steps=10))
    message = str(info.value)
    assert message == ("cannot checkpoint a RandomAgent: checkpoints support DQNAgent, SARSAAgent, CEMAgent, "
                       "DDPGAgent, NAFAgent and their subclasses")
    assert not list_checkpoints(tmp_path / "checkpoints")
    # the reward log and TensorBoard need no state parts: they work with any agent
    logger = callbacks.RewardLogger(tmp_path / "random.csv")
    agent.fit(env, nb_steps=60, verbose=0, callbacks=[logger, callbacks.TensorBoardLogger(tmp_path / "tb")])
    log = callbacks.load_rewards(tmp_path / "random.csv")
    assert len(log) >= 1 and log["l"].sum() <= 60 and log["eps"].isna().all()
