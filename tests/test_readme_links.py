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
