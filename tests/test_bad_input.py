"""Every bad input is one line and a non-zero exit, checked at the boundary before anything is written."""

from __future__ import annotations

import errno
import importlib.util
import subprocess
import sys

import pytest

from reproduce import cli


def main(capsys, *argv) -> tuple[int, list[str]]:
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("argv, fragment", [
    (("run", "nchain-tabular", "--seed", "4294967296"), "expected a seed up to 4294967295"),
    (("run", "nchain-tabular", "--seed", "4294967295", "--seeds", "2"), "goes past numpy's largest seed"),
    (("run", "cartpole-dqn", "--env", "Pendulum-v1"), "action space is Discrete (like CartPole-v1)"),
    (("run", "pendulum-ddpg", "--env", "CartPole-v1"), "action space is Box (like Pendulum-v1)"),
    (("run", "cartpole-dqn", "--env", "NChain-v0"), "observation space is Box (like CartPole-v1)"),
    (("run", "cartpole-dqn", "--steps", "10000000000000"), "--steps expects at most 1_000_000_000_000"),
    (("run", "cartpole-dqn", "--steps", "1e29"), "--steps expects a positive integer"),
    (("sweep", "cartpole-dqn", "--seed", "4294967295", "--seeds", "2"), "goes past numpy's largest seed"),
])
def test_bad_options_are_one_line(tmp_path, capsys, argv, fragment):
    out = tmp_path / "out"
    code, err = main(capsys, *argv, "--out", out)
    assert code == 2 and len(err) == 1 and fragment in err[0], err
    assert not out.exists()


def test_an_env_whose_extra_is_missing_names_it(tmp_path, capsys):
    if importlib.util.find_spec("Box2D") is not None:
        pytest.skip("Box2D is installed here")
    code, err = main(capsys, "run", "cartpole-dqn", "--env", "LunarLander-v3", "--out", tmp_path / "x")
    assert code == 2 and len(err) == 1 and 'gymnasium[box2d]' in err[0], err


@pytest.mark.parametrize("out, fragment", [
    ("", "expects a directory path, got an empty string"),
    ("{file}/run", "which is not a directory"),
    ("/proc/reproduce-test/run", "cannot create a directory in /proc"),
    ("{tmp}/" + "x" * 300, "names are limited to 255 bytes"),
])
def test_bad_output_directories_are_one_line(tmp_path, capsys, out, fragment):
    (tmp_path / "file").write_text("")
    out = out.format(file=tmp_path / "file", tmp=tmp_path)
    code, err = main(capsys, "run", "nchain-tabular", "--out", out)
    assert code == 2 and len(err) == 1 and fragment in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_all_with_a_file_as_results_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    code, err = main(capsys, "all", "--quick", "--results", tmp_path / "file")
    assert code == 2 and len(err) == 1 and "--results must be a directory" in err[0], err


def test_bad_input_loads_no_tensorflow_and_writes_nothing(tmp_path):
    code = ("import sys, reproduce.cli as c\n"
            f"out = {str(tmp_path / 'f')!r}\n"
            "open(out, 'w').close()\n"
            "for argv in (['run', 'cartpole-dqn', '--out', out + '/x'], "
            "['run', 'cartpole-dqn', '--out', ''], "
            "['run', 'cartpole-dqn', '--env', 'Pendulum-v1', '--out', out + 'y']):\n"
            "    assert c.main(argv) == 2\n"
            "print(sorted(m for m in ('tensorflow', 'rl') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


@pytest.mark.parametrize("number", [errno.ENOTDIR, errno.ENOENT, errno.ENAMETOOLONG])
def test_unmapped_os_errors_are_one_line(monkeypatch, capsys, number):
    import os

    def fail(argv):
        raise OSError(number, os.strerror(number), "/some/where")

    monkeypatch.setattr(cli, "_run", fail)
    code, err = main(capsys, "run", "nchain-tabular")
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith(f"error: /some/where: [Errno {number}] ")
