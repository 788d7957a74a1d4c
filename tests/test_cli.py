import json

import pytest


def test_doctor_exits_zero(cli):
    result = cli("doctor")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "doctor: OK" in result.stdout
    assert "int64-counters" in result.stdout


def test_unknown_experiment_suggests_closest(cli):
    result = cli("run", "nchain-tabulr")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: unknown experiment 'nchain-tabulr'")


def test_usage_errors_are_one_line_exit_2(cli):
    result = cli("run", "nchain-keras", "--seed", "abc")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors == ["error: reproduce run nchain-keras: argument --seed: expected an integer seed >= 0, "
                      "got 'abc' (see reproduce run nchain-keras --help)"]


def test_list_shows_every_experiment(cli):
    result = cli("list")
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("nchain-tabular", "cartpole-tabular", "nchain-keras", "nchain-dqn", "cartpole-dqn",
                 "cartpole-dqn-tuned"):
        assert name in result.stdout


def quiet_cli(*args):
    """The CLI as a user runs it: no log-level variable set by the test."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "reproduce", *map(str, args)], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=env, timeout=300)


def test_help_list_and_usage_errors_import_neither_tensorflow_nor_pandas():
    import subprocess
    import sys

    code = ("import sys, reproduce.cli as c\n"
            "for argv in (['list'], ['run', 'nchain-dqn', '--help'], ['sweep', '--help'], "
            "['run', 'cartpole-dqn', '--steps', '0'], ['sweep', 'nchain-tabular', '--rounds', 'x']):\n"
            "    try:\n        c.main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('tensorflow', 'pandas', 'rl') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr[-2000:]


def test_experiments_that_need_no_tensorflow_never_import_it(tmp_path):
    import subprocess
    import sys

    code = ("import sys, reproduce.cli as c\n"
            f"out = {str(tmp_path)!r}\n"
            "for argv in (['nchain-tabular', '--rounds', '2', '--episodes', '5'], "
            "['cartpole-tabular', '--episodes', '20'], "
            "['cartpole-linear', '--episodes', '5', '--eval-episodes', '2']):\n"
            "    assert c.main(['run', *argv, '--out', out + '/' + argv[0]]) == 0\n"
            "print(sorted(m for m in ('tensorflow', 'rl', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_full_disk_is_one_line_naming_the_file_and_the_fix(tmp_path, monkeypatch, capsys):
    import errno
    import os

    import callbacks.monitor
    from reproduce import cli

    calls = []

    def fsync(fd):  # the disk fills up after the header and a few episode rows
        calls.append(fd)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(callbacks.monitor.os, "fsync", fsync)
    code = cli.main(["run", "cartpole-tabular", "--episodes", "20", "--out", str(tmp_path / "run")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: cannot write {tmp_path / 'run' / 'episodes.csv'}: [Errno 28] ")
    assert "free space" in lines[0] and "--resume RUN_DIR" in lines[0]


def test_no_tensorflow_startup_lines_reach_the_terminal(tmp_path):
    result = quiet_cli("doctor")
    assert result.returncode == 0, result.stderr[-2000:]
    noise = [ln for ln in result.stderr.splitlines() if "cuInit" in ln or "absl::InitializeLog" in ln
             or "oneDNN custom operations" in ln or "cudart_stub" in ln]
    assert noise == []


def test_option_errors_name_the_option_and_an_example(cli, tmp_path):
    result = cli("run", "nchain-tabular", "--rounds", "-3", "--out", tmp_path / "x")
    assert result.returncode == 2 and not (tmp_path / "x").exists()
    assert result.stderr.strip().splitlines() == ["error: --rounds expects a positive integer, got '-3'; "
                                                  "e.g. --rounds 100"]


@pytest.mark.parametrize("argv, fragment", [
    (["sweep", "nchain-tabular", "--seeds", "2", "--out", "{out}", "--", "--rounds", "0"],
     "--rounds expects a positive integer, got '0'"),
    (["sweep", "--seeds", "2", "nchain-tabular", "--out", "{out}", "--bogus", "3"],
     "unrecognized arguments: --bogus 3"),
    (["sweep", "nchain-tabulr", "--out", "{out}"], "unknown experiment 'nchain-tabulr'"),
    (["sweep", "cartpole-tabular", "--out", "{out}", "--rule", "textbook"], "unrecognized arguments: --rule"),
    (["sweep", "nchain-tabular", "--workers", "0", "--out", "{out}"],
     "--workers: expected a positive integer"),
])
def test_sweep_misuse_is_one_line_exit_2_and_writes_nothing(cli, tmp_path, argv, fragment):
    out = tmp_path / "sweep"
    result = cli(*[a.format(out=out) for a in argv])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], lines
    assert not out.exists()


def test_sweep_takes_options_before_or_after_name_and_passes_run_options(cli, tmp_path):
    out = tmp_path / "sweep"
    result = cli("sweep", "--workers", "2", "nchain-tabular", "--seeds", "2", "--out", out, "--",
                 "--rounds", "2", "--episodes", "3")
    assert result.returncode == 0, result.stderr[-2000:]
    for seed in (0, 1):
        config = json.loads((out / f"seed{seed}" / "config.json").read_text())
        assert (config["rounds"], config["episodes"], config["seed"]) == (2, 3, seed)
    assert (out / "sweep_summary.csv").exists()


def test_a_second_writer_of_a_run_directory_gets_a_one_line_error(tmp_path):
    from reproduce.errors import ConfigError
    from reproduce.runs import RunDir

    first = RunDir(tmp_path / "run", "nchain-tabular", {"seed": 0}, 0).start()
    with pytest.raises(ConfigError, match="being written by another process"):
        RunDir(tmp_path / "run", "nchain-tabular", {"seed": 0}, 0).start()
    first.finish()
    RunDir(tmp_path / "run", "nchain-tabular", {"seed": 0}, 0).start().finish()  # free again


def test_every_experiment_is_an_experiment_whose_options_round_trip():
    from reproduce import experiments, options
    from reproduce.contract import Experiment

    for name in experiments.names():
        experiment = experiments.get(name)
        assert isinstance(experiment, Experiment) and experiment.name == name
        config = experiment.config()
        assert options.validate(config) is config
        for opt in options.options(experiment.config):
            assert opt.convert(str(opt.default) if opt.type is not bool else opt.default) == opt.default


def test_tensorboard_flag_writes_the_five_scalar_tags(cli, tmp_path):
    import tensorflow as tf

    out = tmp_path / "run"
    result = cli("run", "cartpole-sarsa", "--steps", "300", "--eval-episodes", "2", "--tensorboard",
                 "--out", out)
    assert result.returncode == 0, result.stderr[-2000:]
    tags = set()
    for event_file in (out / "tensorboard").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(value.tag for value in event.summary.value)
    assert {"episode/reward", "episode/length"} <= tags
    assert {"train/loss", "train/mean_q"} <= tags  # SARSA's metrics; Boltzmann has no eps
    assert tags <= {"episode/reward", "episode/length", "train/loss", "train/mean_q", "train/eps"}


def test_sb3_reference_without_the_bench_extra_is_one_line(cli, tmp_path):
    import importlib.util

    if importlib.util.find_spec("stable_baselines3") is not None:
        pytest.skip("Stable-Baselines3 is installed here")
    result = cli("run", "sb3-zoo-dqn", "--out", tmp_path / "sb3")
    assert result.returncode == 2 and not (tmp_path / "sb3").exists()
    assert result.stderr.strip().splitlines() == [
        "error: sb3-zoo-dqn needs Stable-Baselines3, which is not installed; install it with: "
        "pip install torch==2.13.0 && pip install -e '.[bench]'"]


def test_evaluate_says_why_a_run_has_no_agent_and_a_closed_pipe_is_quiet(cli, tmp_path):
    """A tabular run has nothing for `evaluate` to rebuild: one line saying where its results are.
    `reproduce list | head -1` ends quietly with status 0."""
    import subprocess
    import sys

    done = cli("run", "nchain-tabular", "--rounds", "2", "--episodes", "3", "--out", tmp_path / "t")
    assert done.returncode == 0
    done = cli("evaluate", tmp_path / "t")
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith(
        "error: this run of 'nchain-tabular' has no checkpointed agent to evaluate")
    piped = subprocess.run(["bash", "-o", "pipefail", "-c", f"{sys.executable} -m reproduce list | head -1"],
                           capture_output=True, text=True)
    assert piped.returncode == 0 and "Traceback" not in piped.stderr and piped.stdout.startswith("nchain")
