"""Start-up and shutdown of real `fcemu serve` / `fcemu dispatcher` processes: a failed start-up ends the process
and leaves nothing behind; every process has its own container owner, and the containers of owners that are
gone are removed by the others."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from tests.conftest import owned_containers
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer

IMAGE = "fcemu/runtime-python3:latest"
# Generous guards for a process that must end by itself; a hang fails the test instead of blocking it.
EXIT_TIMEOUT_S = 120


@pytest.fixture()
def only_hello(functions_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "hello").symlink_to(functions_dir / "hello")
    return folder


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture()
def redis_without_time(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis that refuses TIME: the dispatcher's start, the last step of start-up, fails on it."""
    server = RedisServer(tmp_path / "redis", extra_args=("--rename-command", "TIME", "")).start()
    yield server
    server.stop()


def test_a_failed_start_up_exits_non_zero_and_closes_what_it_started(
    only_hello: Path, tmp_path: Path, redis_without_time: RedisServer, docker_client: docker.DockerClient
) -> None:
    # Prewarmed instances, listeners, the folder watcher and the owner key all exist before the failure.
    process = EmulatorProcess(only_hello, tmp_path / "fcemu.log", redis_url=redis_without_time.url,
                              prewarm_instances="1").launch()
    try:
        assert process.wait_exit(EXIT_TIMEOUT_S) == 3
    finally:
        process.kill()
    log = process.log_path.read_text()
    assert "Application startup failed" in log
    assert "fcemu could not start: ResponseError" in log
    assert owned_containers(docker_client, process.owner) == []
    with redis_without_time.client() as client:
        assert client.exists(f"fcemu:owners:{process.owner}") == 0


def test_a_dispatcher_whose_start_up_fails_exits_non_zero(
    only_hello: Path, tmp_path: Path, redis_without_time: RedisServer, docker_client: docker.DockerClient
) -> None:
    process = EmulatorProcess(only_hello, tmp_path / "dispatcher.log", redis_url=redis_without_time.url,
                              command="dispatcher", prewarm_instances="1").launch()
    try:
        assert process.wait_exit(EXIT_TIMEOUT_S) == 2
    finally:
        process.kill()
    assert "fcemu dispatcher: could not start" in process.log_path.read_text()
    assert owned_containers(docker_client, process.owner) == []


def test_dispatchers_without_an_owner_keep_each_others_containers(
    only_hello: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    def dispatcher(name: str) -> EmulatorProcess:
        return EmulatorProcess(only_hello, tmp_path / f"{name}.log", redis_url=own_redis.url, command="dispatcher",
                               unique_owner=True, prewarm_instances="1").start()

    first, second = dispatcher("first"), dispatcher("second")
    third = None
    try:
        assert first.owner != second.owner
        assert first.owner.startswith("fcemu-dispatcher-")
        assert len(owned_containers(docker_client, first.owner)) == 1
        second_containers = owned_containers(docker_client, second.owner)
        assert len(second_containers) == 1
        # Another start-up and a shutdown: neither touches a live process's containers.
        third = dispatcher("third")
        first.stop()
        assert owned_containers(docker_client, first.owner) == []
        assert owned_containers(docker_client, second.owner) == second_containers
    finally:
        for process in (first, second, third):
            if process is not None:
                process.stop()
    for process in (first, second, third):
        assert process is not None and owned_containers(docker_client, process.owner) == []


def test_a_killed_processes_containers_are_removed_when_the_next_one_starts(
    only_hello: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    crashed = EmulatorProcess(only_hello, tmp_path / "crashed.log", redis_url=own_redis.url, unique_owner=True,
                              prewarm_instances="1", dispatcher_enabled="false").start()
    crashed.kill()
    assert len(owned_containers(docker_client, crashed.owner)) == 1
    # Its owner key is still there (its TTL has not run out), but its process on this host is gone.
    with own_redis.client() as client:
        assert client.exists(f"fcemu:owners:{crashed.owner}") == 1
    following = EmulatorProcess(only_hello, tmp_path / "following.log", redis_url=own_redis.url, command="dispatcher",
                                unique_owner=True).start()
    try:
        assert owned_containers(docker_client, crashed.owner) == []
        following.wait_for_log(f"of owner(s) {crashed.owner}, whose process is gone")
    finally:
        following.stop()


def test_containers_of_an_owner_whose_key_is_gone_are_removed_and_no_others(
    only_hello: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    """Owners on other hosts are judged by their key alone: missing on two sweeps in a row means gone. Containers
    of another Redis (another cluster) are never judged."""
    cluster = f"test-{uuid.uuid4().hex[:10]}"
    suffix = uuid.uuid4().hex[:8]
    with own_redis.client() as client:
        client.set("fcemu:cluster-id", cluster)
        client.set(f"fcemu:owners:far-{suffix}", json.dumps({"host": "another-host", "pid": 1}), ex=600)

    def container(owner: str, in_cluster: str) -> str:
        labels = {"fcemu": "1", "fcemu.owner": owner, "fcemu.function": "hello", "fcemu.cluster": in_cluster}
        return str(docker_client.containers.create(IMAGE, labels=labels).id)

    expired = container(f"ghost-{suffix}", cluster)  # its key expired: its process is gone
    alive_elsewhere = container(f"far-{suffix}", cluster)
    foreign = container(f"ghost-{suffix}", f"other-{suffix}")
    process = EmulatorProcess(only_hello, tmp_path / "fcemu.log", redis_url=own_redis.url, unique_owner=True,
                              owner_ttl_s="1.5", dispatcher_enabled="false").start()
    try:
        process.wait_for_log(f"removed 1 container(s) of owner(s) ghost-{suffix}, whose process is gone")
        assert owned_containers(docker_client, f"ghost-{suffix}") == [foreign]
        assert owned_containers(docker_client, f"far-{suffix}") == [alive_elsewhere]
        assert requests.get(f"{process.url}/_fcemu/health", timeout=10).json()["owner"] == process.owner
    finally:
        process.stop()
        for leftover in (expired, alive_elsewhere, foreign):
            try:
                docker_client.api.remove_container(leftover, force=True)
            except docker.errors.NotFound:
                pass


def test_an_explicit_owner_held_by_a_live_process_is_refused(
    only_hello: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    first = EmulatorProcess(only_hello, tmp_path / "first.log", redis_url=own_redis.url, prewarm_instances="1",
                            dispatcher_enabled="false").start()
    try:
        warm = owned_containers(docker_client, first.owner)
        assert len(warm) == 1
        second = EmulatorProcess(only_hello, tmp_path / "second.log", redis_url=own_redis.url, owner=first.owner,
                                 dispatcher_enabled="false").launch()
        try:
            assert second.wait_exit(EXIT_TIMEOUT_S) == 3
        finally:
            second.kill()
        assert f"owner '{first.owner}' is in use by pid {first.pid}" in second.log_path.read_text()
        assert owned_containers(docker_client, first.owner) == warm
    finally:
        first.stop()
    assert owned_containers(docker_client, first.owner) == []
