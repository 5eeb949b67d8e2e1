"""Functions that call fcemu's endpoints (FC's, MNS's) from inside their instance, as the tests set them up: a
function written to a folder with its manifest, a call that returns its JSON answer, and the log line that says
where the endpoints listen (the role such a function runs as is tests/support/credentials.py's)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3

ENDPOINT_LINE = re.compile(r"FC's endpoints for instances \(.*\) on (\S+), ports (\d+) \(HTTP\) and (\d+) \(HTTPS\)")


def write_function(root: Path, name: str, code: str, manifest: str, file: str = "index.py",
                   runtime: str = "python3.10") -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / file).write_text(code)
    (folder / "function.yaml").write_text(
        f"functionName: {name}\nruntime: {runtime}\nhandler: index.handler\nmemorySize: 128\ntimeout: 20\n{manifest}")


def call(emulator: EmulatorProcess, function: str, ask: dict[str, object]) -> dict[str, object]:
    reply = requests.post(v3(emulator, function), data=json.dumps(ask).encode(), timeout=60)
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    answer = reply.json()
    return json.loads(answer) if isinstance(answer, str) else answer
