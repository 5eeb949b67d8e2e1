"""Fixtures that start real emulator processes against the real Docker engine, and the tests' order by cost:
tests/unit/ needs no Docker engine (pure logic, and real redis-server processes where Redis's behaviour is the
point), tests/docker/ does, and is marked `docker` by its folder."""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from tests.support.emulator_process import REPO, EmulatorProcess, gather_functions
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

TEST_FUNCTIONS = Path(__file__).parent / "functions"
DOCKER_TESTS = Path(__file__).parent / "docker"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(DOCKER_TESTS):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    client.close()


def owned_containers(client: docker.DockerClient, owner: str) -> list[str]:
    return [c.id for c in client.containers.list(all=True, sparse=True, filters={"label": f"fcemu.owner={owner}"})]


@pytest.fixture(scope="session")
def functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's example functions (the Go and Java ones built first, offline, as `make functions` does) and the
    test functions, side by side."""
    subprocess.run(["bash", str(REPO / "scripts" / "build-functions.sh")], check=True, stdout=subprocess.DEVNULL)
    return gather_functions(tmp_path_factory.mktemp("functions"), REPO / "functions", TEST_FUNCTIONS)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture()
def watcher(redis_server: RedisServer) -> Iterator[TaskWatcher]:
    """Task state changes of the shared Redis, subscribed before the test invokes anything."""
    watching = TaskWatcher(redis_server.url)
    yield watching
    watching.close()


@pytest.fixture(scope="module")
def module_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of the test module's own, for a module's emulator whose tasks, channels or clock the shared
    emulator must not see (or change)."""
    server = RedisServer(tmp_path_factory.mktemp("module-redis")).start()
    yield server
    server.kill()


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of the test's own, so a cluster of its own too: for tests that kill or restart Redis, leave
    containers behind on purpose (the shared emulator's sweep of dead owners never sees them), or must not have
    the shared emulator deliver or claim their records."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def emulator(
    functions_dir: Path, tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient,
    redis_server: RedisServer,
) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(
        functions_dir, tmp_path_factory.mktemp("logs") / "fcemu.log", redis_url=redis_server.url,
        retry_base_delay_s="0.05",
    ).start()
    yield process
    process.stop()
    assert owned_containers(docker_client, process.owner) == [], "the emulator left containers behind"


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
