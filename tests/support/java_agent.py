"""The java image's agent in a container of its own, driven directly as the emulator drives it (raw HTTP with the
instance's secret), with the engine's own container limits by default."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import docker
from docker.models.containers import Container

from emulator.settings import Settings
from tests.support.container_output import output_until

SECRET = "java-agent-test-secret"
STARTED = "FunctionCompute java runtime inited."


class JavaAgent:
    def __init__(self, container: Container, port: int) -> None:
        self.container = container
        self.port = port

    def call(self, method: str, path: str, headers: dict[str, str], body: bytes = b"",
             secret: str | None = SECRET) -> tuple[int, dict[str, str], bytes]:
        connection = HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sent = {**headers, "Content-Length": str(len(body))}
            if secret is not None:
                sent["x-fcemu-agent-token"] = secret
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            connection.close()


def code_folder(folder: Path, jar: bytes) -> Path:
    """A function's code as the emulator mounts it: the jar, readable by the instance's user."""
    folder.chmod(0o755)
    (folder / "app.jar").write_bytes(jar)
    (folder / "app.jar").chmod(0o644)
    return folder


@contextmanager
def java_agent(client: docker.DockerClient, code: Path, environment: dict[str, str] | None = None,
               wait_for: str | None = STARTED, **options: Any) -> Iterator[JavaAgent]:
    """A started agent (once `wait_for` is in its output; None: not waited for), as the engine runs an instance:
    user 65534, read-only root, /tmp a tmpfs, no capabilities, the pids limit; `options` add or override docker's
    run arguments. Removed at the end."""
    container = client.containers.run(
        Settings().java_runtime_image, detach=True, ports={"9000/tcp": ("127.0.0.1", None)},
        volumes={str(code): {"bind": "/code", "mode": "ro"}}, read_only=True, tmpfs={"/tmp": "rw"},
        user="65534:65534", cap_drop=["ALL"], security_opt=["no-new-privileges"], pids_limit=256,
        environment={"FCEMU_AGENT_TOKEN": SECRET, "FC_RUNTIME": "java8", **(environment or {})},
        labels={"fcemu.test": "java-agent"}, **options)
    try:
        if wait_for is not None:
            output_until(container, wait_for)
        container.reload()
        yield JavaAgent(container, int(container.ports["9000/tcp"][0]["HostPort"]))
    finally:
        container.remove(force=True)
