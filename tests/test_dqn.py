"""DQN builders, FastDQNAgent and the nchain-dqn / cartpole-dqn experiments (real keras-rl, TF, gymnasium)."""

import json

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from rl.agents import DQNAgent
from rl.memory import SequentialMemory
from rl.policy import BoltzmannQPolicy, EpsGreedyQPolicy, GreedyQPolicy, LinearAnnealedPolicy

from callbacks import RewardLogger, load_rewards
from reproduce.adapters import KerasRLEnv, OneHotProcessor
from reproduce.errors import ConfigError
from reproduce.evaluation import keras_rl_episodes as evaluate
from reproduce.kerasrl.agent import TRUNCATED, FastDQNAgent, TruncationProcessor, experience_arrays
from reproduce.kerasrl.builders import build_agent, build_policy
from reproduce.kerasrl.config import DQNConfig, PolicyConfig
from reproduce.kerasrl.run import seed_everything


def test_builders_make_real_keras_rl_objects_with_the_configured_arguments():
    seed_everything(0)
    cfg = DQNConfig(hidden=(8, 8), memory_limit=123, window_length=2, batch_size=16, gamma=0.9,
                    nb_steps_warmup=7, train_interval=3, target_model_update=50, enable_double_dqn=True,
                    policy=PolicyConfig("linear-annealed-eps", value_max=0.9, value_min=0.2, nb_steps=99))
    agent = build_agent(cfg, 2, (4,))
    assert type(agent) is DQNAgent and agent.compiled
    assert isinstance(agent.memory, SequentialMemory)
    assert (agent.memory.limit, agent.memory.window_length) == (123, 2)
    assert isinstance(agent.policy, LinearAnnealedPolicy)
    assert isinstance(agent.policy.inner_policy, EpsGreedyQPolicy)
    assert (agent.policy.value_max, agent.policy.value_min, agent.policy.nb_steps) == (0.9, 0.2, 99)
    assert isinstance(agent.test_policy, GreedyQPolicy)
    assert (agent.batch_size, agent.gamma, agent.nb_steps_warmup, agent.train_interval) == (16, 0.9, 7, 3)
    assert agent.target_model_update == 50 and agent.enable_double_dqn
    assert [layer.units for layer in agent.model.layers[1:]] == [8, 8, 2]
    assert agent.model.input_shape == (None, 2, 4)
    assert isinstance(build_policy(PolicyConfig("boltzmann", tau=2.0)), BoltzmannQPolicy)
    assert build_policy(PolicyConfig("eps-greedy", eps=0.3)).eps == 0.3
    fast = build_agent(cfg.replace(fast=True, enable_dueling_network=True), 2, (4,))
    assert isinstance(fast, FastDQNAgent) and fast.enable_dueling_network


def test_user_objects_replace_the_configured_ones_and_bad_model_is_a_config_error():
    seed_everything(0)
    memory, policy = SequentialMemory(limit=10, window_length=1), EpsGreedyQPolicy(eps=0.5)
    agent = build_agent(DQNConfig(), 2, (4,), memory=memory, policy=policy)
    assert agent.memory is memory and agent.policy is policy
    wrong = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(1, 4)), tf.keras.layers.Dense(3)])
    with pytest.raises(ConfigError, match=r"output shape is \(None, 3\) but the env has 2 actions.*Dense\(2"):
        build_agent(DQNConfig(), 2, (4,), model=wrong)
    with pytest.raises(ConfigError, match="unknown policy 'boltzman'; did you mean 'boltzmann'"):
        build_agent(DQNConfig(policy=PolicyConfig("boltzman")), 2, (4,))


def test_one_hot_processor_feeds_nchain_states_to_the_network():
    proc = OneHotProcessor(5)
    assert proc.process_observation(3).tolist() == [0, 0, 0, 1, 0]
    batch = proc.process_state_batch(np.array([[proc.process_observation(s)] for s in range(5)]))
    assert batch.shape == (5, 1, 5) and batch.dtype == np.float32
    with pytest.raises(ValueError, match="outside Discrete"):
        proc.process_observation(5)


def _short_run(env_id, processor, cfg, steps, tmp_path):
    seed_everything(0)
    env = KerasRLEnv(gym.make(env_id), seed=0)
    shape = (processor.n,) if processor is not None else env.observation_space.shape
    agent = build_agent(cfg, 2, shape, processor=processor)
    before = [w.copy() for w in agent.model.get_weights()]
    agent.fit(env, nb_steps=steps, verbose=0, callbacks=[RewardLogger(tmp_path / "episodes.csv")])
    changed = any(not np.allclose(a, b) for a, b in zip(before, agent.model.get_weights()))
    return agent, load_rewards(tmp_path / "episodes.csv"), changed


@pytest.mark.parametrize("fast", [False, True])
def test_short_cartpole_training_changes_weights_and_logs_episodes(tmp_path, fast):
    cfg = DQNConfig(nb_steps_warmup=20, fast=fast)
    agent, log, changed = _short_run("CartPole-v1", None, cfg, 300, tmp_path)
    assert changed and len(log) >= 3
    lines = (tmp_path / "episodes.csv").read_text().splitlines()
    assert lines[0].startswith("#{") and lines[1] == "r,l,t,episode,total_steps,loss,mean_q,eps"
    assert len(lines) == 2 + len(log)
    last = lines[-1].split(",")
    assert float(last[5]) > 0  # a loss was logged


def test_short_nchain_training_with_one_hot_input(tmp_path):
    cfg = DQNConfig(hidden=(8,), nb_steps_warmup=20, gamma=0.95, truncation_aware=True,
                    policy=PolicyConfig("linear-annealed-eps", nb_steps=200))
    if "NChain100-v0" not in gym.registry:  # 100-step episodes: three of them in 300 steps
        gym.register("NChain100-v0", entry_point="reproduce.envs.nchain:NChainEnv", max_episode_steps=100)
    agent, log, changed = _short_run("NChain100-v0", OneHotProcessor(5), cfg, 300, tmp_path)
    assert changed and len(log) == 3
    assert isinstance(agent.processor, TruncationProcessor)
    assert isinstance(agent.processor.inner, OneHotProcessor)


def test_test_policy_is_greedy_and_evaluation_plays_argmax():
    seed_everything(0)
    agent = build_agent(DQNConfig(fast=True), 2, (4,))
    assert isinstance(agent.test_policy, GreedyQPolicy)
    episodes = evaluate(agent, "CartPole-v1", 3, seed=5)
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=5)
    total, done = 0.0, False
    while not done:  # the first episode replayed by hand with argmax
        action = int(np.argmax(agent.compute_q_values([obs])))
        obs, r, term, trunc, _ = env.step(action)
        total, done = total + r, term or trunc
    assert episodes[0][0] == total


def _agent_with_transitions(truncation_aware):
    """A tiny agent whose memory holds one transition into a time-limit truncation."""
    seed_everything(0)
    cfg = DQNConfig(hidden=(4,), nb_steps_warmup=10**6, fast=True, truncation_aware=truncation_aware,
                    gamma=0.5, target_model_update=1000)
    agent = build_agent(cfg, 2, (4,))
    agent.training = True
    s0, s1, s2 = (np.full(4, v, dtype=np.float32) for v in (0.1, 0.2, 0.3))
    agent.forward(s0)
    agent.backward(0.0, terminal=False)
    agent.forward(s1)
    if truncation_aware:
        agent.processor.process_step(s2, 1.0, True, {"terminated": False, "truncated": True})
    agent.backward(1.0, terminal=True)  # keras-rl's fit reports the truncation as done
    agent.forward(s2)
    agent.backward(0.0, terminal=False)
    return agent, s2


@pytest.mark.parametrize("aware", [False, True])
def test_truncation_aware_mode_stores_and_uses_the_flag(aware):
    agent, s2 = _agent_with_transitions(aware)
    assert list(agent.memory.terminals) == [False, TRUNCATED if aware else True, False]
    experience = agent.memory.sample(1, batch_idxs=[1])[0]  # (s1, a, r=1, s2)
    assert experience.reward == 1.0
    q_next = agent._target_q(np.array([[s2]], dtype=np.float32)).max()
    target = {}
    original = agent._train_call
    agent._train_call = lambda *ins: (target.setdefault("y", ins[3][0]), original(*ins))[1]
    agent.train_step(experience_arrays([experience]), sync=False)  # the call without weight fetches
    expected = 1.0 + 0.5 * q_next if aware else 1.0
    assert target["y"] == pytest.approx(expected, rel=1e-5)
    assert aware == (abs(q_next) > 1e-6 and target["y"] != pytest.approx(1.0))


def test_cli_cartpole_runs_write_the_contract(cli, tmp_path):
    out = tmp_path / "run"
    done = cli("run", "cartpole-dqn-tuned", "--steps", "300", "--eval-episodes", "3", "--out", out)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("config.json", "manifest.json", "episodes.csv", "eval.csv", "summary.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["agent"] == "FastDQNAgent" and summary["truncation_aware"] is True
    assert summary["steps_trained"] == 300 and summary["eval_episodes"] == 3
    assert {"eval_mean", "eval_ci_low", "eval_ci_high", "solved", "steps_to_solve", "wall_time_s",
            "time_to_solve_s"} <= set(summary)
    assert (out / "eval.csv").read_text().splitlines()[0] == "episode,r,l"
    assert "step" in done.stderr  # progress bar


def test_cli_nchain_and_cartpole_v0(cli, tmp_path):
    done = cli("run", "nchain-dqn", "--steps", "400", "--eval-episodes", "1", "--out", tmp_path / "n")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "n" / "summary.json").read_text())
    assert len(summary["policy"]) == 5 and set(summary["policy"]) <= {"F", "B"}
    assert 0 < summary["max_abs_q_error"] < 100  # a 200-step network is far from Q* (61 to 84), not absurd
    assert summary["optimal_return"] == pytest.approx(3663.69, abs=0.01)
    assert (tmp_path / "n" / "q_table.csv").read_text().splitlines()[0] == "state,q_forward,q_backward"
    done = cli("run", "cartpole-dqn", "--env", "CartPole-v0", "--steps", "200", "--eval-episodes", "2",
               "--out", tmp_path / "c")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "c" / "summary.json").read_text())
    assert summary["agent"] == "DQNAgent" and summary["reward_threshold"] == 195.0


@pytest.mark.parametrize("args, message", [
    (["--env", "CartPole-v9"], "--env expects a registered gymnasium env id, got 'CartPole-v9'; did you mean "
                               "'CartPole-v1'?"),
    (["--policy", "softmax"], "--policy expects one of eps-greedy, boltzmann, linear-annealed-eps, greedy, "
                              "got 'softmax'"),
    (["--steps", "0"], "--steps expects a positive integer, got '0'; e.g. --steps 50000"),
    (["--steps", "-5"], "--steps expects a positive integer, got '-5'"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli, tmp_path, args, message):
    out = tmp_path / "run"
    done = cli("run", "cartpole-dqn", *args, "--out", out)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]  # TF logs aside
    assert len(errors) == 1 and message in errors[0]
    assert not out.exists()


@pytest.mark.parametrize("target_model_update, double", [(5, True), (1e-2, False)])
def test_fast_agent_makes_the_same_update_as_keras_rl(target_model_update, double):
    """Same weights, same transitions, same sampling seed: FastDQNAgent == keras-rl's DQNAgent."""
    import random

    cfg = DQNConfig(hidden=(8,), nb_steps_warmup=5, target_model_update=target_model_update,
                    enable_double_dqn=double, batch_size=4, policy=PolicyConfig("greedy"),
                    optimizer="sgd", learning_rate=0.01)
    seed_everything(0)
    agents = [build_agent(cfg, 2, (4,)), build_agent(cfg.replace(fast=True), 2, (4,))]
    agents[1].model.set_weights(agents[0].model.get_weights())
    agents[1].target_model.set_weights(agents[0].target_model.get_weights())
    agents[1]._sync_weights()
    obs = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    losses = []
    for agent in agents:
        agent.training = True
        random.seed(1)
        np.random.seed(1)
        for t in range(30):
            agent.step = t
            agent.forward(obs[t])
            metrics = agent.backward(float(t % 3), terminal=(t % 7 == 6))
        losses.append(metrics[0])
    for a, b in zip(agents[0].model.get_weights() + agents[0].target_model.get_weights(),
                    agents[1].model.get_weights() + agents[1].target_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
    np.testing.assert_allclose(agents[0].compute_q_values([obs[0]]), agents[1].compute_q_values([obs[0]]),
                               rtol=1e-5)


def _train_on_random_steps(agent, steps, seed=0):
    obs = np.random.default_rng(seed).normal(size=(steps, 4)).astype(np.float32)
    agent.training = True
    for t in range(steps):
        agent.step = t + 1
        agent.forward(obs[t])
        agent.backward(float(t % 3), terminal=(t % 7 == 6))


@pytest.mark.parametrize("double", [False, True])
def test_gradient_steps_run_bursts_and_leave_acting_weights_in_sync(double):
    seed_everything(0)
    cfg = DQNConfig(hidden=(8,), fast=True, nb_steps_warmup=5, train_interval=4, gradient_steps=3,
                    batch_size=4, target_model_update=8, enable_double_dqn=double)
    agent = build_agent(cfg, 2, (4,))
    calls = []
    original = agent.train_step
    agent.train_step = lambda experiences, sync=True: (calls.append(sync), original(experiences, sync))[1]
    _train_on_random_steps(agent, 30)
    bursts = [t for t in range(1, 31) if t > 5 and t % 4 == 0]
    assert len(calls) == 3 * len(bursts)
    assert calls == ([True] * len(calls) if double else [False, False, True] * len(bursts))
    for numpy_copy, weights in zip(agent._online_w + agent._target_w,
                                   agent.model.get_weights() + agent.target_model.get_weights()):
        np.testing.assert_array_equal(numpy_copy, weights)
    with pytest.raises(ConfigError, match="gradient_steps=3 needs FastDQNAgent.*fast=True"):
        build_agent(cfg.replace(fast=False), 2, (4,))


@pytest.mark.parametrize("repeat", [True, False])
def test_updates_due_after_an_episode_end_run_twice_as_in_keras_rl_unless_turned_off(repeat):
    """keras-rl's fit calls backward once more after each episode end with the step counter already
    advanced: with 8-step episodes, the burst and target sync due at step 8 run in that extra call
    and again in the next episode's first step (keras-rl's DQNAgent does the same)."""
    seed_everything(0)
    cfg = DQNConfig(hidden=(8,), fast=True, nb_steps_warmup=5, train_interval=8, gradient_steps=2,
                    batch_size=4, target_model_update=8, repeat_updates_at_episode_end=repeat)
    agent = build_agent(cfg, 2, (4,))
    calls, syncs = [], []
    original, original_sync = agent.train_step, agent.update_target_model_hard
    agent.train_step = lambda batch, sync=True: (calls.append(agent.step), original(batch, sync))[1]
    agent.update_target_model_hard = lambda: (syncs.append(agent.step), original_sync())[1]
    agent.fit(KerasRLEnv(gym.make("CartPole-v1", max_episode_steps=8), seed=0), nb_steps=26, verbose=0)
    twice = 2 if repeat else 1  # every episode ends on a multiple of 8 here
    assert calls == [8] * 2 * twice + [16] * 2 * twice + [24] * 2 * twice
    assert syncs == [0, *[8] * twice, *[16] * twice, *[24] * twice]
    with pytest.raises(ConfigError, match="repeat_updates_at_episode_end=False needs FastDQNAgent"):
        build_agent(cfg.replace(fast=False, gradient_steps=1, repeat_updates_at_episode_end=False), 2, (4,))


def test_torch_init_and_global_clipnorm():
    seed_everything(0)
    cfg = DQNConfig(hidden=(16,), init="torch", optimizer="sgd", learning_rate=1.0, global_clipnorm=1e-3,
                    nb_steps_warmup=5, target_model_update=100, fast=True)
    agent = build_agent(cfg, 2, (4,))
    kernel0, bias0, kernel1, bias1 = before = agent.model.get_weights()
    assert 0.4 < np.abs(kernel0).max() <= 0.5 and 0.4 < np.abs(bias0).max() <= 0.5  # 1/sqrt(4)
    assert 0.2 < np.abs(kernel1).max() <= 0.25 and np.abs(bias1).max() <= 0.25  # 1/sqrt(16)
    _train_on_random_steps(agent, 30)
    moved = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(agent.model.get_weights(), before)))
    assert 0 < moved <= 25 * 1e-3 * 1.001  # 25 SGD steps of lr 1, each clipped to norm 1e-3
    with pytest.raises(ConfigError, match="unknown init 'jax'"):
        build_agent(cfg.replace(init="jax"), 2, (4,))


def test_tuned_config_is_the_search_candidate_it_names():
    """cartpole-dqn-tuned's settings are exactly what the measured search ran as its winner."""
    import importlib.util
    from pathlib import Path

    from reproduce.experiments.cartpole_dqn_tuned import TUNED, Config

    path = Path(__file__).resolve().parent.parent / "bench" / "cartpole_dqn_search.py"
    spec = importlib.util.spec_from_file_location("cartpole_dqn_search", path)
    search = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(search)
    searched = search.config_for("r5-64-ddqn", seed=0, steps=Config().steps)
    assert searched.dqn == TUNED
    assert (searched.check_every, searched.check_episodes, searched.env) == (
        Config().check_every, Config().check_episodes, Config().env)


def test_tuned_agent_resumed_from_a_checkpoint_continues_bit_identically(tmp_path):
    """Bursts of gradient steps, the replay mirror rebuilt from the restored memory: same run."""
    import dataclasses
    import shutil

    from reproduce.experiments.cartpole_dqn_tuned import Config
    from reproduce.kerasrl.run import train_and_evaluate

    config = dataclasses.replace(Config(), steps=2000, checkpoint_every=1000, check_every=0, eval_episodes=1)
    full, part = tmp_path / "full", tmp_path / "part"
    train_and_evaluate("cartpole-dqn-tuned", config, full, verbose=False)
    shutil.copytree(full, part)
    shutil.rmtree(part / "checkpoints" / "ckpt_000002000_steps")  # as if killed after step 1000
    summary = train_and_evaluate("cartpole-dqn-tuned", config, part, verbose=False, resume=True)[1].summary
    assert summary["resumed_from_step"] == 1000  # every burst (after the 1000-step warm-up) ran after it
    arrays = [np.load(run / "checkpoints" / "ckpt_000002000_steps" / "arrays.npz") for run in (full, part)]
    assert sorted(arrays[0].files) == sorted(arrays[1].files)
    assert any(name.startswith("memory/") for name in arrays[0].files)
    for name in arrays[0].files:
        np.testing.assert_array_equal(arrays[0][name], arrays[1][name], err_msg=name)


def test_cli_killed_run_resumes_from_checkpoint_and_evaluates(cli, tmp_path):
    """SIGKILL a real run after its first checkpoint, resume it, then reload and evaluate it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from callbacks import load_rewards

    out = tmp_path / "run"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-m", "reproduce", "run", "nchain-dqn", "--steps", "3000",
                             "--checkpoint-every", "1000", "--eval-episodes", "1", "--out", str(out)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    deadline = time.time() + 240
    while not list(out.glob("checkpoints/ckpt_*_steps/COMPLETE")) and proc.poll() is None:
        assert time.time() < deadline, "no checkpoint within 240 s"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    resumed = cli("run", "nchain-dqn", "--resume", out)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps_trained"] == 3000 and summary["resumed_from_step"] >= 1000
    log = load_rewards(out / "episodes.csv")
    assert log.episode.tolist() == list(range(3))  # 1000-step episodes, each exactly once
    assert (out / "episodes.csv").read_text().count("#{") == 1
    assert sorted(p.name for p in (out / "checkpoints").glob("ckpt_*")) == [
        "ckpt_000002000_steps", "ckpt_000003000_steps"]
    evaluated = cli("evaluate", out, "--episodes", "2")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "mean reward" in evaluated.stdout
    # by default the run's own evaluation seed (reproduce.evaluation.eval_seed(0))
    assert list(out.glob("checkpoints/eval_ckpt_000003000_steps_seed1000000.csv"))
