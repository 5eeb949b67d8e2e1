"""The java image's agent driven directly, as the emulator drives it, for what an API test cannot see: the
instance's secret (refused without it, gone from the environment and from /tmp before the function's code loads)
and the preStop hook's framing in the instance's log."""
from __future__ import annotations

import socket
from collections.abc import Iterator

import docker
import pytest

from tests.support.container_output import output_until
from tests.support.java_agent import SECRET, JavaAgent, code_folder, java_agent
from tests.support.java_functions import JavaFunctions


@pytest.fixture(scope="module")
def agent(docker_client: docker.DockerClient, java_functions: JavaFunctions,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[JavaAgent]:
    code = code_folder(tmp_path_factory.mktemp("java-agent-code"), java_functions.fat_jars["8"])
    with java_agent(docker_client, code) as started:
        yield started


HANDLER = {"x-fc-function-handler": "example.Events::handleRequest"}


def test_a_request_without_the_secret_is_refused_and_runs_nothing(agent: JavaAgent) -> None:
    for secret in (None, "not-it", SECRET + "x"):
        status, _, body = agent.call("POST", "/invoke", {**HANDLER, "x-fc-request-id": "intruder"}, b"x", secret)
        assert status == 403 and b"only the emulator" in body
    assert "intruder" not in agent.container.logs().decode()
    status, _, _ = agent.call("POST", "/invoke", {**HANDLER, "x-fc-request-id": "owner"}, b"x")
    assert status == 200


def test_the_secret_is_neither_in_the_jvm_environment_nor_left_in_tmp(agent: JavaAgent) -> None:
    status, _, body = agent.call("POST", "/invoke", {**HANDLER, "x-fc-request-id": "env-1"}, b"x")
    assert status == 200 and b'"tokenInEnvironment":false' in body
    environment = agent.container.exec_run(["sh", "-c", "tr '\\0' '\\n' < /proc/1/environ"]).output.decode()
    assert "FCEMU_AGENT_TOKEN" not in environment and SECRET not in environment
    assert agent.container.exec_run(["ls", "-A", "/tmp"]).output.decode().split() == []


def test_pre_stop_runs_the_named_hook_framed_in_the_log(agent: JavaAgent) -> None:
    status, headers, _ = agent.call("GET", "/pre-stop", {
        "x-fc-request-id": "stop-1", "x-fc-function-name": "events",
        "x-fc-instance-lifecycle-pre-stop-handler": "example.Events::preStop"})
    assert status == 200 and "x-fc-status" not in headers
    lines = output_until(agent.container, "FC PreStop End RequestId: stop-1").splitlines()
    start = lines.index("FC PreStop Start RequestId: stop-1")
    assert lines[start + 1:start + 3] == ["preStop ran for events", "FC PreStop End RequestId: stop-1"]


def test_pre_stop_without_a_hook_and_pre_freeze_answer_empty(agent: JavaAgent) -> None:
    for path in ("/pre-stop", "/pre-freeze"):
        status, headers, body = agent.call("GET", path, {"x-fc-request-id": "no-hook"})
        assert (status, body) == (200, b"") and "x-fc-status" not in headers
    assert "no-hook" not in agent.container.logs().decode()


def test_initialize_without_an_initializer_answers_empty_and_frames_nothing(agent: JavaAgent) -> None:
    status, headers, body = agent.call("POST", "/initialize", {"x-fc-request-id": "init-none"})
    assert (status, body) == (200, b"") and "x-fc-status" not in headers
    # Lines come out in order: once a later invocation's End line is in the log, an Initialize line would be too.
    assert agent.call("POST", "/invoke", {**HANDLER, "x-fc-request-id": "marker-after"}, b"x")[0] == 200
    assert "init-none" not in output_until(agent.container, "FC Invoke End RequestId: marker-after")


def test_a_failing_hook_is_fc_s_error(agent: JavaAgent) -> None:
    status, headers, body = agent.call("POST", "/initialize", {
        "x-fc-request-id": "init-1", "x-fc-function-initializer": "example.Events::nope"})
    assert status == 200 and headers["x-fc-status"] == "404"
    assert b"java.lang.NoSuchMethodException" in body


def raw_exchange(agent: JavaAgent, data: bytes, until: bytes) -> bytes:
    """Sends bytes as they are on one connection and reads until `until` has come (or the agent closes)."""
    with socket.create_connection(("127.0.0.1", agent.port), timeout=30) as connection:
        connection.sendall(data)
        received = b""
        while until not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_the_agents_http_keeps_connections_alive_and_refuses_what_it_cannot_parse(agent: JavaAgent) -> None:
    body = b"x"
    request = (b"POST /invoke HTTP/1.1\r\nHost: agent\r\nx-fc-function-handler: example.Events::handleRequest\r\n"
               b"x-fcemu-agent-token: " + SECRET.encode() + b"\r\nx-fc-request-id: %s\r\nContent-Length: 1\r\n\r\n"
               + body)
    # Two requests written at once on one connection: two answers, in order.
    answers = raw_exchange(agent, request % b"pipelined-1" + request % b"pipelined-2", b'"requestId":"pipelined-2"')
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert answers.index(b"pipelined-1") < answers.index(b"pipelined-2")
    # A client that waits for 100 Continue gets it before the answer.
    waiting = request.replace(b"Content-Length: 1\r\n", b"Expect: 100-continue\r\nContent-Length: 1\r\n")
    continued = raw_exchange(agent, waiting % b"continued", b'"requestId":"continued"')
    assert continued.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    # A head it cannot read, and a chunked body (the control plane always sends a length): 400, closed, nothing run.
    for bad in (b"NONSENSE\r\n\r\n", request.replace(b"Content-Length: 1", b"Transfer-Encoding: chunked") % b"chunked"):
        refused = raw_exchange(agent, bad, b"\r\n\r\n")
        assert refused.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"Connection: close" in refused
    assert "chunked" not in agent.container.logs().decode()
