"""The runtime contract's x-fc-* headers are the emulator's alone: an HTTP-trigger caller's copies never reach an
instance (they would pick the handler, the control path or the credentials), sync or async, on both routes."""
from __future__ import annotations

import http.client
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulator.invoker import HttpRequest
from tests.support.emulator_process import REPO, EmulatorProcess, free_port
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

# What a client could try to steer the instance with; each is a header the agent reads.
FORGED = {
    "x-fc-function-handler": "os.getcwd",
    "x-fc-function-name": "forged",
    "x-fc-function-initializer": "os.getcwd",
    "x-fc-control-path": "/initialize",
    "x-fc-access-key-id": "forged-key",
    "x-fc-security-token": "forged-token",
    "x-fc-retry-count": "7",
    "x-fc-qualifier": "forged",
    "x-fc-log-type": "None",
}
WEB_ROUTES = ("/http/web", "/2016-08-15/proxy/default.LATEST/web")
CUSTOM_ROUTES = ("/http/custom-server", "/2016-08-15/proxy/default.LATEST/custom-server")


@pytest.mark.parametrize("route", WEB_ROUTES)
def test_a_wsgi_function_runs_its_own_handler_whatever_the_client_sends(
    emulator: EmulatorProcess, http: requests.Session, route: str
) -> None:
    request_id = f"client-{uuid.uuid4().hex[:8]}"
    reply = http.get(f"{emulator.url}{route}/contract", headers={**FORGED, "x-fc-request-id": request_id})
    assert reply.status_code == 200, reply.text
    seen = reply.json()
    assert seen["handler"] == "index.handler"
    assert seen["functionName"] == "web"
    assert seen["accessKeyId"] == "" and seen["retryCount"] == 0
    # FC takes a valid x-fc-request-id as the invocation's id; it reaches the function once, as the emulator's.
    assert seen["requestId"] == request_id == reply.headers["x-fc-request-id"]
    headers = seen["fcHeaders"]
    assert headers["HTTP_X_FC_FUNCTION_HANDLER"] == "index.handler"
    assert headers["HTTP_X_FC_FUNCTION_NAME"] == "web"
    assert headers["HTTP_X_FC_CONTROL_PATH"] == "/http-invoke"
    assert headers["HTTP_X_FC_REQUEST_ID"] == request_id
    assert headers["HTTP_X_FC_QUALIFIER"] == "LATEST"
    for forged_only in ("HTTP_X_FC_ACCESS_KEY_ID", "HTTP_X_FC_SECURITY_TOKEN", "HTTP_X_FC_RETRY_COUNT",
                        "HTTP_X_FC_FUNCTION_INITIALIZER", "HTTP_X_FC_LOG_TYPE"):
        assert forged_only not in headers


@pytest.mark.parametrize("route", WEB_ROUTES)
def test_a_forged_control_path_does_not_reach_the_initializer_path(
    emulator: EmulatorProcess, http: requests.Session, route: str
) -> None:
    reply = http.post(f"{emulator.url}{route}/initialize", data=b"hi", headers={"x-fc-control-path": "/initialize"})
    # The WSGI application answered (201 for a POST), not the agent's initializer path (an empty 200).
    assert reply.status_code == 201, reply.text
    assert reply.json()["path"] == "/initialize" and reply.json()["body"] == "hi"


@pytest.mark.parametrize("route", CUSTOM_ROUTES)
def test_a_custom_runtime_server_sees_only_the_emulators_contract_headers(
    emulator: EmulatorProcess, http: requests.Session, route: str
) -> None:
    reply = http.post(f"{emulator.url}{route}/contract", data=b"x",
                      headers={**FORGED, "x-fc-request-id": "custom-forged-1"})
    assert reply.status_code == 200, reply.text
    lines = [(name.lower(), value) for name, value in reply.json()["fcHeaders"]]
    names = [name for name, _ in lines]
    assert len(names) == len(set(names)), f"a contract header came twice: {lines}"
    seen = dict(lines)
    assert seen["x-fc-control-path"] == "/http-invoke"
    assert seen["x-fc-function-name"] == "custom-server"
    assert seen["x-fc-function-handler"] == "not-used"
    assert seen["x-fc-request-id"] == "custom-forged-1"
    assert not {"x-fc-access-key-id", "x-fc-security-token", "x-fc-retry-count", "x-fc-log-type"} & seen.keys()
    plain = http.post(f"{emulator.url}{route}/where", data=b"ev", headers=FORGED)
    assert plain.json() == {"path": "/where", "controlPath": "/http-invoke", "function": "custom-server",
                            "event": "ev"}


def test_an_async_http_request_is_queued_and_replayed_without_the_clients_contract_headers(
    emulator: EmulatorProcess, http: requests.Session, redis_server: RedisServer
) -> None:
    task_id = f"contract_{uuid.uuid4().hex[:10]}"
    watcher = TaskWatcher(redis_server.url)
    try:
        reply = http.get(f"{emulator.url}/http/web/contract", headers={
            **FORGED, "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id, "X-Custom": "kept"})
        assert reply.status_code == 202, reply.text
        assert watcher.wait_for("web", task_id) == "Succeeded"
    finally:
        watcher.close()
    task = http.get(f"{emulator.url}/2023-03-30/functions/web/async-tasks/{task_id}").json()
    queued = json.loads(task["taskPayload"])
    assert ["x-custom", "kept"] in queued["headers"]
    assert not [name for name, _ in queued["headers"] if name.lower().startswith("x-fc-")]
    seen = json.loads(json.loads(task["returnPayload"])["body"])
    assert seen["handler"] == "index.handler" and seen["functionName"] == "web" and seen["accessKeyId"] == ""


# The secret the local agent is started with and called with, as the emulator does (emulator/pool/contract.py).
LOCAL_AGENT_TOKEN = "local-agent-test-secret"


@pytest.fixture()
def local_agent(tmp_path: Path) -> Iterator[int]:
    """The python runtime's agent as a local process serving tests/functions/web (no container needed to
    check how it reads a header sent twice)."""
    port = free_port()
    agent = subprocess.Popen(
        [sys.executable, str(REPO / "runtimes" / "python3" / "agent" / "bootstrap.py")],
        env={"FC_FUNC_CODE_PATH": str(REPO / "tests" / "functions" / "web"), "FC_SERVER_PORT": str(port),
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FCEMU_AGENT_TOKEN": LOCAL_AGENT_TOKEN},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert agent.stdout is not None
        assert "runtime inited" in agent.stdout.readline()  # printed once the port listens
        yield port
    finally:
        agent.terminate()
        agent.wait(10)


def test_the_agent_takes_the_last_copy_of_a_header_the_emulators(local_agent: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", local_agent, timeout=30)
    try:
        connection.putrequest("GET", "/contract", skip_accept_encoding=True)
        connection.putheader("x-fcemu-agent-token", LOCAL_AGENT_TOKEN)
        # The order the emulator sends: the request's own headers first, its contract headers last.
        for name, client_value, emulator_value in (
            ("x-fc-function-handler", "os.getcwd", "index.handler"),
            ("x-fc-control-path", "/initialize", "/http-invoke"),
            ("x-fc-request-id", "forged", "emulator-1"),
        ):
            connection.putheader(name, client_value)
            connection.putheader(name, emulator_value)
        connection.endheaders()
        reply = connection.getresponse()
        body = reply.read()
        assert reply.status == 200, body
        seen = json.loads(body)
        assert seen["handler"] == "index.handler" and seen["requestId"] == "emulator-1"
    finally:
        connection.close()


def test_the_invoker_drops_contract_headers_of_any_http_request_it_forwards() -> None:
    # An async request queued before this filter existed still carries the client's x-fc-* headers.
    queued = HttpRequest.from_payload(HttpRequest(
        "GET", "/", [("X-Fc-Function-Handler", "os.getcwd"), ("x-custom", "kept")], b"").to_payload())
    assert queued.headers_with([("x-fc-function-handler", "index.handler")]) == [
        ("x-custom", "kept"), ("x-fc-function-handler", "index.handler")]
