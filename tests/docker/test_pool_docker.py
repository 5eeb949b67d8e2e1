"""The container pool against the real Docker engine: limits, timeouts, crashes, caps, reclaim, clean-up."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest
import requests

from tests.conftest import owned_containers
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import assert_v3_error, v3
from tests.support.redis_server import RedisServer
from tests.support.waits import wait_until_gone


def container_of(client: docker.DockerClient, instance_id: str) -> docker.models.containers.Container:
    return client.containers.get(instance_id)


def test_instances_run_unprivileged_with_the_function_memory(
    emulator: EmulatorProcess, http: requests.Session, docker_client: docker.DockerClient
) -> None:
    reply = http.post(v3(emulator, "context"), data=b"")
    attrs = container_of(docker_client, reply.headers["x-fc-instance-id"]).attrs
    host = attrs["HostConfig"]
    assert host["Memory"] == 256 * 1024 * 1024
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["PidsLimit"] > 0
    assert attrs["Config"]["User"] == "65534:65534"
    assert attrs["Config"]["Labels"]["fcemu.owner"] == emulator.owner
    assert attrs["Config"]["Labels"]["fcemu.function"] == "context"
    mounts = {mount["Destination"]: mount for mount in attrs["Mounts"]}
    assert mounts["/code"]["RW"] is False
    assert not any("docker.sock" in mount["Source"] for mount in attrs["Mounts"])
    assert all(binding["HostIp"] == "127.0.0.1" for binding in attrs["NetworkSettings"]["Ports"]["9000/tcp"])


def test_timeout_fails_the_invoke_and_replaces_the_instance(
    emulator: EmulatorProcess, http: requests.Session, docker_client: docker.DockerClient
) -> None:
    warm = http.post(v3(emulator, "sleepy"), data=b'{"sleep": 0}')
    assert warm.content == b'{"slept": 0}'
    slow = http.post(v3(emulator, "sleepy"), data=b'{"sleep": 3}')
    assert slow.status_code == 200
    assert slow.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert slow.json()["errorMessage"] == "Function timed out after 1 seconds"
    assert slow.headers["x-fc-instance-id"] == warm.headers["x-fc-instance-id"]
    wait_until_gone(docker_client, warm.headers["x-fc-instance-id"])
    after = http.post(v3(emulator, "sleepy"), data=b'{"sleep": 0}')
    assert after.content == b'{"slept": 0}'
    assert after.headers["x-fc-instance-id"] != warm.headers["x-fc-instance-id"]


def test_a_crash_mid_invoke_fails_clearly_and_the_instance_is_replaced(
    emulator: EmulatorProcess, http: requests.Session, docker_client: docker.DockerClient
) -> None:
    crashed = http.post(v3(emulator, "crash"), data=b'{"crash": true}')
    assert crashed.headers["x-fc-error-type"] == "UnhandledInvocationError"
    message = crashed.json()["errorMessage"]
    assert message.startswith("Process exited unexpectedly before completing request")
    wait_until_gone(docker_client, crashed.headers["x-fc-instance-id"])
    after = http.post(v3(emulator, "crash"), data=b"{}")
    assert after.content == b"alive"
    assert after.headers["x-fc-instance-id"] != crashed.headers["x-fc-instance-id"]


def test_reserved_concurrency_caps_the_instances(emulator: EmulatorProcess) -> None:
    def invoke(_: int) -> requests.Response:
        return requests.post(v3(emulator, "concurrent-capped"), data=b"{}", timeout=60)

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(invoke, range(4)))
    # The first two start the two instances FC's limit allows; invokes past it are refused at once, as FC does.
    done = [reply for reply in replies if reply.status_code == 200]
    assert len(done) >= 2 and all(reply.content == b"done" for reply in done)
    assert len({reply.headers["x-fc-instance-id"] for reply in done}) == 2
    for reply in replies:
        if reply.status_code != 200:
            assert_v3_error(reply, 429, "ResourceThrottled")


@pytest.fixture()
def short_lived_emulator(
    functions_dir: Path, tmp_path: Path, docker_client: docker.DockerClient, redis_server: RedisServer
) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(
        functions_dir, tmp_path / "fcemu.log", redis_url=redis_server.url, idle_timeout_s="0.5", dispatcher_enabled="false"
    ).start()
    yield process
    process.stop()
    assert owned_containers(docker_client, process.owner) == []


def test_idle_instances_are_reclaimed(short_lived_emulator: EmulatorProcess, docker_client: docker.DockerClient) -> None:
    reply = requests.post(v3(short_lived_emulator, "hello"), data=b"{}", timeout=30)
    instance = reply.headers["x-fc-instance-id"]
    wait_until_gone(docker_client, instance, timeout=15)
    assert owned_containers(docker_client, short_lived_emulator.owner) == []


def test_prewarmed_instances_serve_the_first_invoke(
    functions_dir: Path, tmp_path: Path, docker_client: docker.DockerClient, redis_server: RedisServer
) -> None:
    only_hello = tmp_path / "functions"
    only_hello.mkdir()
    (only_hello / "hello").symlink_to(functions_dir / "hello")
    process = EmulatorProcess(
        only_hello, tmp_path / "fcemu.log", redis_url=redis_server.url, prewarm_instances="1", dispatcher_enabled="false"
    ).start()
    try:
        warm = owned_containers(docker_client, process.owner)
        assert len(warm) == 1
        reply = requests.post(v3(process, "hello"), data=b"{}", timeout=30)
        assert warm[0].startswith(reply.headers["x-fc-instance-id"])
    finally:
        process.stop()
    assert owned_containers(docker_client, process.owner) == []


@pytest.mark.parametrize(("mode", "reached"), [
    ("published", "on ports published on 127.0.0.1"),
    # This suite runs on Linux, where "auto" finds that the bridge answers.
    ("auto", "on Docker's bridge"),
])
def test_instances_are_reached_as_configured(
    functions_dir: Path, tmp_path: Path, docker_client: docker.DockerClient, redis_server: RedisServer,
    mode: str, reached: str,
) -> None:
    process = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=redis_server.url,
                              dispatcher_enabled="false", instance_address=mode).start()
    try:
        replies = [requests.post(v3(process, "hello"), data=b"{}", timeout=30) for _ in range(2)]
        assert [reply.content for reply in replies] == [b"hello world"] * 2
        assert replies[0].headers["x-fc-instance-id"] == replies[1].headers["x-fc-instance-id"]
        process.wait_for_log(f"instances are reached {reached} (FCEMU_INSTANCE_ADDRESS={mode})")
    finally:
        process.stop()
    assert owned_containers(docker_client, process.owner) == []


def test_leftovers_of_a_crashed_emulator_are_removed_at_start(
    functions_dir: Path, tmp_path: Path, docker_client: docker.DockerClient, own_redis: RedisServer
) -> None:
    redis_server = own_redis
    first = EmulatorProcess(functions_dir, tmp_path / "first.log", redis_url=redis_server.url,
                            dispatcher_enabled="false").start()
    requests.post(v3(first, "hello"), data=b"{}", timeout=30)
    first.kill()
    assert len(owned_containers(docker_client, first.owner)) == 1
    second = EmulatorProcess(functions_dir, tmp_path / "second.log", redis_url=redis_server.url, owner=first.owner,
                             dispatcher_enabled="false")
    second.start()
    try:
        assert owned_containers(docker_client, first.owner) == []
    finally:
        second.stop()


def test_cleanup_command_removes_the_owners_containers(
    functions_dir: Path, tmp_path: Path, docker_client: docker.DockerClient, own_redis: RedisServer
) -> None:
    redis_server = own_redis
    process = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=redis_server.url,
                              dispatcher_enabled="false").start()
    requests.post(v3(process, "hello"), data=b"{}", timeout=30)
    process.kill()
    assert len(owned_containers(docker_client, process.owner)) == 1
    # `make down` passes --all; scoped to this owner here so that the shared test emulator keeps its instances.
    subprocess.run([sys.executable, "-m", "emulator", "cleanup"], cwd=REPO, check=True, capture_output=True,
                   env={**os.environ, "FCEMU_OWNER": process.owner})
    assert owned_containers(docker_client, process.owner) == []


def test_a_bad_manifest_names_file_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "functions" / "broken"
    broken.mkdir(parents=True)
    (broken / "function.yaml").write_text("functionName: broken\nruntime: python3.10\nhandler: i.h\nmemorySize: 100\n")
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "FCEMU_FUNCTIONS_DIR": str(tmp_path / "functions")},
    )
    assert result.returncode != 0
    assert "broken/function.yaml" in result.stderr + result.stdout
    assert "memorySize" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_a_container_that_cannot_start_is_not_left_behind(
    emulator: EmulatorProcess, docker_client: docker.DockerClient
) -> None:
    """Docker creates before it starts: an entrypoint that does not exist fails the start, and each invoke of
    such a function must not leave a created container behind."""
    name = f"nostart-{os.urandom(3).hex()}"
    base = f"{emulator.url}/2023-03-30/functions"
    created = requests.post(base, json={
        "functionName": name, "runtime": "custom-container", "handler": "not-used", "memorySize": 128,
        "customContainerConfig": {"image": "fcemu/runtime-python3:latest", "entrypoint": ["/no/such/program"]},
    }, timeout=30)
    assert created.status_code == 200, created.text
    try:
        for _ in range(2):
            answer = requests.post(f"{base}/{name}/invocations", data=b"{}", timeout=60)
            assert answer.status_code == 200 and answer.headers.get("x-fc-error-type"), answer.text
        left = docker_client.containers.list(all=True, filters={"label": f"fcemu.function={name}"})
        assert left == [], [container.status for container in left]
    finally:
        requests.delete(f"{base}/{name}", timeout=30)
