"""``nchain-sarsa``: keras-rl's ``SARSAAgent`` on NChain-v0 (one-hot), against Q^pi of its own policy and Q*.

SARSA with an eps-greedy policy learns the Q-values of that eps-greedy policy, not Q*: the exact
reference that fits it is Q^pi (:func:`reproduce.envs.q_pi`) of the eps-greedy policy over the
learned Q. The summary reports max |Q - Q^pi| and max |Q - Q*|, the greedy policy, its exact
expected return and the regret against the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Column, Report
from reproduce.experiments.nchain_dqn import against_optimum, processor, q_table
from reproduce.experiments.nchain_keras import q_heatmaps
from reproduce.kerasrl.config import RunConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import ENV_ID, POSITIVE, option


@dataclass(frozen=True)
class Config(RunConfig):
    """SARSA on NChain-v0 (1000-step episodes), eps-greedy at 0.1, gamma 0.95 (the discount of Q*)."""

    env: str = option("NChain-v0", "gymnasium env id (NChain-v0: one-hot input)", check=ENV_ID)
    steps: int = option(30_000, "training steps", check=POSITIVE)
    eval_episodes: int = option(10, "greedy 1000-step test episodes", check=POSITIVE)
    check_every: int = 3_000
    """steps between greedy checks (the learning curve)"""
    check_episodes: int = 5
    """greedy 1000-step episodes per check"""
    eps: float = 0.1
    """EpsGreedyQPolicy(eps): the policy SARSA follows and evaluates"""
    gamma: float = 0.95
    """SARSAAgent(gamma): the discount Q* and Q^pi are computed at"""


def build(config, env, processor):
    from reproduce.kerasrl.examples import sarsa_onehot

    return sarsa_onehot(config, env, processor)


def against_references(agent, run, config) -> dict:
    """After training: ``q_table.csv``, and the network's Q against Q* and Q^pi of its eps-greedy policy."""
    import numpy as np

    from reproduce.envs import eps_greedy_probs, q_pi

    q = q_table(agent, run)
    own = q_pi(eps_greedy_probs(q, config.eps), gamma=config.gamma)
    return {**against_optimum(q, config.gamma), "max_abs_q_pi_error": float(np.abs(q - own).max())}


EXPERIMENT = kerasrl_experiment(
    "nchain-sarsa", "keras-rl SARSAAgent on NChain (one-hot, eps-greedy 0.1) vs Q^pi of its policy and Q*",
    Config,
    Report("keras-rl SARSAAgent", table="optimum", figures=(q_heatmaps,),
           columns=(Column("max \\|Q - Q^pi\\| (its own policy)", "max_abs_q_pi_error"),)),
    hooks=Hooks(build=build, processor_for=processor, after_training=against_references),
    differences=("SARSA evaluates its own eps-greedy policy; the table reports max |Q - Q*| beside "
                 "max |Q - Q^pi| (the exact value of that policy), which is the fair reference",),
)
