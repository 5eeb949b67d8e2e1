"""A custom runtime's Tail is cut from Docker's copy of an instance's output: the stream it reads is closed in the
worker thread that read it, as soon as the End line is found, never left half-read for the event loop to close.
A real container and the real engine."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Generator, Iterator

import docker
import pytest
from docker.models.containers import Container

from emulator.pool.engine import DockerEngine
from emulator.pool.instance import Instance
from emulator.pool.launcher import InstanceLauncher
from emulator.settings import Settings

pytestmark = pytest.mark.docker

LINES_AFTER = 20_000  # output after the End line: Docker's stream is still far from its end when the tail is cut


class WatchedEngine(DockerEngine):
    """The real engine, noting the threads that read its output streams and the ones that closed them."""

    def __init__(self) -> None:
        super().__init__()
        self.read_in: list[str] = []
        self.closed_in: list[str] = []

    def output_since(self, container_id: str, since: float) -> Generator[bytes, None, None]:
        inner = super().output_since(container_id, since)

        def watched() -> Generator[bytes, None, None]:
            try:
                self.read_in.append(threading.current_thread().name)
                yield from inner
            finally:
                self.closed_in.append(threading.current_thread().name)

        return watched()


@pytest.fixture
def printer(docker_client: docker.DockerClient) -> Iterator[tuple[Container, str, float]]:
    """A finished container that printed one framed request and a lot after it."""
    request_id = str(uuid.uuid4())
    script = (f"print('before'); print('FC Invoke Start RequestId: {request_id}'); print('inside'); "
              f"print('FC Invoke End RequestId: {request_id}'); print('after\\n' * {LINES_AFTER})")
    started = time.time()
    container = docker_client.containers.run(Settings().python_runtime_image, ["python3", "-c", script], detach=True,
                                             name=f"fcemu-test-tail-{uuid.uuid4().hex[:8]}")
    try:
        assert container.wait(timeout=60)["StatusCode"] == 0
        yield container, request_id, started
    finally:
        container.remove(force=True)


def test_the_docker_stream_of_a_tail_is_closed_in_the_thread_that_read_it(
        printer: tuple[Container, str, float]) -> None:
    container, request_id, started = printer
    engine = WatchedEngine()
    launcher = InstanceLauncher(engine, None, Settings())  # type: ignore[arg-type]  # the tail needs no agent
    instance = Instance(function_name="printer", container_id=container.id, base_url="", capacity=1)

    async def tail() -> tuple[str, list[str]]:
        text = await launcher.invocation_log(instance, request_id, since=started - 1, keep=4096)
        return text, list(engine.closed_in)  # as invocation_log returned

    try:
        text, closed_by_then = asyncio.run(tail())
    finally:
        engine.close()
    assert text == (f"FC Invoke Start RequestId: {request_id}\ninside\nFC Invoke End RequestId: {request_id}\n")
    assert len(engine.read_in) == 1 and engine.read_in[0] != threading.main_thread().name
    assert closed_by_then == engine.read_in, "the stream was not closed in the thread that read it"
