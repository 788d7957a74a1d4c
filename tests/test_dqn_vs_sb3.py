"""bench/dqn_vs_sb3.py: the weight copy and forced-batch update agree with SB3 once Adam's convention
agrees, and the no-extra-burst ablation removes the doubled burst keras-rl's fit makes at an episode end."""

import importlib
import sys
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


@pytest.fixture(scope="module")
def bench():
    return importlib.import_module("dqn_vs_sb3")


def test_same_update_up_to_adams_convention(bench):
    _, results = bench.update_part(seed=0, steps=3, n_transitions=300)
    as_built = results["keras vs SB3"]
    # same TD targets and (at step 1, same weights) the same loss and gradient norm
    assert as_built[1]["targets"] < 1e-5 and as_built[1]["loss"] < 1e-6 and as_built[1]["norm"] < 1e-5
    # Adam's epsilon convention moves the weights apart at once ...
    assert as_built[1]["weights"] > 1e-4
    # ... and switching either side to the other's convention leaves float32 noise only
    for label in ("keras vs SB3 with tf-convention Adam", "keras torch-convention Adam vs SB3"):
        assert results[label][3]["weights"] < 1e-5, label
        assert results[label][3]["q"] < 1e-5, label


def test_no_extra_burst_ablation_removes_the_doubled_burst(bench):
    # 8-step episodes end on env step 1024, a multiple of train_interval (256) past the warm-up
    stock = bench.run_keras_instrumented(0, 1100, max_episode_steps=8)
    fixed = bench.run_keras_instrumented(0, 1100, ablation="no-extra-burst", max_episode_steps=8)
    assert [(b[0], b[1], b[3]) for b in stock["bursts"]] == [(1024, 128, True), (1025, 128, False)]
    assert [(b[0], b[1], b[3]) for b in fixed["bursts"]] == [(1025, 128, False)]
