"""Functions whose server is the user's own: a custom runtime command and a custom container image."""
from __future__ import annotations

import base64

import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3


def test_custom_runtime_server_gets_the_event_and_fc_headers(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    reply = http.post(v3(emulator, "custom-server"), data=b"ping")
    assert reply.status_code == 200
    assert reply.json() == {"path": "/invoke", "controlPath": "/invoke", "function": "custom-server", "event": "ping"}


def test_custom_runtime_404_is_a_function_error(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "custom-server"), data=b"fail")
    assert reply.status_code == 200
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert reply.json() == {"errorMessage": "asked to fail"}


def test_custom_container_image_runs(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "custom-image"), data=b"")
    assert reply.content == b"from a custom container"


def test_custom_runtime_log_tail_is_cut_from_its_stdout(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "custom-server"), data=b"ping", headers={"x-fc-log-type": "Tail"})
    request_id = reply.headers["x-fc-request-id"]
    log = base64.b64decode(reply.headers["x-fc-log-result"]).decode()
    assert log.startswith(f"FC Invoke Start RequestId: {request_id}")
