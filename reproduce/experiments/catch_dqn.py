"""``catch-dqn``: keras-rl's ``DQNAgent`` on ``Catch-v0`` with Qlearning4k's settings, through the adapter.

The README's network (two Dense(100, relu)), SGD at 0.2, memory 1000, batch 50, gamma 0.9, epsilon
1.0 -> 0.1 over the first half of 9,000 steps (1000 games of 9 steps), no target network
(``target_model_update=1`` copies the online one every step). Compared with the same references as
``catch-qlearning4k``: the exact greedy win rate and max |Q - Q*| over every reachable state.
"""

from __future__ import annotations

from dataclasses import dataclass

from reproduce.contract import Report
from reproduce.experiments.catch_qlearning4k import CATCH_COLUMNS, CATCH_NOTES
from reproduce.kerasrl.config import DQNConfig, DQNRunConfig, PolicyConfig
from reproduce.kerasrl.experiment import Hooks, kerasrl_experiment
from reproduce.options import ENV_ID, POSITIVE, nested, option

QLEARNING4K_DQN = DQNConfig(
    hidden=(100, 100), activation="relu", memory_limit=1000, window_length=1, batch_size=50, gamma=0.9,
    policy=PolicyConfig("linear-annealed-eps", value_max=1.0, value_min=0.1, nb_steps=4_500),
    test_policy=PolicyConfig("greedy"), nb_steps_warmup=50, target_model_update=1, optimizer="sgd",
    learning_rate=0.2, train_interval=1,
)


@dataclass(frozen=True)
class Config(DQNRunConfig):
    """9,000 steps (Qlearning4k's 1000 games), then 100 greedy games."""

    env: str = option("Catch-v0", "gymnasium env id", check=ENV_ID)
    steps: int = option(9_000, "training steps (1000 games of 9 steps)", check=POSITIVE)
    check_every: int = 900
    """steps between greedy checks (the learning curve)"""
    dqn: DQNConfig = nested(lambda: QLEARNING4K_DQN)


def against_optimum(agent, run, config) -> dict:
    """After training: the exact greedy win rate over all starts and max |Q - Q*|."""
    import numpy as np

    from reproduce.envs import catch_observations, catch_states, greedy_win_rate, solve_catch

    solution = solve_catch()
    observations = catch_observations(catch_states())
    q = agent.compute_batch_q_values([[np.asarray(o, np.float32)] for o in observations])
    return {"exact_win_rate": float(greedy_win_rate(q)), "optimal_win_rate": float(solution.win_rate),
            "max_abs_q_error": float(solution.max_abs_error(q))}


EXPERIMENT = kerasrl_experiment(
    "catch-dqn", "keras-rl's DQNAgent on Catch-v0 with Qlearning4k's settings (SGD 0.2, memory 1000)", Config,
    Report("keras-rl DQNAgent, Qlearning4k settings", table="optimum", columns=CATCH_COLUMNS,
           notes=CATCH_NOTES), hooks=Hooks(after_training=against_optimum),
    differences=("keras-rl samples its replay without replacement and trains from step 50 with its own "
                 "target computation (a target network copied every step), not one predict over [S; S']",),
)
