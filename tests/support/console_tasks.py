"""What the console's tests run: a functions folder of only the two functions they use, and async tasks of ids of
their own."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import requests

from tests.conftest import TEST_FUNCTIONS
from tests.support.emulator_process import EmulatorProcess


def console_functions(target: Path) -> Path:
    """Only the functions these tests use: a quick start."""
    for name in ("fail", "echo"):
        shutil.copytree(TEST_FUNCTIONS / name, target / name)
    return target


def new_id() -> str:
    return f"c_{uuid.uuid4().hex[:12]}"


def invoke_async(console: EmulatorProcess, function: str, body: bytes, **headers: str) -> requests.Response:
    reply = requests.post(f"{console.url}/2023-03-30/functions/{function}/invocations", data=body,
                          headers={"x-fc-invocation-type": "Async", **headers}, timeout=30)
    assert reply.status_code == 202, reply.text
    return reply
