"""README.md and docs/: every relative link and every repository path they name exists, nothing points
outside the repository but public URLs, and sources are named by title, never as "seed 00N"."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
PATH = re.compile(r"`((?:reproduce|callbacks|tests|bench|results|docs)/[\w./-]*)`")


def test_every_relative_link_exists():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"https?://", target) or target.startswith("#"):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_every_named_repository_path_exists():
    missing = []
    for page in PAGES:
        for path in PATH.findall(page.read_text()):
            if any(c in path for c in "*<{") or path.startswith("results/runs") or "RESULTS" in path:
                continue  # patterns and run outputs, not files of the repository
            if not (ROOT / path.rstrip("/.")).exists():
                missing.append(f"{page.relative_to(ROOT)}: {path}")
    assert not missing, "named paths that do not exist:\n" + "\n".join(missing)


def test_pages_point_nowhere_outside_the_repository_and_name_sources_by_title():
    for page in PAGES:
        text = page.read_text()
        assert "../shared" not in text, page
        assert not re.search(r"\bseed 00\d\b", text), page


def test_the_fix_table_lists_every_fix_doctor_can_print():
    """One list of fixes: each name compat can put in ACTIVE_FIXES (what `reproduce doctor` prints) has a
    row in the docs' fix table, and the table names no fix compat does not have."""
    compat = (ROOT / "reproduce" / "compat.py").read_text()
    fast = (ROOT / "reproduce" / "fast_session.py").read_text()
    fixes = set(re.findall(r'ACTIVE_FIXES\.append\(f?"([a-z0-9-]+):', compat))
    fixes |= set(re.findall(r'return \(?f?"([a-z0-9-]+): ', fast))
    doc = (ROOT / "docs" / "keras-rl-scripts.md").read_text()
    table = set(re.findall(r"^\| `([a-z0-9-]+)` \|", doc, re.M))
    assert fixes and fixes == table, f"compat: {sorted(fixes - table)}; docs: {sorted(table - fixes)}"


def test_the_readme_script_is_the_tested_one():
    """README's keras-rl script is, character for character, the block tests/test_user_scripts.py runs."""
    block = re.compile(r"```python\n(.*?)```", re.S)
    readme = block.findall((ROOT / "README.md").read_text())
    doc = block.findall((ROOT / "docs" / "keras-rl-scripts.md").read_text())
    assert readme and doc and readme[0] == doc[0]
