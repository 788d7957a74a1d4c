def test_doctor_exits_zero(cli):
    result = cli("doctor")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "doctor: OK" in result.stdout
    assert "int64-counters" in result.stdout


def test_unknown_experiment_suggests_closest(cli):
    result = cli("run", "nchain-tabulr")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: unknown experiment 'nchain-tabulr'")
