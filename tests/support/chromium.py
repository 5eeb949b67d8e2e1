"""Debian's Chromium for the browser tests, driven by Playwright's `executable_path` (no browser can be
downloaded here): where it is, the marks a browser test module carries, and a headless launch."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")

BROWSER_MARKS = [
    pytest.mark.docker,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install "
                                                     "chromium); no browser can be downloaded here"),
]


@contextmanager
def chromium(*args: str) -> Iterator[Any]:
    """A headless Chromium (a Playwright Browser), closed on leaving; `args` are more command-line switches."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", *args])
        try:
            yield browser
        finally:
            browser.close()
