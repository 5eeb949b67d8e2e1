"""The live console's static files (plain HTML, JS and CSS, served by the emulator at /_fcemu/console/)."""
from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
