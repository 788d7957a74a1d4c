"""Dependencies run one way: ``reproduce`` uses ``callbacks``; ``callbacks`` uses only the compat layer."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_callbacks_import_nothing_of_reproduce_but_compat():
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "callbacks").glob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] == "reproduce" and name != "reproduce.compat"
    }
    assert not offenders, f"callbacks may import only reproduce.compat of reproduce: {sorted(offenders)}"


def test_the_rule_sees_a_violation(tmp_path):  # the check above can fail
    bad = tmp_path / "bad.py"
    bad.write_text("from reproduce.runs import RunDir\nimport reproduce.compat\n")
    assert imported_modules(bad) == {"reproduce.runs", "reproduce.compat"}
