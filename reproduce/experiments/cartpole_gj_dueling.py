"""``cartpole-gj-dueling``: garethjns's dueling DQN on CartPole (reinforcement-learning-keras, 19c5fc2).

``cartpole-gj-dqn`` with the second-to-last layer split into ``Dense(1)`` (V) and ``Dense(2)`` (A),
merged as ``V + A - mean(A)``; 500 episodes (one of the published 4 repetitions per seed).
"""

from __future__ import annotations

from reproduce.contract import Experiment
from reproduce.experiments.cartpole_gj_dqn import DIFFERENCES, Config, make_report, make_run

NAME = "cartpole-gj-dueling"
# The published DuelingDQNAgent.png (4 reps x 500 episodes; its title says DQNAgent): mean line read by eye.
PUBLISHED = {50: 60.0, 100: 200.0, 150: 370.0, 250: 378.0, 350: 378.0, 450: 390.0}
WINDOW = 25

EXPERIMENT = Experiment(
    NAME,
    "garethjns's dueling DQN on CartPole (V + A - mean(A) head), 500 episodes, numba",
    Config,
    make_run(NAME, True),
    make_report(
        NAME,
        "dueling DQN (reinforcement-learning-keras)",
        "garethjns dueling DQN on CartPole",
        PUBLISHED,
        WINDOW,
        4,
        "agents/cart_pole/q_learning/dueling_deep_q_agent.py",
    ),
    differences=DIFFERENCES,
)
