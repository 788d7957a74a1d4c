"""DDPG and NAF (Pendulum-v1, 50-step episodes, tiny networks) through our callbacks: a run
SIGKILLed after its mid-run checkpoint and resumed equals a straight run, bit for bit.

The check is ``checkpoint_worker.check_sigkill_resume`` (as for the discrete agents in
test_callbacks_agents.py): actor, critic, both targets, both optimizers, the
Ornstein-Uhlenbeck process (its last value and annealing counter) and the replay memory for
DDPG; V, L, mu, the target V, the optimizer, the process and the memory for NAF.
"""

from __future__ import annotations

import checkpoint_worker  # registered by tests/conftest.py
import pytest


@pytest.mark.parametrize("name", ["ddpg", "naf"])
def test_sigkill_then_resume_equals_a_straight_run(name, tmp_path):
    checkpoint_worker.check_sigkill_resume(name, tmp_path)
