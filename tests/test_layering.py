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
            for alias in node.names:  # `from reproduce import cli` imports the module reproduce.cli
                if (ROOT / node.module.replace(".", "/") / f"{alias.name}.py").exists():
                    names.add(f"{node.module}.{alias.name}")
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
    bad.write_text("from reproduce.runs import RunDir\nimport reproduce.compat\nfrom reproduce import cli\n")
    assert imported_modules(bad) == {"reproduce.runs", "reproduce.compat", "reproduce", "reproduce.cli"}


# The package's layers, lowest first: a module may import its own layer and those below, never above.
TOP = {"reproduce.cli", "reproduce.sweep", "reproduce.suite", "reproduce.doctor",
       "reproduce.evaluate_command", "reproduce.__main__", "reproduce.worker"}
LAYERS = ("base", "experiments", "report", "top")


def layer(module: str) -> str:
    if module in TOP:
        return "top"
    if module == "reproduce.report" or module.startswith("reproduce.report."):
        return "report"
    if module == "reproduce.experiments" or module.startswith("reproduce.experiments."):
        return "experiments"
    return "base"  # the contract, runs, options, stats, envs, originals, tabular, kerasrl, compat, ...


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def upward_imports(paths) -> list[str]:
    found = []
    for path in paths:
        own = LAYERS.index(layer(module_name(path)))
        for name in imported_modules(path):
            if name.split(".")[0] == "reproduce" and LAYERS.index(layer(name)) > own:
                found.append(f"{path.relative_to(ROOT)} ({layer(module_name(path))}) imports {name}")
    return sorted(found)


def test_no_layer_imports_a_layer_above_it():
    """The contract and everything under experiments, then the experiments, then the report, then the CLI."""
    offenders = upward_imports((ROOT / "reproduce").rglob("*.py"))
    assert not offenders, "upward imports:\n" + "\n".join(offenders)


def test_the_layer_rule_sees_an_upward_import(tmp_path):  # the check above can fail
    package = tmp_path / "reproduce" / "experiments"
    package.mkdir(parents=True)
    bad = package / "bad.py"
    bad.write_text("def f():\n    from reproduce.report import build\n")
    globals()["ROOT"], saved = tmp_path, ROOT
    try:
        expected = ["reproduce/experiments/bad.py (experiments) imports reproduce.report"]
        assert upward_imports([bad]) == expected
    finally:
        globals()["ROOT"] = saved


def test_report_names_no_experiment():
    """The report assembles what experiments declare: no experiment name appears in its code."""
    from reproduce import experiments

    text = "\n".join(p.read_text() for p in (ROOT / "reproduce" / "report").glob("*.py"))
    named = [name for name in experiments.names() if f'"{name}' in text or f"'{name}" in text]
    assert not named, f"reproduce/report/ names experiments: {named}"
