"""The java image's agent under what an instance's limits make fatal: a flood of connections without the secret (the
pids limit caps its threads), an invocation printing far more than its memory, and the image build's class-data
training asked for at run time (it accepts a public token)."""
from __future__ import annotations

import base64
import socket
from pathlib import Path

import docker
import pytest

from tests.support.java_agent import code_folder, java_agent
from tests.support.java_functions import JavaFunctions

HANDLER = {"x-fc-function-handler": "example.Events::handleRequest"}
# More connections than the agent takes (200) and than the pids limit (256) lets a JVM have threads.
FLOOD = 300
FLOOD_MB = 80  # a ByteArrayOutputStream of it outgrows a 128 MB instance's heap (60%)
TAIL_BYTES = 4096


@pytest.fixture(scope="module")
def code(java_functions: JavaFunctions, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return code_folder(tmp_path_factory.mktemp("java-limits-code"), java_functions.fat_jars["8"])


def closed_by_peer(connection: socket.socket) -> bool:
    """Waits (up to the socket's timeout) for the peer to close; False when a byte came instead."""
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


def test_idle_connections_without_the_secret_are_closed_and_the_agent_keeps_serving(
    docker_client: docker.DockerClient, code: Path
) -> None:
    with java_agent(docker_client, code) as agent:
        idle = [socket.create_connection(("127.0.0.1", agent.port), timeout=60) for _ in range(FLOOD)]
        try:
            # Every one is closed by the agent: past its bound at once, the others when their head's deadline
            # passes (10 s). A socket timeout here is an agent that stopped accepting or holds them for ever.
            assert all(closed_by_peer(connection) for connection in idle)
        finally:
            for connection in idle:
                connection.close()
        status, _, body = agent.call("POST", "/invoke", {**HANDLER, "x-fc-request-id": "after-flood"}, b"x")
        assert status == 200 and b'"requestId":"after-flood"' in body
        assert b"fc-accept" not in agent.container.logs()


def test_the_log_tail_of_an_invocation_printing_more_than_its_memory_is_its_last_4096_bytes(
    docker_client: docker.DockerClient, code: Path
) -> None:
    with java_agent(docker_client, code, mem_limit="128m", memswap_limit="128m") as agent:
        status, headers, body = agent.call("POST", "/invoke", {
            **HANDLER, "x-fc-request-id": "flood", "x-fc-log-type": "Tail"}, f"flood:{FLOOD_MB}".encode())
        assert (status, body) == (200, b"flooded") and "x-fc-status" not in headers
        end = f"flood of {FLOOD_MB} MB done\nFC Invoke End RequestId: flood\n".encode()
        assert base64.b64decode(headers["x-fc-log-result"]) == (b"x" * TAIL_BYTES + b"\n" + end)[-TAIL_BYTES:]


@pytest.mark.parametrize("environment", [
    {"FCEMU_JAVA_CDS_DUMP": "1"},  # start.sh's switch for the image build
    {"JAVA_TOOL_OPTIONS": "-Dfcemu.training=true"},  # the agent's property, as a function may set JVM options
], ids=["start-variable", "jvm-property"])
def test_the_image_build_s_training_cannot_be_asked_for_by_a_function(
    docker_client: docker.DockerClient, code: Path, environment: dict[str, str]
) -> None:
    with java_agent(docker_client, code, environment) as agent:
        status, _, _ = agent.call("POST", "/invoke", {**HANDLER, "x-fc-request-id": "public-token"}, b"x",
                                  secret="fcemu-cds-training")
        assert status == 403
        status, _, body = agent.call("POST", "/invoke", {**HANDLER, "x-fc-request-id": "own-token"}, b"x")
        assert status == 200 and b'"requestId":"own-token"' in body
