"""Faults lose no accepted invocation: a Redis restart, an emulator restart, a dispatcher killed mid-batch;
and several dispatchers share one Redis without running anything twice."""
from __future__ import annotations

import uuid
from pathlib import Path

import docker

from emulator.redis_io.keys import ShardKeys
from tests.conftest import owned_containers
from tests.support.async_tasks import enqueue, final_statuses
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import FINAL, TaskWatcher


def test_a_redis_restart_keeps_the_queue(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    try:
        ids = enqueue(emulator, 5, f"restart_{uuid.uuid4().hex[:6]}", delay=3)
        own_redis.stop()  # SHUTDOWN: the AOF is written out
        own_redis.start()
        watcher = TaskWatcher(own_redis.url)
        try:
            for task_id in ids:
                watcher.wait_for("hello", task_id)
        finally:
            watcher.close()
        assert set(final_statuses(own_redis, "hello", ids).values()) == {"Succeeded"}
    finally:
        emulator.stop()
    assert owned_containers(docker_client, emulator.owner) == []


def test_an_emulator_restart_keeps_the_queue(functions_dir: Path, tmp_path: Path, own_redis: RedisServer) -> None:
    first = EmulatorProcess(functions_dir, tmp_path / "first.log", redis_url=own_redis.url).start()
    ids = enqueue(first, 5, f"emu_{uuid.uuid4().hex[:6]}", delay=2)
    first.kill()
    watcher = TaskWatcher(own_redis.url)
    second = EmulatorProcess(functions_dir, tmp_path / "second.log", redis_url=own_redis.url, owner=first.owner).start()
    try:
        for task_id in ids:
            watcher.wait_for("hello", task_id)
    finally:
        second.stop()
        watcher.close()
    assert set(final_statuses(own_redis, "hello", ids).values()) == {"Succeeded"}


def test_a_killed_dispatcher_loses_nothing(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    api = EmulatorProcess(functions_dir, tmp_path / "api.log", redis_url=own_redis.url,
                          dispatcher_enabled="false").start()
    settings = {"lease_s": "1.5", "max_instances_per_function": "2"}
    first = EmulatorProcess(functions_dir, tmp_path / "d1.log", redis_url=own_redis.url, command="dispatcher",
                            owner="kill-test", **settings).start()
    watcher = TaskWatcher(own_redis.url)
    total = 200
    try:
        ids = enqueue(api, total, f"kill_{uuid.uuid4().hex[:6]}")
        watcher.wait_for_count({"Succeeded"}, 4, timeout=120)
        first.kill()
        # Nothing changes the in-flight set between the kill and the next dispatcher's reaper: these are
        # exactly the tasks the killed dispatcher held.
        with own_redis.client() as client:
            in_flight = {member.decode() for member in client.zrange(ShardKeys(0).inflight, 0, -1)}
        second = EmulatorProcess(functions_dir, tmp_path / "d2.log", redis_url=own_redis.url, command="dispatcher",
                                 owner="kill-test", **settings).start()
        try:
            watcher.wait_for_count(FINAL, total, timeout=300)
        finally:
            second.stop()
        statuses = final_statuses(own_redis, "hello", ids)
        assert set(statuses.values()) == {"Succeeded"}
        ran_twice = {member for member, seen in watcher.seen.items() if seen.count("Running") > 1}
        assert ran_twice <= in_flight
    finally:
        first.kill()
        api.stop()
        watcher.close()
    assert owned_containers(docker_client, "kill-test-dispatcher") == []


def test_two_dispatchers_share_the_queue_without_running_anything_twice(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    api = EmulatorProcess(functions_dir, tmp_path / "api.log", redis_url=own_redis.url,
                          dispatcher_enabled="false").start()
    dispatchers = [
        EmulatorProcess(functions_dir, tmp_path / f"d{index}.log", redis_url=own_redis.url, command="dispatcher",
                        owner=f"pair-{index}", max_instances_per_function="2").start()
        for index in range(2)
    ]
    watcher = TaskWatcher(own_redis.url)
    # 30 tasks of 0.2 s on 2 slots take one dispatcher 3 s; the other's reaper tick (at most 1 s) or a nudge
    # makes it claim its share, so both must take work.
    total = 30
    try:
        ids = enqueue(api, total, f"pair_{uuid.uuid4().hex[:6]}", function="sleepy", body=b'{"sleep": 0.2}')
        watcher.wait_for_count(FINAL, total, timeout=300)
        assert set(final_statuses(own_redis, "sleepy", ids).values()) == {"Succeeded"}
        assert all(seen.count("Running") == 1 for seen in watcher.seen.values())
        owners = {c.labels["fcemu.owner"] for c in docker_client.containers.list(filters={"label": "fcemu.function=sleepy"})}
        assert {"pair-0-dispatcher", "pair-1-dispatcher"} <= owners, "both dispatchers should have taken work"
    finally:
        for dispatcher in dispatchers:
            dispatcher.stop()
        api.stop()
        watcher.close()
