"""keras-rl2 1.0.5's own unit tests, as shipped in its wheel, pass on our stack in one pytest process.

The wheel installs them as a top-level ``tests`` package in site-packages (``tests/rl/...``).
They run unchanged, all in one subprocess, with ``import reproduce`` first (the compat fixes)
and pytest's default options (an empty ini file, so this repository's settings stay out).
"""

import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.util import find_spec
from pathlib import Path

SHIPPED = Path(find_spec("rl").origin).parent.parent / "tests" / "rl"
RUN = "import reproduce, pytest, sys; sys.exit(pytest.main(sys.argv[1:]))"
# keras-rl2 1.0.5's wheel: 2 core, 4 memory, 6 util, 6 DQN/NAF, 2 DDPG, 2 CEM tests.
EXPECTED = {"test_core": 2, "test_memory": 4, "test_util": 6, "test_dqn": 6, "test_ddpg": 2, "test_cem": 2}


def test_shipped_unit_tests_all_pass_in_one_process(tmp_path):
    ini, report = tmp_path / "pytest.ini", tmp_path / "report.xml"
    ini.write_text("[pytest]\n")
    result = subprocess.run(
        [sys.executable, "-c", RUN, str(SHIPPED), "-c", str(ini), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", "-q", f"--junitxml={report}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    suite = ET.parse(report).getroot().find("testsuite")
    counts = {key: int(suite.get(key)) for key in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": sum(EXPECTED.values()), "failures": 0, "errors": 0, "skipped": 0}
    per_module = {}
    for case in suite.iter("testcase"):
        module = case.get("classname").rsplit(".", 1)[-1]
        per_module[module] = per_module.get(module, 0) + 1
    assert per_module == EXPECTED
    assert f"{sum(EXPECTED.values())} passed" in result.stdout
