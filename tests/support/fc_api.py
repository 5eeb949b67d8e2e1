"""FC's API as the tests call it: invocation URLs of both versions, FC's error shapes, code zips."""
from __future__ import annotations

import io
import zipfile

import requests

from tests.support.emulator_process import EmulatorProcess


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def code_saying(word: str) -> bytes:
    return zipped({"main.py": f"def handler(event, context):\n    return '{word} ' + event.decode()\n"})


def assert_v3_error(reply: requests.Response, status: int, code: str) -> dict[str, str]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["Code"] == code
    assert body["RequestId"] == reply.headers["x-fc-request-id"]
    assert body["Message"]
    return body


def assert_v2_error(reply: requests.Response, status: int, code: str) -> dict[str, str]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["ErrorCode"] == code
    assert body["ErrorMessage"]
    assert reply.headers["x-fc-request-id"]
    return body


def v3(emulator: EmulatorProcess, function: str) -> str:
    return f"{emulator.url}/2023-03-30/functions/{function}/invocations"


def v2(emulator: EmulatorProcess, function: str, service: str = "default") -> str:
    return f"{emulator.url}/2016-08-15/services/{service}/functions/{function}/invocations"
