"""The go1 runtime's agent driven directly, as only the emulator may drive it, in real containers of
fcemu/runtime-go1 running a binary built in this run: its secret (checked on the request's head, the body never
read), probes, the binary's environment, answers without a body (HEAD, 204, 304), and an Accept error it outlives."""
from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from docker.models.containers import Container
from docker.types import Ulimit

from emulator.settings import Settings
from tests.support.container_output import output_until

TOKEN = "go-agent-secret"


@contextmanager
def go_agent(docker_client: docker.DockerClient, binary: Path, code: Path, kind: str,
             **options: Any) -> Iterator[tuple[Container, int]]:
    """A go1 instance as fcemu starts one (read-only, unprivileged, the code mounted), its handler `kind` of
    go-signatures; yields the container and its agent's port on the host."""
    code.chmod(0o755)
    shutil.copy(binary, code / "main")
    (code / "main").chmod(0o644)  # as fcemu unpacks code: the agent runs it all the same
    container = docker_client.containers.run(
        Settings().go_runtime_image, detach=True, ports={"9000/tcp": ("127.0.0.1", None)},
        volumes={str(code): {"bind": "/code", "mode": "ro"}}, read_only=True,
        tmpfs={"/tmp": "rw,nosuid,nodev,size=16m"}, user="65534:65534", labels={"fcemu.test": "go-agent"},
        environment={"FCEMU_AGENT_TOKEN": TOKEN, "FC_FUNCTION_HANDLER": "main", "HANDLER_KIND": kind}, **options,
    )
    try:
        output_until(container, "FunctionCompute go1 runtime inited.")
        container.reload()
        yield container, int(container.attrs["NetworkSettings"]["Ports"]["9000/tcp"][0]["HostPort"])
    finally:
        container.remove(force=True)


@pytest.fixture(scope="module")
def agent_port(docker_client: docker.DockerClient, go_binaries: dict[str, Path],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with go_agent(docker_client, go_binaries["go-signatures"], tmp_path_factory.mktemp("go-env"), "env") as (_, port):
        yield port


def test_a_request_without_the_instance_s_secret_is_refused(agent_port: int) -> None:
    for headers in ({}, {"x-fcemu-agent-token": "guess"}):
        reply = requests.post(f"http://127.0.0.1:{agent_port}/invoke", data=b"{}", headers=headers, timeout=10)
        assert reply.status_code == 403 and "x-fc-status" not in reply.headers


def test_a_request_without_the_secret_is_refused_on_its_head_and_its_body_never_asked_for(agent_port: int) -> None:
    # 100 Continue is what would ask for the body; a length over the agent's limit must not matter either.
    for length in (1 << 20, 1 << 40):
        with socket.create_connection(("127.0.0.1", agent_port), timeout=10) as connection:
            connection.sendall(f"POST /invoke HTTP/1.1\r\nHost: agent\r\nContent-Length: {length}\r\n"
                               "Expect: 100-continue\r\n\r\n".encode())
            answer = b""
            while chunk := connection.recv(65536):  # the agent closes the connection after its answer
                answer += chunk
        head = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
        assert head[0] == "HTTP/1.1 403 Forbidden", answer
        assert "Connection: close" in head[1:]


def test_probes_pre_freeze_and_a_pre_stop_without_a_hook_answer_200_empty(agent_port: int) -> None:
    headers = {"x-fcemu-agent-token": TOKEN}
    for method, path in (("GET", "/"), ("GET", "/pre-freeze"), ("GET", "/pre-stop"), ("POST", "/initialize")):
        reply = requests.request(method, f"http://127.0.0.1:{agent_port}{path}", headers=headers, timeout=10)
        assert (reply.status_code, reply.content) == (200, b""), path


def test_the_binary_never_sees_the_secret_and_the_last_header_line_wins(agent_port: int) -> None:
    connection = HTTPConnection("127.0.0.1", agent_port, timeout=10)
    try:
        connection.putrequest("POST", "/invoke")
        for name, value in (("x-fcemu-agent-token", TOKEN), ("x-fc-function-name", "first"),
                            ("x-fc-function-name", "last"), ("Content-Length", "0")):
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        status, body = answer.status, json.loads(answer.read())
    finally:
        connection.close()
    assert status == 200
    assert body["token"] == "" and body["handler"] == "main" and body["name"] == "last"
    assert body["api"].startswith("127.0.0.1:")


def read_answers(stream: bytes, methods: list[str]) -> list[tuple[str, str | None, bytes]]:
    """A connection's answers, one per request method, as HTTP/1.1 delimits them (no body for HEAD, 1xx, 204, 304):
    each one's status line, Content-Length and body. Bytes left over are an answer's body sent where it has none."""
    answers = []
    for method in methods:
        head, _, stream = stream.partition(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines)
        status = int(status_line.split()[1])
        size = 0 if method == "HEAD" or status < 200 or status in (204, 304) else int(headers["content-length"])
        answers.append((status_line, headers.get("content-length"), stream[:size]))
        stream = stream[size:]
    assert stream == b"", f"bytes after the last answer: {stream!r}"
    return answers


def test_answers_to_head_and_with_204_or_304_carry_no_body_and_the_connection_serves_on(
    docker_client: docker.DockerClient, go_binaries: dict[str, Path], tmp_path: Path
) -> None:
    requests_sent = [("HEAD", 200), ("GET", 204), ("GET", 304), ("GET", 200)]
    # One keep-alive connection, the requests pipelined, the last one closing it: the answers' bytes as sent.
    with go_agent(docker_client, go_binaries["go-signatures"], tmp_path, "httpstatus") as (_, port), \
            socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        for index, (method, status) in enumerate(requests_sent):
            close = "Connection: close\r\n" if index == len(requests_sent) - 1 else ""
            connection.sendall(f"{method} /x?status={status} HTTP/1.1\r\nHost: agent\r\nContent-Length: 0\r\n"
                               f"x-fcemu-agent-token: {TOKEN}\r\nx-fc-control-path: /http-invoke\r\n{close}\r\n"
                               .encode())
        stream = b""
        while chunk := connection.recv(65536):
            stream += chunk
    assert read_answers(stream, [method for method, _ in requests_sent]) == [
        ("HTTP/1.1 200 OK", "4", b""), ("HTTP/1.1 204 No Content", None, b""),
        ("HTTP/1.1 304 Not Modified", None, b""), ("HTTP/1.1 200 OK", "4", b"body")]


def test_an_accept_error_is_a_pause_not_the_agent_s_end(
    docker_client: docker.DockerClient, go_binaries: dict[str, Path], tmp_path: Path
) -> None:
    # 32 descriptors: connections held open run the agent out of them, and Accept fails with EMFILE.
    limit = Ulimit(name="nofile", soft=32, hard=32)
    with go_agent(docker_client, go_binaries["go-signatures"], tmp_path, "env", ulimits=[limit]) as (container, port):
        with ExitStack() as held:
            for _ in range(48):
                held.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            output_until(container, "too many open files")
        # The held connections closed: the agent takes connections again.
        reply = requests.get(f"http://127.0.0.1:{port}/", headers={"x-fcemu-agent-token": TOKEN}, timeout=30)
        assert reply.status_code == 200
        container.reload()
        assert container.status == "running"
