"""Pre-start: a function with no warm instance gets one ahead of its task's due time (a deferred invoke, a timer's
firing), so the task runs on a warm instance at its due time; unused, the instance goes by idle reclaim. Real
`fcemu serve`, Redis and Docker; each test has its own emulator and Redis, so that no warm instance of another
test's invokes is about."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from emulator.redis_io.keys import ShardKeys, task_member
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

V3 = "/2023-03-30"


def metric(emulator: EmulatorProcess, name: str, function: str) -> float:
    reply = requests.get(f"{emulator.url}/_fcemu/metrics", timeout=10)
    assert reply.status_code == 200, reply.text
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("function") == function:
                return sample.value
    return 0.0


def task_record(redis_server: RedisServer, function: str, task_id: str) -> tuple[int, dict[str, str]]:
    """The task's due time (ms) and, by status, the detail of its events (the instance, for Running)."""
    member = task_member(function, task_id)
    keys = ShardKeys(0)
    with redis_server.client() as client:
        due = int(client.hget(keys.task(member), "due"))
        events = [json.loads(raw) for raw in client.lrange(keys.events(member), 0, -1)]
    return due, {event["status"]: event.get("eventDetail", "") for event in events}


def created_ms(docker_client: docker.DockerClient, instance_id: str) -> int:
    """When Docker created the instance's container (the same host clock as Redis's)."""
    created = docker_client.api.inspect_container(instance_id)["Created"]
    seconds, _, fraction = created.rstrip("Z").partition(".")
    at = datetime.strptime(seconds, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(at.timestamp() * 1000) + int((fraction + "000")[:3])


@pytest.fixture()
def own_serve(functions_dir: Path, tmp_path: Path, own_redis: RedisServer,
              request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    settings: dict[str, str] = getattr(request, "param", {})
    process = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url, **settings).start()
    yield process
    process.stop()


def invoke_deferred(emulator: EmulatorProcess, function: str, task_id: str, delay_s: int) -> None:
    reply = requests.post(f"{emulator.url}{V3}/functions/{function}/invocations", data=b'{"n": 1}', timeout=10,
                          headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id,
                                   "x-fc-async-delay": str(delay_s)})
    assert reply.status_code == 202, reply.text


def test_a_deferred_task_on_a_cold_function_runs_on_an_instance_started_before_its_due_time(
    own_serve: EmulatorProcess, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    watcher = TaskWatcher(own_redis.url)
    task_id = f"pre-{uuid.uuid4().hex[:8]}"
    try:
        invoke_deferred(own_serve, "echo", task_id, 3)
        own_serve.wait_for_log("pre-started 1 instance(s) of echo")
        assert watcher.wait_for("echo", task_id) == "Succeeded"
    finally:
        watcher.close()
    due, details = task_record(own_redis, "echo", task_id)
    instance = details["Running"]
    assert created_ms(docker_client, instance) < due, "the instance existed before the task was due"
    assert metric(own_serve, "fcemu_cold_starts_total", "echo") == 0, "the task found its instance warm"
    assert metric(own_serve, "fcemu_prestarted_instances_total", "echo") == 1
    assert metric(own_serve, "fcemu_prestarted_instances_unused_total", "echo") == 0
    assert metric(own_serve, "fcemu_instance_start_seconds_count", "echo") == 1


# A margin of seconds: the test stops the task well before its due time, however slow this machine is.
@pytest.mark.parametrize("own_serve", [{"idle_timeout_s": "1", "prestart_margin_ms": "4000"}], indirect=True)
def test_a_stopped_tasks_prestarted_instance_goes_by_idle_reclaim(
    own_serve: EmulatorProcess, own_redis: RedisServer
) -> None:
    watcher = TaskWatcher(own_redis.url)
    task_id = f"stopped-{uuid.uuid4().hex[:8]}"
    try:
        invoke_deferred(own_serve, "echo", task_id, 6)
        after = own_serve.wait_for_log("pre-started 1 instance(s) of echo")
        reply = requests.put(f"{own_serve.url}{V3}/functions/echo/async-tasks/{task_id}/stop", timeout=10)
        assert reply.status_code == 200, reply.text
        assert watcher.wait_for("echo", task_id) == "Stopped"
        own_serve.wait_for_log("reclaiming idle instance", after=after)
    finally:
        watcher.close()
    assert metric(own_serve, "fcemu_prestarted_instances_unused_total", "echo") == 1
    assert metric(own_serve, "fcemu_cold_starts_total", "echo") == 0


def test_a_timer_triggers_function_is_prestarted_before_the_firing(
    own_serve: EmulatorProcess, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    # Once a minute, at a second far enough ahead for the pre-start to be planned before it.
    fire_at = datetime.now(UTC) + timedelta(seconds=6)
    config = json.dumps({"cronExpression": f"{fire_at.second} * * * * *", "enable": True, "payload": "tick"})
    watcher = TaskWatcher(own_redis.url)
    try:
        reply = requests.post(f"{own_serve.url}{V3}/functions/echo/triggers", timeout=10, json={
            "triggerName": "minutely", "triggerType": "timer", "triggerConfig": config})
        assert reply.status_code == 200, reply.text
        own_serve.wait_for_log("pre-started 1 instance(s) of echo")
        watcher.wait_for_count({"Succeeded"}, 1, timeout=60)
    finally:
        watcher.close()
    (member,) = watcher.seen
    task_id = member.split("/", 1)[1]
    due, details = task_record(own_redis, "echo", task_id)
    firing_ms = int(task_id.rsplit("-", 1)[1]) * 1000
    assert created_ms(docker_client, details["Running"]) < firing_ms <= due
    assert metric(own_serve, "fcemu_cold_starts_total", "echo") == 0
    assert metric(own_serve, "fcemu_prestarted_instances_total", "echo") == 1
