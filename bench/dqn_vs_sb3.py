"""keras-rl DQN (candidate ``r4-zoo-exact``) against SB3's DQN with rl-zoo's CartPole-v1 settings.

Why does keras-rl need more env steps than SB3 with the same hyperparameters? Three subcommands:

* ``update``: one and 100 gradient steps on both sides from the same weights (SB3's q_net copied
  into the keras model and its target), the same replay contents (random-policy CartPole steps)
  and the same forced batches; TD targets, loss, gradients, clipping, weights and Q-values compared,
  then each numerical convention switched on its own (Adam's epsilon, float64, ...).
* ``schedule``: both agents instrumented over a short real run with the zoo schedule: gradient
  steps, target syncs, epsilon, batch contents (ages, duplicates, the newest transition, episode
  boundaries), how truncation and termination are stored and bootstrapped.
* ``ablation NAME``: ``r4-zoo-exact`` trained as ``bench/cartpole_dqn_search.py`` trains it (stop once
  solved, 50k steps at most) with one difference to SB3 removed, over ``--seeds``; steps to solve
  per seed into a CSV. Not run by this script's author (the lead engineer schedules the long runs).

    python bench/dqn_vs_sb3.py update --steps 100
    python bench/dqn_vs_sb3.py schedule --steps 5000
    python bench/dqn_vs_sb3.py report --out bench/results/dqn_vs_sb3.md   # update + schedule + existing
    python bench/dqn_vs_sb3.py ablation torch-adam --seeds 10 --jobs 1
    python bench/dqn_vs_sb3.py summary   # the ablations against the baseline and SB3, same seeds
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # cartpole_dqn_search (the r4-zoo-exact candidate)
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import reproduce  # noqa: E402,F401  (compat before TensorFlow and rl)

CANDIDATE = "r4-zoo-exact"
SB3_REV, R4B_REV, SB3_RUNS_REV = (
    "fe5607a",
    "6309773",
    "12e2f2b",
)  # the commits of the 10-seed results the gap was measured on
FINDINGS = "## Findings"  # hand-written section of the results file, kept by `report`
BATCH = 64


# --------------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------------


def zoo():
    from reproduce.experiments.sb3_zoo_dqn import ZOO

    return ZOO


def keras_config(seed: int, steps: int = 50_000):
    from cartpole_dqn_search import config_for

    return config_for(CANDIDATE, seed, steps)


def torch_convention_adam(learning_rate: float, epsilon: float = 1e-8, global_clipnorm: float | None = 10.0):
    """A tf-keras legacy Adam with PyTorch's epsilon convention: epsilon added to the bias-corrected
    sqrt(v_hat), i.e. ``var -= lr * m_hat / (sqrt(v_hat) + eps)``
    (tf-keras: ``lr_t * m / (sqrt(v) + eps)``)."""
    import tensorflow as tf

    class _TorchConventionAdam(tf.keras.optimizers.legacy.Adam):
        def _resource_apply_dense(self, grad, var, apply_state=None):
            var_device, var_dtype = var.device, var.dtype.base_dtype
            coefficients = (apply_state or {}).get((var_device, var_dtype)) or self._fallback_apply_state(
                var_device, var_dtype
            )
            m = self.get_slot(var, "m")
            v = self.get_slot(var, "v")
            m_t = tf.compat.v1.assign(
                m, coefficients["beta_1_t"] * m + coefficients["one_minus_beta_1_t"] * grad
            )
            v_t = tf.compat.v1.assign(
                v, coefficients["beta_2_t"] * v + coefficients["one_minus_beta_2_t"] * tf.square(grad)
            )
            m_hat = m_t / (1.0 - coefficients["beta_1_power"])
            v_hat = v_t / (1.0 - coefficients["beta_2_power"])
            return tf.compat.v1.assign_sub(
                var, coefficients["lr_t"] * m_hat / (tf.sqrt(v_hat) + coefficients["epsilon"])
            )

        def _resource_apply_sparse(self, grad, var, indices, apply_state=None):
            raise NotImplementedError

    clip = {} if global_clipnorm is None else {"global_clipnorm": global_clipnorm}
    return _TorchConventionAdam(learning_rate=learning_rate, epsilon=epsilon, **clip)


def tf_convention_torch_adam():
    """A torch optimizer with tf-keras's Adam convention (epsilon on the un-corrected sqrt(v))."""
    import torch

    class TFConventionAdam(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["t"] = 0
                        state["m"] = torch.zeros_like(p)
                        state["v"] = torch.zeros_like(p)
                    state["t"] += 1
                    t = state["t"]
                    state["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                    state["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    lr_t = group["lr"] * math.sqrt(1 - b2**t) / (1 - b1**t)
                    p.sub_(lr_t * state["m"] / (state["v"].sqrt() + group["eps"]))

    return TFConventionAdam


def build_sb3(seed: int, env=None, optimizer: str = "torch"):
    """SB3's DQN with rl-zoo's settings.

    ``optimizer``: ``torch`` (SB3's Adam) or ``tf`` (tf-keras's Adam convention, eps 1e-7)."""
    import gymnasium as gym
    from stable_baselines3 import DQN
    from stable_baselines3.common.logger import Logger

    kwargs = dict(zoo())
    if optimizer == "tf":
        kwargs["policy_kwargs"] = dict(
            kwargs["policy_kwargs"],
            optimizer_class=tf_convention_torch_adam(),
            optimizer_kwargs=dict(eps=1e-7),
        )
    model = DQN(
        "MlpPolicy", env if env is not None else gym.make("CartPole-v1"), seed=seed, verbose=0, **kwargs
    )
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def torch_linears(model):
    import torch

    return [m for m in model.q_net.q_net if isinstance(m, torch.nn.Linear)]


def sb3_weights(model) -> list[np.ndarray]:
    """SB3's q_net weights in keras order: kernel (in, out) = torch weight transposed, bias."""
    out = []
    for lin in torch_linears(model):
        out += [lin.weight.detach().numpy().T.copy(), lin.bias.detach().numpy().copy()]
    return out


def build_keras(seed: int, optimizer=None):
    """The r4-zoo-exact FastDQNAgent (``reproduce.kerasrl.builders.build_agent``), fresh graph and session."""
    from reproduce.kerasrl.builders import build_agent
    from reproduce.kerasrl.run import seed_everything

    config = keras_config(seed)
    seed_everything(seed)
    return build_agent(config.dqn, 2, (4,), optimizer=optimizer)


def set_keras_weights(agent, weights):
    agent.model.set_weights(weights)
    agent.target_model.set_weights(weights)
    agent._sync_weights()


# --------------------------------------------------------------------------------------------------
# part 1: controlled update comparison
# --------------------------------------------------------------------------------------------------


def random_transitions(n: int, seed: int):
    """``n`` random-policy CartPole-v1 steps: (obs, action, reward, next_obs, terminated, truncated)."""
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    out = []
    for _ in range(n):
        action = int(env.action_space.sample())
        nxt, reward, term, trunc, _ = env.step(action)
        out.append((obs, action, float(reward), nxt, bool(term), bool(trunc)))
        obs = env.reset()[0] if term or trunc else nxt
    return out


def fill_sb3(model, transitions):
    rb = model.replay_buffer
    for obs, action, reward, nxt, term, trunc in transitions:
        rb.add(
            obs[None],
            nxt[None],
            np.array([action]),
            np.array([reward]),
            np.array([term or trunc]),
            [{"TimeLimit.truncated": trunc and not term}],
        )


def fill_keras(agent, transitions) -> np.ndarray:
    """Append as keras-rl's fit does (with the dummy entry after every episode end); entry per transition."""
    from reproduce.kerasrl.agent import TRUNCATED

    entry = []
    memory = agent.memory
    for obs, action, reward, nxt, term, trunc in transitions:
        entry.append(memory.nb_entries)
        end = TRUNCATED if (trunc and not term) else bool(term or trunc)
        memory.append(obs, action, reward, end)
        if term or trunc:
            memory.append(nxt, 0, 0.0, False)  # fit's extra forward/backward at done
    return np.asarray(entry)


def keras_grad_call(agent):
    """(total_loss, global grad norm, *grads) for the train function's feeds, at the current weights."""
    import tensorflow as tf

    from reproduce.kerasrl.agent import session_call

    tm = agent.trainable_model
    fn = tm.train_function
    with agent._session.graph.as_default():
        grads = tf.compat.v1.gradients(tm.total_loss, tm.trainable_weights)
        norm = tf.linalg.global_norm(grads)
    return session_call(agent._session, [tm.total_loss, norm, *grads], fn.inputs)


def run_keras_updates(agent, batches, entry):
    """Forced batches through FastDQNAgent.train_step; per step: targets, loss, grad norm, grads."""
    from reproduce.kerasrl.agent import experience_arrays

    grad_call = keras_grad_call(agent)
    rec = {"targets": [], "loss": [], "norm": [], "grads": [], "loss_after_call": []}
    original = agent._train_call_weights

    def wrapped(*args):
        pre = grad_call(*args)
        rec["targets"].append(np.asarray(args[3], dtype=np.float64))
        rec["loss"].append(float(pre[0]))
        rec["norm"].append(float(pre[1]))
        rec["grads"].append([np.asarray(g) for g in pre[2:]])
        out = original(*args)
        rec["loss_after_call"].append(float(out[0]))
        return out

    agent._train_call_weights = wrapped
    weights = []
    try:
        for ids in batches:
            agent.train_step(experience_arrays(agent.memory.sample(BATCH, batch_idxs=entry[ids])), sync=True)
            weights.append([w.copy() for w in agent._online_w])
    finally:
        agent._train_call_weights = original
    rec["weights"] = weights
    return rec


def run_sb3_updates(model, batches):
    """Forced batches through SB3's own ``DQN.train``; per step: targets, loss, grad norm, pre-clip grads."""
    import torch
    from stable_baselines3.dqn import dqn as dqn_module

    rec = {"targets": [], "loss": [], "norm": [], "grads": [], "weights": []}
    rb = model.replay_buffer
    queue = list(batches)
    original_sample = rb.sample
    rb.sample = lambda batch_size, env=None: rb._get_samples(np.asarray(queue.pop(0)), env=env)
    functional = dqn_module.F

    class RecordingF:
        def __getattr__(self, name):
            return getattr(functional, name)

        @staticmethod
        def smooth_l1_loss(current, target, *args, **kwargs):
            loss = functional.smooth_l1_loss(current, target, *args, **kwargs)
            rec["targets"].append(target.detach().numpy().ravel().astype(np.float64))
            rec["loss"].append(loss.item())
            return loss

    original_clip = torch.nn.utils.clip_grad_norm_
    linears = torch_linears(model)

    def recording_clip(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        grads = []
        for lin in linears:
            grads += [lin.weight.grad.detach().numpy().T.copy(), lin.bias.grad.detach().numpy().copy()]
        norm = original_clip(parameters, max_norm, *args, **kwargs)
        rec["norm"].append(float(norm))
        rec["grads"].append(grads)
        return norm

    original_step = model.policy.optimizer.step

    def recording_step(*args, **kwargs):
        out = original_step(*args, **kwargs)
        rec["weights"].append(sb3_weights(model))
        return out

    dqn_module.F = RecordingF()
    torch.nn.utils.clip_grad_norm_ = recording_clip
    model.policy.optimizer.step = recording_step
    try:
        model.train(gradient_steps=len(batches), batch_size=BATCH)
    finally:
        dqn_module.F = functional
        torch.nn.utils.clip_grad_norm_ = original_clip
        rb.sample = original_sample
        del model.policy.optimizer.step
    return rec


def run_torch_manual(model, batches, dtype):
    """SB3's train loop written out (same ops) on a copy of its q_net in ``dtype`` (float64 reference)."""
    import copy

    import torch

    q_net = copy.deepcopy(model.q_net.q_net).to(dtype)
    target = copy.deepcopy(model.q_net_target.q_net).to(dtype)
    opt = torch.optim.Adam(q_net.parameters(), lr=zoo()["learning_rate"])
    rb = model.replay_buffer
    rec = {"targets": [], "loss": [], "norm": [], "weights": []}
    for ids in batches:
        ids = np.asarray(ids)
        obs = torch.as_tensor(rb.observations[ids, 0], dtype=dtype)
        nxt = torch.as_tensor(rb.next_observations[ids, 0], dtype=dtype)
        act = torch.as_tensor(rb.actions[ids, 0], dtype=torch.long).reshape(-1, 1)
        rew = torch.as_tensor(rb.rewards[ids, 0], dtype=dtype).reshape(-1, 1)
        done = torch.as_tensor(rb.dones[ids, 0] * (1 - rb.timeouts[ids, 0]), dtype=dtype).reshape(-1, 1)
        with torch.no_grad():
            y = rew + (1 - done) * zoo()["gamma"] * target(nxt).max(dim=1)[0].reshape(-1, 1)
        q = torch.gather(q_net(obs), 1, act)
        loss = torch.nn.functional.smooth_l1_loss(q, y)
        opt.zero_grad()
        loss.backward()
        rec["norm"].append(float(torch.nn.utils.clip_grad_norm_(q_net.parameters(), 10.0)))
        opt.step()
        rec["targets"].append(y.numpy().ravel().astype(np.float64))
        rec["loss"].append(loss.item())
        lins = [m for m in q_net if isinstance(m, torch.nn.Linear)]
        rec["weights"].append(
            sum(
                (
                    [
                        lin.weight.detach().numpy().T.astype(np.float64),
                        lin.bias.detach().numpy().astype(np.float64),
                    ]
                    for lin in lins
                ),
                [],
            )
        )
    return rec


def mlp_q(weights, states):
    x = np.asarray(states, dtype=np.float64)
    for i in range(0, len(weights), 2):
        x = x @ np.asarray(weights[i], dtype=np.float64) + np.asarray(weights[i + 1], dtype=np.float64)
        if i + 2 < len(weights):
            x = np.maximum(x, 0.0)
    return x


def max_diff(a, b) -> float:
    return max(
        float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)))) for x, y in zip(a, b)
    )


def compare(a, b, probe, steps=(1, 100)) -> dict:
    """Differences between two update records after each of ``steps`` gradient steps."""
    out = {}
    for k in steps:
        if k > len(a["weights"]):
            continue
        qa, qb = mlp_q(a["weights"][k - 1], probe), mlp_q(b["weights"][k - 1], probe)
        out[k] = {
            "targets": max(float(np.max(np.abs(x - y))) for x, y in zip(a["targets"][:k], b["targets"][:k])),
            "loss": max(abs(x - y) for x, y in zip(a["loss"][:k], b["loss"][:k])),
            "norm": max(abs(x - y) for x, y in zip(a["norm"][:k], b["norm"][:k])),
            "weights": max_diff(a["weights"][k - 1], b["weights"][k - 1]),
            "q": float(np.max(np.abs(qa - qb))),
            "q_rel": float(np.max(np.abs(qa - qb)) / np.max(np.abs(qb))),
            "greedy_agree": float(np.mean(qa.argmax(1) == qb.argmax(1))),
        }
    return out


def update_part(seed: int, steps: int, n_transitions: int) -> str:
    import torch

    torch.set_num_threads(1)
    transitions = random_transitions(n_transitions, seed)
    rng = np.random.default_rng(seed + 1)
    # transition 0 sits in the memory's first entry, which SequentialMemory never samples; the last
    # one has no stored next observation in keras-rl's memory: both left out of the forced batches
    batches = [rng.integers(1, n_transitions - 1, size=BATCH) for _ in range(steps)]
    probe = np.asarray([t[0] for t in transitions[::2]], dtype=np.float32)

    def sb3_side(optimizer="torch"):
        model = build_sb3(seed, optimizer=optimizer)
        fill_sb3(model, transitions)
        return model

    def keras_side(weights, optimizer=None):
        agent = build_keras(seed, optimizer=optimizer)
        entry = fill_keras(agent, transitions)
        set_keras_weights(agent, weights)
        return agent, entry

    model = sb3_side()
    w0 = sb3_weights(model)
    recs = {"sb3": run_sb3_updates(model, batches)}
    recs["torch32-manual"] = run_torch_manual(sb3_side(), batches, torch.float32)
    recs["torch64-manual"] = run_torch_manual(sb3_side(), batches, torch.float64)
    recs["sb3-tf-adam"] = run_sb3_updates(sb3_side("tf"), batches)

    agent, entry = keras_side(w0)
    import tensorflow as tf

    keras_lr = float(tf.compat.v1.keras.backend.get_value(agent.trainable_model.optimizer.learning_rate))
    opt = agent.trainable_model.optimizer
    keras_opt = (
        f"{type(opt).__module__}.{type(opt).__name__}(learning_rate={keras_lr:g}, "
        f"epsilon={opt.epsilon:g}, global_clipnorm={opt.global_clipnorm})"
    )
    weights_copied = max_diff(agent._session.run(agent.model.weights), w0)
    target_copied = max_diff(agent._session.run(agent.target_model.weights), w0)
    q0_diff = float(np.max(np.abs(agent.compute_batch_q_values(probe[:, None]) - mlp_q(w0, probe))))
    recs["keras"] = run_keras_updates(agent, batches, entry)
    keras_loss_check = max(
        abs(a - b) for a, b in zip(recs["keras"]["loss"], recs["keras"]["loss_after_call"])
    )
    cfg = keras_config(seed).dqn
    agent, entry = keras_side(w0, torch_convention_adam(cfg.learning_rate, 1e-8, cfg.global_clipnorm))
    recs["keras-torch-adam"] = run_keras_updates(agent, batches, entry)
    agent, entry = keras_side(
        w0,
        tf.keras.optimizers.legacy.Adam(
            learning_rate=cfg.learning_rate, epsilon=1e-8, global_clipnorm=cfg.global_clipnorm
        ),
    )
    recs["keras-eps1e-8"] = run_keras_updates(agent, batches, entry)

    g1 = max_diff(recs["keras"]["grads"][0], recs["sb3"]["grads"][0])
    g1_scale = max(float(np.max(np.abs(g))) for g in recs["sb3"]["grads"][0])
    lines = [
        "## Part 1: controlled update comparison",
        "",
        f"SB3 `DQN('MlpPolicy', CartPole-v1, seed={seed}, **ZOO)` (rl-zoo settings, 256x256, torch Adam "
        f"lr 2.3e-3 eps 1e-8, max_grad_norm 10) against the `{CANDIDATE}` agent built by "
        "`reproduce.kerasrl.builders.build_agent` (a `FastDQNAgent`: keras-rl's compiled `trainable_model`, "
        f"Huber `delta_clip=1`, no double DQN; optimizer `{keras_opt}`). SB3's q_net weights copied into the "
        f"keras model and its target (max abs diff after the copy: model {weights_copied:.1e}, target "
        f"{target_copied:.1e}; Q on the probe set {q0_diff:.1e}). Both memories hold the same "
        f"{n_transitions} "
        "random-policy CartPole-v1 steps (keras-rl's with fit's dummy entry after each episode end); "
        f"{steps} batches of {BATCH} transition ids drawn once (with replacement) and forced on both sides "
        "(SB3: `replay_buffer.sample` replaced by `_get_samples(ids)`, its own `DQN.train` runs; keras-rl: "
        "`SequentialMemory.sample(64, batch_idxs=entries)`, then `FastDQNAgent.train_step`). Target nets "
        f"stay fixed for the {steps} steps on both sides (neither syncs inside a burst). Probe set: "
        f"{len(probe)} observations from the memory.",
        "",
        f"Step 1 (identical weights before it): max |grad diff| {g1:.2e} (largest grad component "
        f"{g1_scale:.2e}); loss keras {recs['keras']['loss'][0]:.7f} vs SB3 {recs['sb3']['loss'][0]:.7f} "
        f"(keras's loss is the batch **mean** of the masked Huber, as `F.smooth_l1_loss`'s default; the "
        f"loss fetched before the update equals the train call's own to {keras_loss_check:.1e}); grad "
        f"global norm keras {recs['keras']['norm'][0]:.4f} vs SB3 {recs['sb3']['norm'][0]:.4f}.",
        "",
        f"Gradient clipping (global norm > 10) over the {steps} steps: keras "
        f"{sum(n > 10 for n in recs['keras']['norm'])}, SB3 {sum(n > 10 for n in recs['sb3']['norm'])}; "
        f"largest pre-clip norm keras {max(recs['keras']['norm']):.3f}, SB3 {max(recs['sb3']['norm']):.3f}.",
        "",
        "| comparison | what differs | after | max abs TD-target diff | max abs loss diff | max abs "
        "grad-norm diff | max abs weight diff | max abs Q diff (probe) | rel. Q diff "
        "| greedy actions equal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [
        (
            "keras vs SB3",
            "both as built (tf-keras Adam eps 1e-7 on sqrt(v); torch Adam eps 1e-8 on sqrt(v_hat))",
            "keras",
            "sb3",
        ),
        (
            "keras vs SB3 with tf-convention Adam",
            "torch side uses tf-keras's Adam convention and eps 1e-7",
            "keras",
            "sb3-tf-adam",
        ),
        (
            "keras torch-convention Adam vs SB3",
            "keras side uses PyTorch's Adam convention and eps 1e-8",
            "keras-torch-adam",
            "sb3",
        ),
        (
            "keras Adam(epsilon=1e-8) vs SB3",
            "same eps value, tf-keras convention (eps on un-corrected sqrt(v))",
            "keras-eps1e-8",
            "sb3",
        ),
        (
            "torch float32 (manual loop) vs SB3",
            "SB3's train written out: a check of the loop",
            "torch32-manual",
            "sb3",
        ),
        (
            "SB3 float32 vs float64",
            "float32 rounding alone (same algorithm in float64)",
            "sb3",
            "torch64-manual",
        ),
        (
            "keras vs keras torch-convention Adam",
            "Adam convention alone, both in TF",
            "keras",
            "keras-torch-adam",
        ),
    ]
    results = {}
    for label, what, a, b in rows:
        res = compare(recs[a], recs[b], probe, steps=(1, steps))
        results[label] = res
        for k, r in res.items():
            lines.append(
                f"| {label} | {what} | {k} | {r['targets']:.2e} | {r['loss']:.2e} | {r['norm']:.2e} | "
                f"{r['weights']:.2e} | {r['q']:.2e} | {r['q_rel']:.2e} | {r['greedy_agree']:.3f} |"
            )
    moved = max_diff(recs["sb3"]["weights"][-1], w0)
    q_scale = float(np.max(np.abs(mlp_q(recs["sb3"]["weights"][-1], probe))))
    lines += [
        "",
        f"For scale: after {steps} steps SB3's weights moved by up to {moved:.3f} from the copied "
        f"start; its largest |Q| on the probe set is {q_scale:.2f}.",
    ]
    lines += ["", update_size_note(w0, recs, steps), "", adam_epsilon_scale(recs["sb3"]["grads"], steps)]
    return "\n".join(lines) + "\n", results


def update_size_note(w0, recs, steps) -> str:
    """How much smaller tf-keras's Adam steps are than PyTorch's convention's, from the same gradients."""
    out = []
    for k in (1, steps):
        d_tf = np.concatenate([(w - s).ravel() for w, s in zip(recs["keras"]["weights"][k - 1], w0)])
        d_pt = np.concatenate(
            [(w - s).ravel() for w, s in zip(recs["keras-torch-adam"]["weights"][k - 1], w0)]
        )
        moved = np.abs(d_pt) > 0
        ratio = np.abs(d_tf[moved]) / np.abs(d_pt[moved])
        out.append(
            f"after {k} step(s): of the {moved.mean():.1%} of parameters the torch-convention Adam moved, "
            f"tf-keras's moved {np.mean(ratio < 0.5):.1%} by less than half as far and "
            f"{np.mean(ratio < 0.1):.1%} by less than a tenth; total displacement (L2) tf-keras "
            f"{np.linalg.norm(d_tf):.4f} vs torch convention {np.linalg.norm(d_pt):.4f}"
        )
    return (
        "Update size, keras-side tf-keras Adam against the same graph with PyTorch's convention (same "
        "gradients at step 1): " + "; ".join(out) + "."
    )


def adam_epsilon_scale(grads_per_step, steps) -> str:
    """How large the effective epsilons are against sqrt(v_hat) for the recorded (pre-clip) gradients."""
    b2 = 0.999
    v = [np.zeros_like(g, dtype=np.float64) for g in grads_per_step[0]]
    for g_step in grads_per_step:
        v = [b2 * vi + (1 - b2) * np.asarray(g, np.float64) ** 2 for vi, g in zip(v, g_step)]
    t = len(grads_per_step)
    s = np.concatenate([np.sqrt(vi / (1 - b2**t)).ravel() for vi in v])
    eps_tf = 1e-7 / math.sqrt(1 - b2**t)
    return (
        f"Adam's epsilon against sqrt(v_hat) after {t} steps (from SB3's pre-clip gradients): tf-keras's "
        f"effective epsilon is 1e-7/sqrt(1-0.999^t) = {eps_tf:.2e} (at t=1: {1e-7 / math.sqrt(1e-3):.2e}), "
        f"PyTorch's 1e-8. Parameters with sqrt(v_hat) < 1e-5: {np.mean(s < 1e-5):.2%} "
        f"(< 1e-6: {np.mean(s < 1e-6):.2%}; exactly 0, i.e. never a gradient (dead ReLU units): "
        f"{np.mean(s == 0):.2%}); median sqrt(v_hat) {np.median(s):.2e}."
    )


# --------------------------------------------------------------------------------------------------
# part 2: schedule comparison over a real run
# --------------------------------------------------------------------------------------------------


class StepLog:
    """A gymnasium wrapper's record of every real env step (before any auto-reset)."""

    def __init__(self):
        self.obs, self.next_obs, self.term, self.trunc, self.episode = [], [], [], [], []
        self._episode = 0


def logging_env(log: StepLog, **make_kwargs):
    import gymnasium as gym

    class LogWrapper(gym.Wrapper):
        def reset(self, **kwargs):
            obs, info = self.env.reset(**kwargs)
            self._last = obs
            return obs, info

        def step(self, action):
            obs, reward, term, trunc, info = self.env.step(action)
            log.obs.append(np.asarray(self._last).copy())
            log.next_obs.append(np.asarray(obs).copy())
            log.term.append(bool(term))
            log.trunc.append(bool(trunc))
            log.episode.append(log._episode)
            if term or trunc:
                log._episode += 1
            self._last = obs
            return obs, reward, term, trunc, info

    return LogWrapper(gym.make("CartPole-v1", **make_kwargs))


def run_sb3_instrumented(seed: int, steps: int, total: int = 50_000, **make_kwargs):
    """SB3 ``learn(total)`` (the schedule's horizon) stopped after ``steps`` env steps, instrumented."""
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.dqn import dqn as dqn_module

    log = StepLog()
    model = build_sb3(seed, env=Monitor(logging_env(log, **make_kwargs)))
    rb = model.replay_buffer
    rec = {"bursts": [], "syncs": [], "eps": [], "samples": [], "stored_done": [], "stored_timeout": []}

    original_train = model.train

    def train(gradient_steps, batch_size=100):
        rec["bursts"].append((model.num_timesteps, gradient_steps))
        return original_train(gradient_steps=gradient_steps, batch_size=batch_size)

    def sample(batch_size, env=None):
        upper = rb.buffer_size if rb.full else rb.pos
        inds = np.random.randint(0, upper, size=batch_size)  # ReplayBuffer.sample's draw, same RNG use
        data = rb._get_samples(inds, env=env)
        rec["samples"].append(
            {
                "ids": inds.copy(),
                "stored": upper,
                "step": model.num_timesteps,
                "bootstrap": 1.0 - data.dones.numpy().ravel(),
            }
        )
        return data

    original_add = rb.add

    def add(obs, next_obs, action, reward, done, infos):
        rec["stored_done"].append(bool(done[0]))
        rec["stored_timeout"].append(bool(infos[0].get("TimeLimit.truncated", False)))
        return original_add(obs, next_obs, action, reward, done, infos)

    original_polyak = dqn_module.polyak_update

    def polyak(params, target_params, tau):
        params, target_params = list(params), list(target_params)
        if params:
            rec["syncs"].append(model.num_timesteps)
        return original_polyak(params, target_params, tau)

    original_sample_action = model._sample_action

    def sample_action(learning_starts, action_noise=None, n_envs=1):
        eps = 1.0 if model.num_timesteps < learning_starts else model.exploration_rate
        rec["eps"].append(eps)
        return original_sample_action(learning_starts, action_noise, n_envs)

    class Stop(BaseCallback):
        def _on_step(self):
            return self.num_timesteps < steps

    import torch

    original_clip = torch.nn.utils.clip_grad_norm_
    rec["norms"] = []

    def clip(parameters, max_norm, *args, **kwargs):
        norm = original_clip(parameters, max_norm, *args, **kwargs)
        rec["norms"].append(float(norm))
        return norm

    model.train, rb.sample, rb.add, model._sample_action = train, sample, add, sample_action
    dqn_module.polyak_update = polyak
    torch.nn.utils.clip_grad_norm_ = clip
    try:
        model.learn(total_timesteps=total, callback=Stop())
    finally:
        dqn_module.polyak_update = original_polyak
        torch.nn.utils.clip_grad_norm_ = original_clip
    # every stored transition against the env's own record of that step
    n = rb.pos
    ok = np.allclose(rb.observations[:n, 0], np.asarray(log.obs[:n])) and np.allclose(
        rb.next_observations[:n, 0], np.asarray(log.next_obs[:n])
    )
    rec.update(
        log=log,
        storage_matches_env=ok,
        env_steps=model.num_timesteps,
        stored=n,
        transition_of_entry=np.arange(n),
    )
    return rec


def run_keras_instrumented(seed: int, steps: int, ablation: str | None = None, **make_kwargs):
    """keras-rl ``fit`` of the r4-zoo-exact FastDQNAgent for ``steps`` steps, instrumented (``ablation``:
    patched by :func:`apply_ablation` first; its sampling patch is replaced by the recording one)."""
    from reproduce.adapters import KerasRLEnv
    from reproduce.kerasrl.replay import sample_batch_indexes
    from reproduce.kerasrl.run import make_agent, seed_everything

    log = StepLog()
    config = keras_config(seed, steps)
    seed_everything(seed)
    env = KerasRLEnv(logging_env(log, **make_kwargs), seed=seed)
    agent = make_agent(config, env)
    if ablation is not None:
        apply_ablation(agent, ablation)
    rec = {
        "bursts": [],
        "syncs": [],
        "eps": [],
        "eps_extra": [],
        "samples": [],
        "train_calls": [],
        "extra_backwards": 0,
        "entries": [],
    }
    state = {"last_backward_env_steps": -1, "extra": False, "done": False, "train_in_call": 0}

    original_forward, original_backward = agent.forward, agent.backward
    original_train_step, original_sync = agent.train_step, agent.update_target_model_hard

    def forward(observation):
        extra = state["done"]  # fit's extra forward right after a done
        (rec["eps_extra"] if extra else rec["eps"]).append(agent.policy.get_current_value())
        return original_forward(observation)

    def backward(reward, terminal):
        env_steps = len(log.obs)
        state["extra"] = env_steps == state["last_backward_env_steps"]  # no env step since the last one
        state["done"] = bool(terminal) and not state["extra"]
        rec["extra_backwards"] += state["extra"]
        state["last_backward_env_steps"] = env_steps
        state["train_in_call"] = 0
        rec["entries"].append(None if state["extra"] else env_steps - 1)  # entry -> transition id
        out = original_backward(reward, terminal)
        if state["train_in_call"]:
            rec["bursts"].append((env_steps, state["train_in_call"], int(agent.step), state["extra"]))
        return out

    def train_step(batch, sync=True):
        state["train_in_call"] += 1
        return original_train_step(batch, sync=sync)

    def sync():
        rec["syncs"].append((len(log.obs), int(agent.step), state["extra"]))
        return original_sync()

    mirror = agent._mirror

    def sample(batch_size):  # ReplayMirror.sample, recording the entries it draws (same random draws)
        n = mirror.size
        idxs = np.array(sample_batch_indexes(1, n - 1, size=batch_size)) + 1
        terminal = mirror.terminals
        slot = (mirror.start + idxs - 2) % mirror.limit
        redraws = 0
        for i in np.flatnonzero(terminal[slot]):
            idx = idxs[i]
            while terminal[(mirror.start + idx - 2) % mirror.limit]:
                idx = sample_batch_indexes(2, n, size=1)[0]
                redraws += 1
            idxs[i] = idx
        before = (mirror.start + idxs - 1) % mirror.limit
        after = (mirror.start + idxs) % mirror.limit
        rec["samples"].append(
            {
                "entries": idxs - 1,
                "stored_entries": n,
                "env_steps": len(log.obs),
                "redraws": redraws,
                "initial_dummy_hits": int(np.count_nonzero(terminal[slot])),
                "terminal1": mirror.terminals[before].copy(),
            }
        )
        return mirror_batch(mirror, before, after)

    agent.forward, agent.backward, agent.train_step = forward, backward, train_step
    agent.update_target_model_hard = sync
    mirror.sample = sample
    agent.fit(env, nb_steps=steps, verbose=0)
    entries = rec["entries"]
    transition_of_entry = np.array([-1 if e is None else e for e in entries])
    real = transition_of_entry >= 0
    obs = np.asarray(list(agent.memory.observations))
    ok = bool(np.allclose(obs[: len(entries)][real], np.asarray(log.obs)[transition_of_entry[real]]))
    has_next = real & (np.arange(len(entries)) + 1 < len(obs))
    ok = ok and bool(
        np.allclose(
            obs[1:][has_next[: len(obs) - 1]], np.asarray(log.next_obs)[transition_of_entry[has_next]]
        )
    )
    rec.update(
        log=log,
        storage_matches_env=ok,
        env_steps=len(log.obs),
        stored=len(entries),
        transition_of_entry=transition_of_entry,
        memory_terminals=np.asarray(list(agent.memory.terminals)),
    )
    return rec


def vals(values) -> list[float]:
    """The distinct values of ``values`` as plain floats (for the tables)."""
    return sorted({float(v) for v in values})


def batch_stats(rec, side: str) -> dict:
    """Ages (in env transitions), duplicates, newest transition, episode boundaries of the sampled batches."""
    log = rec["log"]
    ages, dups, newest, n_batches, terms, truncs, boot_trunc, boot_term, cross = [], 0, 0, 0, 0, 0, [], [], 0
    redraws = dummy_hits = 0
    for s in rec["samples"]:
        n_batches += 1
        if side == "sb3":
            ids = s["ids"]
            latest = s["stored"] - 1  # newest transition stored at this point
            boot = s["bootstrap"]
        else:
            entry_ids = s["entries"]
            ids = rec["transition_of_entry"][entry_ids]
            cross += int(np.count_nonzero(ids < 0))  # a dummy entry (crosses an episode boundary)
            latest = s["env_steps"] - 1
            boot = (s["terminal1"] != 1).astype(float)
            redraws += s["redraws"]
            dummy_hits += s["initial_dummy_hits"]
            ids = ids[ids >= 0]
        ages.append(latest - ids)
        dups += len(ids) - len(np.unique(ids))
        newest += int(np.count_nonzero(ids == latest))
        term = np.asarray(log.term)[ids]
        trunc = np.asarray(log.trunc)[ids] & ~term
        terms += int(term.sum())
        truncs += int(trunc.sum())
        boot_term += list(boot[: len(term)][term]) if len(boot) == len(term) else []
        boot_trunc += list(boot[: len(trunc)][trunc]) if len(boot) == len(trunc) else []
        if side == "sb3":
            episodes = np.asarray(log.episode)
            cross += 0 if np.all(episodes[ids] == episodes[ids]) else 1
    ages = np.concatenate(ages) if ages else np.array([])
    return dict(
        batches=n_batches,
        ages=ages,
        dups=dups,
        newest=newest,
        terms=terms,
        truncs=truncs,
        boot_term=boot_term,
        boot_trunc=boot_trunc,
        cross=cross,
        redraws=redraws,
        dummy_hits=dummy_hits,
    )


def schedule_part(seed: int, steps: int, trunc_steps: int, trunc_limit: int) -> str:
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    sb3 = run_sb3_instrumented(seed, steps)
    t_sb3 = time.perf_counter() - t0
    t0 = time.perf_counter()
    krl = run_keras_instrumented(seed, steps)
    t_krl = time.perf_counter() - t0
    bs, bk = batch_stats(sb3, "sb3"), batch_stats(krl, "keras")

    def fmt_bursts(bursts, keras):
        if keras:
            items = [f"{e}{'*' if x else ''}:{n}" for e, n, _, x in bursts]
        else:
            items = [f"{e}:{n}" for e, n in bursts]
        return ", ".join(items)

    k_grad = sum(b[1] for b in krl["bursts"])
    s_grad = sum(b[1] for b in sb3["bursts"])
    k_extra_bursts = [b for b in krl["bursts"] if b[3]]
    k_syncs = krl["syncs"]
    k_syncs_extra = sum(1 for s in k_syncs if s[2])
    eps_s, eps_k = np.asarray(sb3["eps"]), np.asarray(krl["eps"])
    m = min(len(eps_s), len(eps_k))
    checkpoints = [0, 999, 1000, 4000, 7999, 8000, m - 1]
    checkpoints = [c for c in checkpoints if c < m]

    def pct(a, q):
        return f"{np.percentile(a, q):.0f}" if len(a) else "-"

    ep_s = sb3["log"].episode[-1] + 1
    ep_k = krl["log"].episode[-1] + 1
    # the other seed-0 stream: are the two runs' episodes the same? (they share no RNG)
    rows = [
        ("env steps run", f"{sb3['env_steps']}", f"{krl['env_steps']}"),
        ("episodes", f"{ep_s}", f"{ep_k}"),
        (
            "entries stored in the replay memory",
            f"{sb3['stored']} (one per env step)",
            f"{krl['stored']} ({krl['stored'] - krl['env_steps']} dummy entries, one per episode end: "
            "the terminal observation with the extra forward's action, reward 0, terminal False)",
        ),
        (
            "storage matches the env's own record of (s, s')",
            str(sb3["storage_matches_env"]),
            str(krl["storage_matches_env"]),
        ),
        (
            "gradient bursts: env step:gradient steps (* = in fit's extra backward at an episode end)",
            fmt_bursts(sb3["bursts"], False),
            fmt_bursts(krl["bursts"], True),
        ),
        (
            "gradient steps in total",
            f"{s_grad} in {len(sb3['bursts'])} bursts",
            f"{k_grad} in {len(krl['bursts'])} bursts ({len(k_extra_bursts)} bursts from the extra backward, "
            f"{sum(b[1] for b in k_extra_bursts)} gradient steps)",
        ),
        (
            "first gradient step after env step",
            f"{sb3['bursts'][0][0] if sb3['bursts'] else '-'}",
            f"{krl['bursts'][0][0] if krl['bursts'] else '-'}",
        ),
        (
            "target syncs",
            f"{len(sb3['syncs'])}: every 10 env steps (first {sb3['syncs'][:3]}); inside a burst "
            "none, so each burst trains against the online net as it was when the burst began",
            f"{len(k_syncs)}: after each burst (agent.step % 256 == 0, env steps "
            f"{[s[0] for s in k_syncs[:4]]}...), {k_syncs_extra} from the extra backward; same effect: each "
            "burst trains against the online net as it was when the burst began",
        ),
        (
            "epsilon at env step " + ", ".join(str(c + 1) for c in checkpoints),
            ", ".join(f"{eps_s[c]:.4f}" for c in checkpoints) + " (uniform random actions before step 1000)",
            ", ".join(f"{eps_k[c]:.4f}" for c in checkpoints) + " (eps-greedy from step 1 on)",
        ),
        (
            "largest eps difference between the two at the same env step (steps 1-1000; steps 1001 on)",
            f"{np.max(np.abs(eps_s[:1000] - eps_k[:1000])):.4f}",
            f"{np.max(np.abs(eps_s[1000:m] - eps_k[1000:m])):.1e}",
        ),
        (
            "extra forward calls (action discarded, draws from np.random)",
            "none",
            f"{len(krl['eps_extra'])} (one per episode end)",
        ),
        ("batches sampled", f"{bs['batches']}", f"{bk['batches']}"),
        (
            "sampling",
            "uniform over all stored transitions, with replacement (`np.random.randint(0, pos)`)",
            "without replacement (`random.sample(range(1, n - 1))`), entries whose previous entry is "
            "terminal "
            "(the dummy after an episode end) redrawn one at a time, with replacement",
        ),
        (
            "sampled transition age in env steps: min / p10 / median / p90 / max",
            " / ".join(pct(bs["ages"], q) for q in (0, 10, 50, 90, 100)),
            " / ".join(pct(bk["ages"], q) for q in (0, 10, 50, 90, 100)),
        ),
        (
            "newest transition (age 0) sampled",
            f"{bs['newest']} times",
            f"{bk['newest']} times (cannot be: its next "
            "observation is not in the memory until the next step's backward)",
        ),
        ("duplicate transitions within a batch (total over batches)", f"{bs['dups']}", f"{bk['dups']}"),
        (
            "draws that hit a dummy entry and were redrawn",
            "n/a (no dummy entries)",
            f"{bk['dummy_hits']} initial hits, {bk['redraws']} redraws",
        ),
        (
            "sampled transitions that cross an episode boundary (s' from another episode)",
            f"{bs['cross']}",
            f"{bk['cross']}",
        ),
        (
            "sampled terminal transitions (terminated): bootstrap factor used",
            f"{bs['terms']}: {vals(bs['boot_term'])}",
            f"{bk['terms']}: {vals(bk['boot_term'])}",
        ),
        (
            "sampled truncated transitions: bootstrap factor used",
            f"{bs['truncs']}: {vals(bs['boot_trunc'])}",
            f"{bk['truncs']}: {vals(bk['boot_trunc'])}",
        ),
        (
            "gradient global norm before clipping (SB3 side; part 1 shows keras-rl's equal): median / max; "
            "steps clipped at 10",
            f"{np.median(sb3['norms']):.3f} / {np.max(sb3['norms']):.3f}; "
            f"{int(np.sum(np.asarray(sb3['norms']) > 10))} of {len(sb3['norms'])}",
            "(same update, see part 1)",
        ),
        ("wall time of the instrumented run", f"{t_sb3:.1f} s", f"{t_krl:.1f} s"),
    ]
    out = [
        "## Part 2: schedule over a real run",
        "",
        f"Seed {seed}, {steps} env steps with the zoo schedule on both sides (SB3: "
        "`learn(total_timesteps=50000)` "
        f"stopped after {steps} steps by a callback, so epsilon anneals over the real 8,000 steps; keras-rl: "
        f"`fit(nb_steps={steps})` of the `{CANDIDATE}` FastDQNAgent as `reproduce` builds it). The two runs "
        "share no random stream (SB3 seeds torch/numpy/env its way, keras-rl python/numpy/TF/env), so the "
        "episodes differ; the schedule does not depend on them except where episodes end.",
        "",
        "| | SB3 DQN | keras-rl r4-zoo-exact |",
        "|---|---|---|",
    ]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]

    # truncation probe: a short time limit so that truncations happen and are sampled
    sb3_t = run_sb3_instrumented(seed, trunc_steps, max_episode_steps=trunc_limit)
    krl_t = run_keras_instrumented(seed, trunc_steps, max_episode_steps=trunc_limit)
    bst, bkt = batch_stats(sb3_t, "sb3"), batch_stats(krl_t, "keras")
    k_flags = krl_t["memory_terminals"]
    tk = krl_t["transition_of_entry"]
    trunc_ids = np.flatnonzero(np.asarray(krl_t["log"].trunc) & ~np.asarray(krl_t["log"].term))
    entry_of = {t: i for i, t in enumerate(tk) if t >= 0}
    k_trunc_flags = sorted({int(k_flags[entry_of[t]]) for t in trunc_ids if t in entry_of})
    s_trunc = np.asarray(sb3_t["log"].trunc) & ~np.asarray(sb3_t["log"].term)
    n_s = sb3_t["stored"]
    s_flags = [
        sorted({bool(x) for x in np.asarray(sb3_t[key])[:n_s][s_trunc[:n_s]]})
        for key in ("stored_done", "stored_timeout")
    ]
    out += [
        "",
        f"Truncation probe (same code, `gym.make('CartPole-v1', max_episode_steps={trunc_limit})`, "
        f"{trunc_steps} "
        "env steps, so that time-limit truncations happen and get sampled; the real 500-step limit was "
        f"reached {int(np.sum(np.asarray(sb3['log'].trunc)))} (SB3) and "
        f"{int(np.sum(np.asarray(krl['log'].trunc)))} (keras-rl) times in the {steps}-step run above):",
        "",
        "| | SB3 DQN | keras-rl r4-zoo-exact |",
        "|---|---|---|",
        f"| truncations in the run | {int(s_trunc.sum())} | {len(trunc_ids)} |",
        "| how a truncation is stored | `done=True`, `timeouts=True` (handle_timeout_termination); "
        f"next_obs = the real final observation (stored flags at truncations: done {s_flags[0]}, timeout "
        f"{s_flags[1]}) | `terminal=TRUNCATED` (2) (truncation_aware=True), then the dummy entry (stored "
        f"flags at truncations: {k_trunc_flags}) |",
        "| how a termination is stored | `done=True`, `timeouts=False` | `terminal=True` (1), then the "
        "dummy entry |",
        f"| sampled truncated transitions: bootstrap factor (1 = gamma * max Q(s') kept) | {bst['truncs']}: "
        f"{vals(bst['boot_trunc'])} | {bkt['truncs']}: {vals(bkt['boot_trunc'])} |",
        f"| sampled terminated transitions: bootstrap factor | {bst['terms']}: "
        f"{vals(bst['boot_term'])} | "
        f"{bkt['terms']}: {vals(bkt['boot_term'])} |",
        f"| sampled transitions crossing an episode boundary | {bst['cross']} | {bkt['cross']} |",
    ]
    out += ["", doubling_probe(seed, trunc_steps), "", doubling_in_logged_runs()]
    return "\n".join(out) + "\n"


def doubling_probe(seed: int, steps: int, limit: int = 8) -> str:
    """keras-rl's extra backward at an episode end trains when agent.step is a multiple of train_interval;
    with 8-step episodes (256 = 32 x 8) nearly every episode ends on such a step."""
    sb3 = run_sb3_instrumented(seed, steps, max_episode_steps=limit)
    krl = run_keras_instrumented(seed, steps, max_episode_steps=limit)
    bursts = ", ".join(f"{e}{'*' if x else ''}:{n}" for e, n, _, x in krl["bursts"])
    syncs = ", ".join(f"{e}{'*' if x else ''}" for e, _, x in krl["syncs"])
    return (
        f"Doubled bursts, made visible (`max_episode_steps={limit}`, {steps} env steps, so episodes end on "
        f"multiples of 256): SB3 ran {sum(b[1] for b in sb3['bursts'])} gradient steps in "
        f"{len(sb3['bursts'])} bursts at env steps {[b[0] for b in sb3['bursts']]}; keras-rl ran "
        f"{sum(b[1] for b in krl['bursts'])} in {len(krl['bursts'])} bursts, env step:gradient steps "
        f"{bursts} (* = inside fit's extra forward/backward after an episode end, rl/core.py:214-215, "
        "where `self.step` was already incremented at core.py:206 and the next step's backward sees the "
        "same "
        f"`self.step` again); target syncs at env steps {syncs}."
    )


def doubling_in_logged_runs() -> str:
    """How often the doubling fires in real keras-rl runs with the same burst schedule: episodes of the
    10 ``cartpole-dqn-tuned`` runs (train_interval 256, warm-up 1000, as r4-zoo-exact) that end on an env
    step that is a multiple of 256 (past the warm-up), against the bursts those runs had."""
    import pandas as pd

    runs = sorted((HERE.parent / "results" / "runs" / "cartpole-dqn-tuned").glob("seed*/episodes.csv"))
    if not runs:
        return "(no cartpole-dqn-tuned runs under results/runs to count doubled bursts in)"
    doubled = bursts = 0
    per_run = []
    for path in runs:
        frame = pd.read_csv(path, comment="#")
        ends = frame.total_steps.to_numpy()
        hit = int(np.sum((ends % 256 == 0) & (ends > 1000)))
        n = int(ends[-1] // 256 - 1000 // 256)
        doubled, bursts = doubled + hit, bursts + n
        per_run.append(hit)
    return (
        f"In the {len(runs)} logged `cartpole-dqn-tuned` runs under results/runs (same burst schedule: "
        f"train_interval 256, 128 gradient steps, warm-up 1000), {doubled} of {bursts} bursts "
        f"({doubled / max(bursts, 1):.1%}) were doubled by an episode ending on a multiple of 256 "
        f"(per run: {per_run})."
    )


# --------------------------------------------------------------------------------------------------
# the existing 10-seed measurements (no new runs)
# --------------------------------------------------------------------------------------------------


def existing_part() -> str:
    import io
    import json
    import subprocess

    import pandas as pd
    from scipy import stats

    def committed(rev, path):  # the files as committed (bench/cartpole_dqn.py may be rewriting them)
        text = subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=HERE.parent, check=True, capture_output=True, text=True
        ).stdout
        return pd.read_csv(io.StringIO(text))

    sb3 = committed(SB3_REV, "bench/results/cartpole_dqn.csv")
    sb3 = sb3[sb3.agent == "sb3-zoo-dqn"].drop_duplicates("seed").sort_values("seed")
    krl = committed(R4B_REV, "bench/results/cartpole_dqn_search_round4b.csv")
    krl = krl[krl.candidate == CANDIDATE]
    newer = []
    for seed in range(5):
        text = subprocess.run(
            ["git", "show", f"{SB3_RUNS_REV}:bench/results/sb3_runs/seed{seed}/summary.json"],
            cwd=HERE.parent,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        newer.append(json.loads(text)["steps_to_solve"])
    a = sb3.steps_to_solve.fillna(50_000).to_numpy()
    b = krl.steps_to_solve.fillna(50_000).to_numpy()
    u = stats.mannwhitneyu(a, b, alternative="two-sided")
    rng = np.random.default_rng(0)
    diffs = [np.median(rng.choice(b, len(b))) - np.median(rng.choice(a, len(a))) for _ in range(10_000)]
    low, high = np.percentile(diffs, [2.5, 97.5])
    return (
        "\n".join(
            [
                "## The gap being explained (existing runs, nothing rerun)",
                "",
                "Steps to solve, unsolved counted as 50,000 (none were): SB3 `sb3-zoo-dqn` from "
                f"`bench/results/cartpole_dqn.csv` as committed in {SB3_REV} (seeds 0-9), keras-rl "
                f"`r4-zoo-exact` from `bench/results/cartpole_dqn_search_round4b.csv` as committed in "
                f"{R4B_REV} (seeds 0-9).",
                "",
                f"- SB3: {sorted(int(x) for x in a)}, median {np.median(a):.0f}",
                f"- keras-rl: {sorted(int(x) for x in b)}, median {np.median(b):.0f}",
                f"- median difference keras - SB3 {np.median(b) - np.median(a):.0f}, "
                f"bootstrap 95% CI [{low:.0f}, "
                f"{high:.0f}]; Mann-Whitney U = {u.statistic:.1f}, two-sided p = {u.pvalue:.3f}",
                f"- SB3 solved by 10,000 steps in {int(np.sum(a <= 10_000))}/10 seeds, keras-rl in "
                f"{int(np.sum(b <= 10_000))}/10.",
                f"- the newer SB3 reference (`reproduce run sb3-zoo-dqn`, run directories committed in "
                f"{SB3_RUNS_REV}), seeds 0-4: {newer}; the file above had {[int(x) for x in a[:5]]} for the "
                "same seeds: a seed's value changed between the two harness versions (not established here "
                "whether by the harness change or run-to-run nondeterminism)",
            ]
        )
        + "\n"
    )


# --------------------------------------------------------------------------------------------------
# ablations: r4-zoo-exact with one difference to SB3 removed (steps to solve per seed)
# --------------------------------------------------------------------------------------------------

ABLATIONS = {
    "baseline": "r4-zoo-exact unchanged (the control: same code path as every ablation)",
    "torch-adam": "Adam with PyTorch's convention and eps 1e-8 (epsilon added to sqrt(v_hat))",
    "no-extra-burst": "fit's extra backward at an episode end stores its dummy entry but neither trains nor "
    "syncs the target (no doubled burst)",
    "with-replacement": "batches drawn uniformly with replacement over the valid transitions "
    "(SB3's sampling)",
    "random-warmup": "uniform random actions for the first 1,000 steps (SB3's learning_starts behaviour)",
    "sb3-like": "torch-adam + no-extra-burst + with-replacement + random-warmup together",
    "sb3": "SB3 itself (reproduce.experiments.sb3_zoo_dqn), the reference, same checks",
    "sb3-tf-adam": "SB3 with tf-keras's Adam convention and eps 1e-7 (the reverse of torch-adam)",
}


def mirror_batch(mirror, before, after):
    """The ``(state0, actions, rewards, state1, terminal1)`` arrays of the mirror's ring slots
    ``before`` (s, a, r, end flag) and ``after`` (s')."""
    return (mirror.observations[before][:, None], mirror.actions[before], mirror.rewards[before],
            mirror.observations[after][:, None], mirror.terminals[before])


def apply_ablation(agent, name: str):
    """Patch a compiled r4-zoo-exact FastDQNAgent for ablation ``name`` (see ABLATIONS)."""
    parts = ["no-extra-burst", "with-replacement", "random-warmup"] if name == "sb3-like" else [name]
    if "no-extra-burst" in parts:  # the option this investigation added to FastDQNAgent/DQNConfig
        agent.repeat_updates_at_episode_end = False
    if "with-replacement" in parts:
        mirror = agent._mirror

        def sample(batch_size):
            n = mirror.size
            idxs = np.random.randint(2, n, size=batch_size)  # entries 1 .. n-2 (complete transitions)
            terminal = mirror.terminals
            for i in range(batch_size):
                while terminal[(mirror.start + idxs[i] - 2) % mirror.limit]:
                    idxs[i] = np.random.randint(2, n)
            before = (mirror.start + idxs - 1) % mirror.limit
            after = (mirror.start + idxs) % mirror.limit
            return mirror_batch(mirror, before, after)

        mirror.sample = sample
    if "random-warmup" in parts:
        policy = agent.policy
        original_value = policy.get_current_value
        policy.get_current_value = lambda: 1.0 if agent.training and agent.step < 1000 else original_value()
    return agent


def ablation_job(job):
    name, seed, steps = job
    import tensorflow as tf  # noqa: F401

    if name in ("sb3", "sb3-tf-adam"):
        import torch

        from reproduce.experiments import sb3_zoo_dqn

        torch.set_num_threads(1)  # speed only: two torch threads on a shared 2-core machine crawl

        if name == "sb3-tf-adam":
            sb3_zoo_dqn.ZOO = dict(
                sb3_zoo_dqn.ZOO,
                policy_kwargs=dict(
                    sb3_zoo_dqn.ZOO["policy_kwargs"],
                    optimizer_class=tf_convention_torch_adam(),
                    optimizer_kwargs=dict(eps=1e-7),
                ),
            )
        with tempfile.TemporaryDirectory() as tmp:
            summary = sb3_zoo_dqn.run(sb3_zoo_dqn.Config(seed=seed, steps=steps), Path(tmp) / "run")
        return {
            "ablation": name,
            "seed": seed,
            **{k: summary.get(k) for k in ("solved", "steps_to_solve", "eval_mean", "wall_time_s")},
        }
    from reproduce.kerasrl.builders import build_agent
    from reproduce.kerasrl.experiment import Hooks
    from reproduce.kerasrl.run import train_and_evaluate

    def build(config, env, processor):
        cfg = config.dqn
        optimizer = None
        if name in ("torch-adam", "sb3-like"):
            optimizer = torch_convention_adam(cfg.learning_rate, 1e-8, cfg.global_clipnorm)
        agent = build_agent(
            cfg, int(env.action_space.n), tuple(env.observation_space.shape), optimizer=optimizer
        )
        return apply_ablation(agent, name)

    with tempfile.TemporaryDirectory() as tmp:
        _, run = train_and_evaluate(
            "dqn-vs-sb3-ablation", keras_config(seed, steps), Path(tmp) / "run", Hooks(build=build),
            verbose=False,
        )
        summary = run.summary
    return {
        "ablation": name,
        "seed": seed,
        **{k: summary[k] for k in ("solved", "steps_to_solve", "eval_mean", "wall_time_s")},
    }


def ablation_main(args) -> int:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import pandas as pd

    seeds = args.seed_list if args.seed_list is not None else range(args.seeds)
    jobs = [(name, seed, args.steps) for name in args.names for seed in seeds]
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for future in as_completed([pool.submit(ablation_job, job) for job in jobs]):
            rows.append(future.result())
            print(rows[-1], flush=True)
            pd.DataFrame(rows).to_csv(args.out, index=False)
    frame = pd.DataFrame(rows)
    table = frame.groupby("ablation").agg(
        solved=("solved", "sum"),
        runs=("solved", "size"),
        median_steps_to_solve=("steps_to_solve", "median"),
        median_wall_s=("wall_time_s", "median"),
    )
    print(table.to_markdown())
    return 0


def ablation_summary(ablations: Path, sb3: Path, steps: int = 50_000) -> str:
    """Each ablation's steps to solve against the baseline's and SB3's on the same seeds (markdown).

    Unsolved runs count as ``steps`` (never solved within the budget). The test is scipy's
    two-sided Mann-Whitney U of each arm against the baseline (and of SB3 against the baseline)."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    frame = pd.read_csv(ablations)[["ablation", "seed", "solved", "steps_to_solve"]]
    reference = pd.read_csv(sb3)
    reference = reference[reference.agent == "sb3-zoo-dqn"].assign(ablation="sb3 (bench/cartpole_dqn.py)")
    frame = pd.concat([frame, reference[["ablation", "seed", "solved", "steps_to_solve"]]])
    frame["steps"] = frame.steps_to_solve.astype(float).where(frame.solved.astype(bool), float(steps))
    base = frame[frame.ablation == "baseline"].set_index("seed").steps
    rows = []
    for name, group in frame.groupby("ablation", sort=False):
        x = group.set_index("seed").steps
        common = sorted(set(x.index) & set(base.index))
        p = (stats.mannwhitneyu(x[common], base[common], alternative="two-sided").pvalue
             if name != "baseline" and common else np.nan)
        rows.append({"arm": name, "what differs from the baseline": ABLATIONS.get(name, ABLATIONS["sb3"]),
                     "seeds": f"{min(x.index)}-{max(x.index)}",
                     "solved": f"{int(group.solved.sum())}/{len(group)}",
                     "median steps": f"{x.median():,.0f}",
                     "solved by 10k": int((x <= 10_000).sum()), "Mann-Whitney p vs baseline": f"{p:.2f}"})
    table = pd.DataFrame(rows).to_markdown(index=False)
    shown = [os.path.relpath(path) for path in (ablations, sb3)]
    return (f"$ python bench/dqn_vs_sb3.py summary --ablations {shown[0]} --sb3 {shown[1]}\n\n{table}\n\n"
            f"unsolved runs count as {steps:,} steps; per-seed rows in {shown[0]} and {shown[1]}")


# --------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("update", help="part 1: controlled update comparison")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--transitions", type=int, default=2000)
    p = sub.add_parser("schedule", help="part 2: schedule comparison over a real run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--trunc-steps", type=int, default=1600)
    p.add_argument("--trunc-limit", type=int, default=20)
    p = sub.add_parser("report", help="update + schedule + the existing 10-seed gap, as markdown")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--out", type=Path, default=HERE / "results" / "dqn_vs_sb3.md")
    p = sub.add_parser("ablation", help="train r4-zoo-exact with one difference removed (steps to solve)")
    p.add_argument("names", nargs="+", choices=list(ABLATIONS))
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--seed-list", type=int, nargs="*", default=None)
    p.add_argument("--steps", type=int, default=50_000)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", type=Path, default=HERE / "results" / "dqn_vs_sb3_ablation.csv")
    p = sub.add_parser("summary", help="the ablations' steps to solve against the baseline and SB3")
    p.add_argument("--ablations", type=Path, default=HERE / "results" / "dqn_vs_sb3_ablation.csv")
    p.add_argument("--sb3", type=Path, default=HERE / "results" / "cartpole_dqn.csv",
                   help="bench/cartpole_dqn.py's rows (its sb3-zoo-dqn runs are the reference)")
    args = parser.parse_args(argv)
    if args.command == "summary":
        print(ablation_summary(args.ablations, args.sb3))
        return 0
    if args.command == "update":
        print(update_part(args.seed, args.steps, args.transitions)[0])
    elif args.command == "schedule":
        print(schedule_part(args.seed, args.steps, args.trunc_steps, args.trunc_limit))
    elif args.command == "report":
        t0 = time.perf_counter()
        text = [
            f"$ python bench/dqn_vs_sb3.py report --seed {args.seed} --steps {args.steps} --out {args.out}",
            "",
            existing_part(),
            update_part(args.seed, 100, 2000)[0],
            schedule_part(args.seed, args.steps, 1600, 20),
        ]
        text.append(
            f"(generated in {time.perf_counter() - t0:.0f} s, load average {os.getloadavg()[0]:.2f} "
            f"on {os.cpu_count()} CPUs)\n"
        )
        # the hand-written findings (everything from FINDINGS on) survive a regeneration
        old = args.out.read_text() if args.out.exists() else ""
        kept = old[old.index(FINDINGS) :] if FINDINGS in old else ""
        head = "# keras-rl DQN (r4-zoo-exact) vs SB3 DQN, CartPole-v1\n\n"
        args.out.write_text(head + "\n".join(text) + ("\n" + kept if kept else ""))
        print(args.out.read_text())
    else:
        return ablation_main(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
