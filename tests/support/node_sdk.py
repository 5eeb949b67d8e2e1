"""FC 3.0's Node.js SDK (@alicloud/fc20230330) for the tests that drive the emulator from `node`: no copy of it ships
here (the nodejs runtime's builtins carry FC 2.0's @alicloud/fc2 only), so npm installs the pinned version once into
a git-ignored folder beside this file, as the bench does for BullMQ; when it cannot, the tests skip and say why."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

CACHE = Path(__file__).parent / ".node_modules-cache"
PACKAGE = "@alicloud/fc20230330"
VERSION = "4.7.6"


def _installed() -> str | None:
    manifest = CACHE / "node_modules" / PACKAGE / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


def prepare_fc3_sdk() -> str | None:
    """Installs the pinned SDK if it is not there yet; returns why it cannot run, or None."""
    if not (shutil.which("node") and shutil.which("npm")):
        return "node or npm is not on PATH"
    if _installed() == VERSION:
        return None
    CACHE.mkdir(exist_ok=True)
    try:
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(CACHE), f"{PACKAGE}@{VERSION}"],
            check=False, capture_output=True, text=True, timeout=300,
        )
    except subprocess.TimeoutExpired:
        return f"npm install {PACKAGE}@{VERSION} did not finish within 300 s"
    if result.returncode != 0:
        return f"npm install {PACKAGE}@{VERSION} failed: {result.stderr.strip().splitlines()[-1:]}"
    return None


def run_node(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs a script with the SDK on its module path."""
    return subprocess.run(["node", str(script), *args], check=False, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NODE_PATH": str(CACHE / "node_modules")})
