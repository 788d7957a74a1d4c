"""Where garethjns/reinforcement-learning-keras is read: the repository and a file at a commit (imports
nothing heavy, for the experiment modules)."""

from __future__ import annotations

from reproduce.contract import Source

REPO = "https://github.com/garethjns/reinforcement-learning-keras"


def source(path: str, commit: str = "19c5fc2") -> Source:
    return Source(
        f"reinforcement-learning-keras, {path} (commit {commit})",
        "Gareth Jones",
        f"{REPO}/blob/{commit}/{path}",
    )
