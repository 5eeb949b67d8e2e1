"""One function's instances cannot drive another's: real `fcemu serve`, real containers of the runtime images.

From inside an instance, another instance's agent and debugger do not answer (fcemu's network forbids traffic
between containers) while the host and the outside still do; and every agent of fcemu's runtimes answers only a
request that carries the secret the emulator gave its instance, which the function's code never sees."""
from __future__ import annotations

import http.client
import json
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from docker.models.containers import Container

from tests.conftest import TEST_FUNCTIONS, owned_containers
from tests.support.container_output import output_until
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.redis_server import RedisServer
from tests.support.waits import docker_bridge_gateway

pytestmark = pytest.mark.docker

FUNCTIONS = ("isolation-probe", "isolation-node", "isolation-web", "isolation-node-web", "isolation-custom", "echo")
HTTP_FUNCTIONS = ("isolation-web", "isolation-node-web", "isolation-custom")
# The neighbours run under their debuggers, so that their debug ports listen too.
DEBUGGED = {"echo": 5678, "isolation-node": 9229}
UNREACHABLE = {"timeout", "refused"}
# The secret's names on the wire, as the agents read them (emulator/pool/contract.py).
AGENT_TOKEN_HEADER = "x-fcemu-agent-token"
AGENT_TOKEN_VARIABLE = "FCEMU_AGENT_TOKEN"


@pytest.fixture(scope="module")
def isolation_functions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("isolation-functions")
    for name in FUNCTIONS:
        shutil.copytree(TEST_FUNCTIONS / name, target / name)
    return target


@pytest.fixture(scope="module")
def emulator_isolated(isolation_functions: Path, tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer,
                      docker_client: docker.DockerClient) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(
        isolation_functions, tmp_path_factory.mktemp("isolation-logs") / "fcemu.log", redis_url=module_redis.url,
        debug=",".join(f"{name}:0" for name in DEBUGGED), idle_timeout_s="600",
    ).start()
    try:
        for name in FUNCTIONS:
            if name not in HTTP_FUNCTIONS:
                reply = requests.post(v3(process, name), data=b"{}", timeout=60)
                assert reply.status_code == 200, (name, reply.text)
        for name in HTTP_FUNCTIONS:
            assert requests.get(f"{process.url}/http/{name}/", timeout=60).status_code == 200
        yield process
    finally:
        process.stop()
    assert owned_containers(docker_client, process.owner) == []


def instance(docker_client: docker.DockerClient, emulator: EmulatorProcess, function: str) -> Container:
    found = docker_client.containers.list(
        filters={"label": [f"fcemu.owner={emulator.owner}", f"fcemu.function={function}"]})
    assert len(found) == 1, (function, found)
    return found[0]


def address(container: Container) -> str:
    """The container's address on the network it is on (Docker's default bridge, or fcemu's own)."""
    addresses = [attached["IPAddress"] for attached in container.attrs["NetworkSettings"]["Networks"].values()
                 if attached.get("IPAddress")]
    assert len(addresses) == 1, container.attrs["NetworkSettings"]["Networks"]
    return str(addresses[0])


def published(container: Container, port: int) -> int:
    return int(container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"])


def secret(container: Container) -> str:
    """The secret the emulator gave the instance, as Docker (root's view, not the function's) shows it."""
    for entry in container.attrs["Config"]["Env"]:
        name, _, value = entry.partition("=")
        if name == AGENT_TOKEN_VARIABLE:
            return value
    return ""


def probe(emulator: EmulatorProcess, request: dict[str, Any]) -> dict[str, Any]:
    reply = requests.post(v3(emulator, "isolation-probe"), data=json.dumps(request).encode(), timeout=120)
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    return dict(json.loads(reply.content))


class Greeter:
    """A TCP server on the host that greets whoever connects: what an instance's outbound access reaches."""

    def __init__(self) -> None:
        self._server = socket.create_server(("0.0.0.0", 0))
        self.port = int(self._server.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"hello from the host")

    def close(self) -> None:
        self._server.close()


def host_address() -> str:
    """This host's own address on its way out (not loopback, not a Docker bridge)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_socket:
        probe_socket.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route's source address
        return str(probe_socket.getsockname()[0])


def test_an_instance_cannot_reach_another_functions_agent_or_debugger(
        emulator_isolated: EmulatorProcess, docker_client: docker.DockerClient) -> None:
    neighbours = {name: instance(docker_client, emulator_isolated, name)
                  for name in ("echo", "isolation-node", "isolation-custom")}
    agents = [[address(container), 9000] for container in neighbours.values()]
    debuggers = [[address(neighbours[name]), port] for name, port in DEBUGGED.items()]
    # Their ports published on the host's loopback are no way round either, whatever host address is tried.
    gateway = docker_bridge_gateway()
    loopback_ports = [[gateway, published(container, 9000)] for container in neighbours.values()]
    seen = probe(emulator_isolated, {"connect": [*agents, *debuggers, *loopback_ports], "invoke": agents})
    outcomes = dict(zip(map(tuple, [*agents, *debuggers, *loopback_ports]), seen["connect"]))  # type: ignore[arg-type]
    assert set(seen["connect"]) <= UNREACHABLE, outcomes
    # Had a neighbour's agent answered, it would have refused a call without its secret (custom runtimes cannot).
    for outcome in seen["invoke"][:2]:
        assert "error" in outcome or outcome["status"] == 403, seen["invoke"]
    for container in neighbours.values():
        assert "neighbour-call" not in container.logs().decode()


def test_an_instance_keeps_its_way_out(emulator_isolated: EmulatorProcess) -> None:
    greeter = Greeter()
    try:
        seen = probe(emulator_isolated, {"greet": [["host.docker.internal", greeter.port],
                                                   [host_address(), greeter.port]]})
    finally:
        greeter.close()
    assert seen["greet"] == ["hello from the host"] * 2


def test_the_host_reaches_the_debuggers_on_their_published_ports(
        emulator_isolated: EmulatorProcess, docker_client: docker.DockerClient) -> None:
    node = instance(docker_client, emulator_isolated, "isolation-node")
    connection = http.client.HTTPConnection("127.0.0.1", published(node, DEBUGGED["isolation-node"]), timeout=30)
    try:
        connection.request("GET", "/json/version")
        assert "Browser" in json.loads(connection.getresponse().read())
    finally:
        connection.close()
    python = instance(docker_client, emulator_isolated, "echo")
    with socket.create_connection(("127.0.0.1", published(python, DEBUGGED["echo"])), timeout=30):
        pass


def call_agent(port: int, request_id: str, token: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"x-fc-function-handler": "index.handler", "x-fc-request-id": request_id}
    if token is not None:
        headers[AGENT_TOKEN_HEADER] = token
    try:
        connection.request("POST", "/invoke", body=b'"straight to the agent"', headers=headers)
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


@pytest.mark.parametrize("function", ["echo", "isolation-node"])
def test_an_agent_answers_only_with_its_instances_secret(
        emulator_isolated: EmulatorProcess, docker_client: docker.DockerClient, function: str) -> None:
    container = instance(docker_client, emulator_isolated, function)
    port = published(container, 9000)
    own = secret(container)
    assert len(own) >= 32
    forged = f"forged-{uuid.uuid4().hex[:8]}"
    assert call_agent(port, forged, None)[0] == 403
    assert call_agent(port, forged, own[:-1] + ("A" if own[-1] != "A" else "B"))[0] == 403
    assert call_agent(port, forged, "")[0] == 403
    status, _ = call_agent(port, f"owned-{uuid.uuid4().hex[:8]}", own)
    assert status == 200
    # The emulator's own invocation after the refused ones: its End line in the log means every earlier line is.
    reply = requests.post(v3(emulator_isolated, function), data=b"{}", timeout=60)
    assert reply.status_code == 200, reply.text
    logs = output_until(container, f"FC Invoke End RequestId: {reply.headers['x-fc-request-id']}")
    assert forged not in logs


def test_every_instance_has_a_secret_of_its_own(emulator_isolated: EmulatorProcess,
                                                docker_client: docker.DockerClient) -> None:
    secrets = [secret(instance(docker_client, emulator_isolated, name)) for name in FUNCTIONS]
    assert all(secrets) and len(set(secrets)) == len(secrets)


@pytest.mark.parametrize("function", ["isolation-probe", "isolation-node"])
def test_a_function_cannot_read_its_instances_secret(emulator_isolated: EmulatorProcess,
                                                     docker_client: docker.DockerClient, function: str) -> None:
    # The instance started with it in its environment; its agent took it out before the function's code loaded.
    assert secret(instance(docker_client, emulator_isolated, function))
    reply = requests.post(v3(emulator_isolated, function), data=b"{}", timeout=120)
    assert reply.status_code == 200, reply.text
    seen = reply.json()
    assert seen["secretInEnviron"] == [] and seen["secretInChild"] == []


@pytest.mark.parametrize("function", ["isolation-web", "isolation-node-web"])
def test_a_handler_never_sees_the_secrets_header(emulator_isolated: EmulatorProcess, function: str) -> None:
    headers = requests.get(f"{emulator_isolated.url}/http/{function}/", timeout=60,
                           headers={AGENT_TOKEN_HEADER: "from-a-client"}).json()
    assert headers and not [name for name in headers if "fcemu" in name.lower()], headers


def test_a_clients_copy_of_the_secrets_header_never_reaches_an_instance(
        emulator_isolated: EmulatorProcess, docker_client: docker.DockerClient) -> None:
    # A custom runtime's server gets the request's lines as they come: only the emulator's copy is among them.
    lines = requests.get(f"{emulator_isolated.url}/http/isolation-custom/", timeout=60,
                         headers={AGENT_TOKEN_HEADER: "from-a-client"}).json()
    given = [value for name, value in lines if name == AGENT_TOKEN_HEADER]
    assert given == [secret(instance(docker_client, emulator_isolated, "isolation-custom"))]


def test_instances_answer_on_their_published_ports_too(
        isolation_functions: Path, tmp_path: Path, module_redis: RedisServer,
        docker_client: docker.DockerClient) -> None:
    """FCEMU_INSTANCE_ADDRESS=published: the control plane reaches instances through docker-proxy on 127.0.0.1
    (Docker Desktop's way), secret and all."""
    process = EmulatorProcess(isolation_functions, tmp_path / "fcemu.log", redis_url=module_redis.url,
                              instance_address="published").start()
    try:
        for name in ("echo", "isolation-node"):
            reply = requests.post(v3(process, name), data=b'"through the published port"', timeout=60)
            assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
        assert requests.get(f"{process.url}/http/isolation-web/", timeout=60).status_code == 200
    finally:
        process.stop()
    assert owned_containers(docker_client, process.owner) == []
