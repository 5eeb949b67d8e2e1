"""Waiting on what a test cannot await as an event of its own, and the Docker host the functions reach."""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors

from emulator.pool.engine import DockerEngine


def docker_bridge_gateway() -> str:
    engine = DockerEngine()
    try:
        return engine.bridge_gateway()
    finally:
        engine.close()


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Polls a condition nothing announces (a pub/sub subscription has no event of its own)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError("the condition did not become true")
        time.sleep(0.05)


def wait_until_gone(client: docker.DockerClient, container_id: str, timeout: float = 30) -> None:
    """Waits on Docker's event stream (not a sleep) until the container is destroyed."""
    try:
        client.containers.get(container_id)
    except docker.errors.NotFound:
        return
    events = client.events(decode=True, filters={"container": container_id, "event": "destroy"},
                           until=None)
    try:
        # The container may have been removed between the check and the subscription.
        try:
            client.containers.get(container_id)
        except docker.errors.NotFound:
            return
        with ThreadPoolExecutor(1) as pool:
            pool.submit(next, events).result(timeout=timeout)
    finally:
        events.close()
