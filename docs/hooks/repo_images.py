"""MkDocs hook: images the pages show from the repository (the console's screenshot) without a copy in docs/.

A page links such an image by its path from docs/ (`../emulator/...`), which GitHub shows as it is; the build adds
the file to the site under `repo/` and points the page's link there, since MkDocs takes only docs/'s files.
"""
from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
# `](../path)` of an image file outside docs/.
OUTSIDE_IMAGE = re.compile(r"\]\(\.\./((?:[\w.-]+/)*[\w.-]+\.(?:png|jpg|svg))\)")


def _outside_images(docs_dir: Path) -> set[str]:
    found: set[str] = set()
    for page in docs_dir.glob("*.md"):
        found.update(OUTSIDE_IMAGE.findall(page.read_text()))
    return found


def on_files(files: Files, config) -> Files:
    for path in sorted(_outside_images(Path(config["docs_dir"]))):
        files.append(File.generated(config, f"repo/{path}", abs_src_path=str(ROOT / path)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    return OUTSIDE_IMAGE.sub(r"](repo/\1)", markdown)
