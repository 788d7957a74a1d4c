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
