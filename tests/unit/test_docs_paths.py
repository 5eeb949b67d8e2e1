"""Every path of this repository that the README and the docs name in backticks exists: a moved or renamed module
or test otherwise leaves the manual pointing at nothing, which `mkdocs build --strict` cannot see (it checks
links, not code spans). Read from the files; only `git check-ignore` is asked about a path the build makes."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
# A code span that starts at one of the repository's own top-level folders (not a path inside an instance or
# another project, such as /code/index.js, nor a user's functions/<name>).
REPO_PATH = re.compile(r"`((?:emulator|tests|runtimes|scripts)/[\w./-]*\w)`")


def _generated(path: str) -> bool:
    """A path the build makes (FC's built-in modules, caches): git ignores it, and a fresh clone has none yet."""
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False).returncode == 0


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_repository_paths_a_page_names_exist(page: Path) -> None:
    named = set(REPO_PATH.findall(page.read_text()))
    assert sorted(path for path in named if not (REPO / path).exists() and not _generated(path)) == []
