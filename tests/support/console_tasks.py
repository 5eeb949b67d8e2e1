"""What the console's tests run: a functions folder of only the two functions they use, and async tasks of ids of
their own."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import requests
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi import models as openapi_models

from tests.conftest import TEST_FUNCTIONS
from tests.support.emulator_process import EmulatorProcess


def console_functions(target: Path) -> Path:
    """Only the functions these tests use: a quick start."""
    for name in ("fail", "echo"):
        shutil.copytree(TEST_FUNCTIONS / name, target / name)
    return target


def fc3_client_of(console: EmulatorProcess) -> FC3Client:
    """FC 3.0's SDK client of the console's emulator."""
    return FC3Client(openapi_models.Config(access_key_id="test-ak", access_key_secret="test-sk",
                                           endpoint=f"127.0.0.1:{console.port}", protocol="http"))


def new_id() -> str:
    return f"c_{uuid.uuid4().hex[:12]}"


def invoke_async(console: EmulatorProcess, function: str, body: bytes, **headers: str) -> requests.Response:
    reply = requests.post(f"{console.url}/2023-03-30/functions/{function}/invocations", data=body,
                          headers={"x-fc-invocation-type": "Async", **headers}, timeout=30)
    assert reply.status_code == 202, reply.text
    return reply
