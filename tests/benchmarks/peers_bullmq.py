"""BullMQ beside fcemu, where `node` and `npm` are present: peers_bullmq.cjs measures its enqueue rate and its
delayed jobs' lateness on the bench's Redis (a database of its own). npm installs BullMQ and ioredis once into
a git-ignored folder next to this file; when it cannot, the bench goes on without this peer and says why."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from tests.benchmarks.peers import QueuePeer

HERE = Path(__file__).parent
CACHE = HERE / ".node_modules-cache"
PACKAGES = {"bullmq": "6.7.0", "ioredis": "5.11.1"}
DATABASE = 2


def _installed(name: str) -> str | None:
    manifest = CACHE / "node_modules" / name / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


def prepare() -> str | None:
    """Installs the pinned packages if they are not there yet; returns why BullMQ cannot run, or None."""
    if not (shutil.which("node") and shutil.which("npm")):
        return "node or npm is not on PATH"
    if all(_installed(name) == version for name, version in PACKAGES.items()):
        return None
    CACHE.mkdir(exist_ok=True)
    try:
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(CACHE),
             *(f"{name}@{version}" for name, version in PACKAGES.items())],
            check=False, capture_output=True, text=True, timeout=300,
        )
    except subprocess.TimeoutExpired:
        return "npm install did not finish within 300 s"
    if result.returncode != 0:
        return f"npm install failed: {result.stderr.strip().splitlines()[-1:]}"
    return None


def measure(redis_url: str, pending: int, count: int) -> QueuePeer:
    parsed = urlparse(redis_url)
    url = f"redis://{parsed.hostname}:{parsed.port or 6379}/{DATABASE}"
    result = subprocess.run(
        ["node", str(HERE / "peers_bullmq.cjs"), url, str(pending), str(count)],
        check=False, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NODE_PATH": str(CACHE / "node_modules")},
    )
    if result.returncode != 0:
        raise RuntimeError(f"BullMQ peer failed: {result.stderr[-1000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return QueuePeer("BullMQ", f"BullMQ {figures['version']} default Worker", figures["rate"],
                     [float(value) for value in figures["lateness"]])
