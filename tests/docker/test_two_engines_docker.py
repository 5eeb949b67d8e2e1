"""Dispatchers on two Docker engines share one Redis: they split the work, a kill -9 of one loses nothing (its
tasks re-run on the other once their lease lapses), and its containers are removed by the next fcemu process on
its engine. The second engine is a dockerd of the test's own (tests/support/second_docker.py)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from emulator.redis_io.keys import task_member
from emulator.settings import Settings
from tests.support.async_tasks import enqueue, final_statuses, task_fields
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.second_docker import SecondDocker, unavailable_reason
from tests.support.task_watcher import FINAL, TaskWatcher

# The image the dispatchers run (FCEMU_PYTHON_RUNTIME_IMAGE may name another than the default).
IMAGE = Settings().python_runtime_image

reason = unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.fixture(scope="module")
def second_engine(docker_client: docker.DockerClient) -> Iterator[SecondDocker]:
    engine = SecondDocker()
    try:
        engine.start()
        engine.load_image(docker_client, IMAGE)  # once for the module: the slow part
        yield engine
    finally:
        engine.stop()


def container_ids(client: docker.DockerClient, **labels: str) -> set[str]:
    """The short ids (a task's instance id) of fcemu's containers with these labels; sparse: listed without inspecting
    each one, which fails when the container goes in between."""
    filters = ["fcemu"] + [f"fcemu.{name}={value}" for name, value in labels.items()]
    return {c.id[:12] for c in client.containers.list(all=True, sparse=True, filters={"label": filters})}


def instance_ids(redis_server: RedisServer, function: str, ids: list[str]) -> dict[str, str]:
    """Each task's last instance id."""
    return task_fields(redis_server, function, ids, "inst")


def test_two_dispatchers_on_two_engines_split_the_work(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient,
    second_engine: SecondDocker,
) -> None:
    api = EmulatorProcess(functions_dir, tmp_path / "api.log", redis_url=own_redis.url,
                          dispatcher_enabled="false").start()
    settings = {"max_instances_per_function": "2"}
    first = EmulatorProcess(functions_dir, tmp_path / "d1.log", redis_url=own_redis.url, command="dispatcher",
                            **settings).start()
    second = EmulatorProcess(functions_dir, tmp_path / "d2.log", redis_url=own_redis.url, command="dispatcher",
                             environment={"DOCKER_HOST": second_engine.host}, **settings).start()
    watcher = TaskWatcher(own_redis.url)
    # 40 tasks of 0.2 s on 2 slots take one dispatcher 4 s: the other claims its share well before.
    total = 40
    try:
        ids = enqueue(api, total, f"split_{uuid.uuid4().hex[:6]}", function="sleepy", body=b'{"sleep": 0.2}')
        watcher.wait_for_count(FINAL, total, timeout=300)
        assert set(final_statuses(own_redis, "sleepy", ids).values()) == {"Succeeded"}
        assert all(seen.count("Running") == 1 for seen in watcher.seen.values())
        on_first = container_ids(docker_client, owner=first.owner, function="sleepy")
        on_second = container_ids(second_engine.client, owner=second.owner, function="sleepy")
        ran_on = set(instance_ids(own_redis, "sleepy", ids).values())
        assert ran_on <= on_first | on_second
        assert ran_on & on_first, "the dispatcher on the first engine should have run tasks"
        assert ran_on & on_second, "the dispatcher on the second engine should have run tasks"
        # Each engine holds only its own dispatcher's instances.
        assert container_ids(docker_client, owner=second.owner) == set()
        assert container_ids(second_engine.client, owner=first.owner) == set()
    finally:
        second.stop()
        first.stop()
        api.stop()
        watcher.close()
    assert container_ids(second_engine.client, owner=second.owner) == set()


def test_a_dispatcher_killed_on_one_engine_loses_nothing_and_its_engine_is_swept(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient,
    second_engine: SecondDocker,
) -> None:
    api = EmulatorProcess(functions_dir, tmp_path / "api.log", redis_url=own_redis.url,
                          dispatcher_enabled="false").start()
    settings = {"lease_s": "2", "max_instances_per_function": "2"}
    first = EmulatorProcess(functions_dir, tmp_path / "d1.log", redis_url=own_redis.url, command="dispatcher",
                            **settings).start()
    # A fixed owner, restarted below on the first engine: its containers on the second engine then belong to an
    # owner whose live process uses another engine.
    fixed = f"roam-{uuid.uuid4().hex[:6]}"
    victim = EmulatorProcess(functions_dir, tmp_path / "d2.log", redis_url=own_redis.url, command="dispatcher",
                             owner=fixed, environment={"DOCKER_HOST": second_engine.host}, **settings).start()
    watcher = TaskWatcher(own_redis.url)
    others: list[EmulatorProcess] = []
    total = 16
    try:
        ids = enqueue(api, total, f"kill_{uuid.uuid4().hex[:6]}", function="sleepy", body=b'{"sleep": 0.6}')
        # Killed while tasks run on its engine's instances.
        running_on_victim: set[str] = set()

        def victim_runs_tasks() -> bool:
            nonlocal running_on_victim
            mine = container_ids(second_engine.client, owner=victim.owner)
            running = [task_id for task_id, seen in zip(ids, (watcher.seen[task_member("sleepy", i)] for i in ids))
                       if seen and seen[-1] == "Running"]
            running_on_victim = {task_id for task_id, inst in instance_ids(own_redis, "sleepy", running).items()
                                 if inst in mine}
            return bool(running_on_victim)

        watcher.wait_until(victim_runs_tasks, timeout=120)
        victim.kill()
        victim_containers = container_ids(second_engine.client, owner=victim.owner)
        assert victim_containers
        # The first dispatcher's reaper takes the victim's tasks back once their lease lapses and runs them.
        watcher.wait_for_count(FINAL, total, timeout=300)
        assert set(final_statuses(own_redis, "sleepy", ids).values()) == {"Succeeded"}
        ran_twice = {member for member, seen in watcher.seen.items() if seen.count("Running") > 1}
        assert {task_member("sleepy", task_id) for task_id in running_on_victim} <= ran_twice
        assert set(instance_ids(own_redis, "sleepy", list(running_on_victim)).values()) <= container_ids(
            docker_client, owner=first.owner)

        # The fixed owner comes back on the first engine; the second engine's leftovers stay until a process
        # there sweeps: its live holder uses another engine, so they are the dead process's.
        others.append(EmulatorProcess(functions_dir, tmp_path / "d2-again.log", redis_url=own_redis.url,
                                      command="dispatcher", owner=fixed, **settings).start())
        assert container_ids(second_engine.client, owner=victim.owner) == victim_containers
        sweeper = EmulatorProcess(functions_dir, tmp_path / "d3.log", redis_url=own_redis.url, command="dispatcher",
                                  unique_owner=True, environment={"DOCKER_HOST": second_engine.host}, **settings)
        others.append(sweeper)
        sweeper.launch()
        sweeper.wait_for_log(f"removed {len(victim_containers)} container(s) of owner(s) {victim.owner}", timeout=60)
        assert container_ids(second_engine.client, owner=victim.owner) == set()
    finally:
        victim.kill()
        for process in others:
            process.stop()
        first.stop()
        api.stop()
        watcher.close()
