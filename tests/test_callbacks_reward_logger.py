"""RewardLogger: Monitor-format rows, resume truncation (no duplicates, torn rows dropped), plain Keras."""

from __future__ import annotations

import numpy as np
import pytest

from callbacks import MonitorWriter, RewardLogger, load_rewards
from callbacks.reward_logger import COLUMNS, truncate_log


def write_log(path, episodes, torn=False):
    with MonitorWriter(path, extra_columns=COLUMNS, metadata={"env_id": "NChain-v0"}) as writer:
        for e in range(episodes):
            writer.write(float(e), 40, episode=e, total_steps=40 * (e + 1), loss=0.5, mean_q=1.0, eps=0.1)
    if torn:
        with open(path, "a") as handle:
            handle.write("7.0,40,0.1,")  # killed in the middle of a row


@pytest.mark.parametrize("torn", [False, True])
def test_truncate_keeps_episodes_before_the_checkpoint(tmp_path, torn):
    path = tmp_path / "episodes.csv"
    write_log(path, 6, torn=torn)
    assert truncate_log(path, keep_before_episode=4) == 4
    frame = load_rewards(path)
    assert frame["episode"].tolist() == [0, 1, 2, 3]
    assert frame.attrs["header"]["env_id"] == "NChain-v0"
    text = path.read_text()
    assert text.count("#{") == 1 and text.count("r,l,t,episode") == 1 and text.endswith("\n")


def test_truncate_refuses_a_file_that_is_not_a_log(tmp_path):
    path = tmp_path / "episodes.csv"
    path.write_text("r,l,t\n1,2,3\n")
    with pytest.raises(ValueError, match="first line should be"):
        truncate_log(path, 0)


def test_plain_keras_fit_logs_one_row_per_epoch(tmp_path):
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 3), dtype=np.float32), np.zeros((8, 1), dtype=np.float32)
    model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[RewardLogger(tmp_path / "fit.csv")])
    frame = load_rewards(tmp_path / "fit.csv")
    assert frame["episode"].tolist() == [0, 1, 2] and frame["l"].tolist() == [2, 2, 2]
    assert frame["loss"].notna().all() and frame["r"].isna().all()
