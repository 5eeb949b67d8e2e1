"""What happens to a deleted function's tasks, async config and triggers, through the real emulator and Redis:
queued tasks end Invalid, running ones are stopped, a task accepted for a deleted function never runs on the
function that takes its name, and a task that no dispatcher can run still expires by its max event age."""
from __future__ import annotations

import asyncio
import base64
import json
import uuid

import requests
from redis.asyncio import Redis

from emulator.queue.store import Enqueued, TaskStore
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import code_saying, zipped
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

QUEUE_ARN = "acs:mns:cn-hangzhou:1234567890123456:/queues/{}/messages"


def functions_url(emulator: EmulatorProcess, name: str = "") -> str:
    return f"{emulator.url}/2023-03-30/functions" + (f"/{name}" if name else "")


def create(http: requests.Session, emulator: EmulatorProcess, name: str, code: bytes, timeout: int = 5) -> dict:
    reply = http.post(functions_url(emulator), json={
        "functionName": name, "runtime": "python3.10", "handler": "main.handler", "timeout": timeout,
        "code": {"zipFile": base64.b64encode(code).decode()},
    })
    assert reply.status_code == 200, reply.text
    return reply.json()


def invoke_async(http: requests.Session, emulator: EmulatorProcess, name: str, body: bytes, **headers: str) -> str:
    task_id = f"t_{uuid.uuid4().hex[:12]}"
    reply = http.post(f"{functions_url(emulator, name)}/invocations", data=body, headers={
        "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id, **headers})
    assert reply.status_code == 202, reply.text
    return task_id


def get_task(http: requests.Session, emulator: EmulatorProcess, name: str, task_id: str) -> dict:
    reply = http.get(f"{functions_url(emulator, name)}/async-tasks/{task_id}")
    assert reply.status_code == 200, reply.text
    return reply.json()


def statuses(task: dict) -> list[str]:
    return [event["status"] for event in task["events"]]


def enqueue_directly(redis_server: RedisServer, **fields: object) -> None:
    """Puts a task on the queue as another API process would, with the same scripts the emulator runs."""
    async def run() -> Enqueued:
        redis = Redis.from_url(redis_server.url)
        try:
            store = TaskStore(redis, shards=1, lease_ms=15_000, retention_s=7 * 24 * 3600, max_lost_leases=3)
            return await store.enqueue(request_id=str(fields["task_id"]), payload=b"{}", delay_ms=0, max_retry=0,
                                       qualifier="LATEST", task_mode=True, **fields)  # type: ignore[arg-type]
        finally:
            await redis.aclose()

    assert asyncio.run(run()).created


def test_deleting_a_function_ends_its_queued_tasks_config_and_triggers(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    name = f"gone-{uuid.uuid4().hex[:6]}"
    create(http, emulator, name, code_saying("old"))
    config = http.put(f"{functions_url(emulator, name)}/async-invoke-config", json={"maxAsyncRetryAttempts": 1})
    assert config.status_code == 200, config.text
    trigger = http.post(f"{functions_url(emulator, name)}/triggers", json={
        "triggerName": "web", "triggerType": "http",
        "triggerConfig": json.dumps({"authType": "anonymous", "methods": ["GET"]})})
    assert trigger.status_code == 200, trigger.text
    delayed = invoke_async(http, emulator, name, b"later", **{"x-fc-async-delay": "600"})

    assert http.delete(functions_url(emulator, name)).status_code == 204
    assert watcher.wait_for(name, delayed) == "Invalid"

    create(http, emulator, name, code_saying("new"))
    task = get_task(http, emulator, name, delayed)
    assert statuses(task) == ["Enqueued", "Invalid"], "the old task never runs on the new function"
    assert "deleted" in task["events"][-1]["eventDetail"]
    assert http.get(f"{functions_url(emulator, name)}/async-invoke-config").status_code == 404
    assert http.get(f"{functions_url(emulator, name)}/triggers").json()["triggers"] == []
    fresh = invoke_async(http, emulator, name, b"now")
    assert watcher.wait_for(name, fresh) == "Succeeded"
    assert get_task(http, emulator, name, fresh)["returnPayload"] == "new now"
    http.delete(functions_url(emulator, name))


def test_an_unreadable_stored_trigger_does_not_stop_a_delete(
    emulator: EmulatorProcess, http: requests.Session, redis_server: RedisServer
) -> None:
    """One broken entry among the stored triggers (written by hand, or by an older fcemu) is no reason for a
    DeleteFunction to fail halfway, leaving this function's triggers to the next one of the same name."""
    name = f"gone-{uuid.uuid4().hex[:6]}"
    create(http, emulator, name, code_saying("old"))
    trigger = http.post(f"{functions_url(emulator, name)}/triggers", json={
        "triggerName": "hourly", "triggerType": "timer",
        "triggerConfig": json.dumps({"cronExpression": "@every 1h", "enable": True})})
    assert trigger.status_code == 200, trigger.text
    junk = f"junk-{uuid.uuid4().hex[:6]}/t"
    with redis_server.client() as client:
        client.hset("fcemu:triggers", junk, b"not json")
        try:
            assert http.delete(functions_url(emulator, name)).status_code == 204
            assert client.hget("fcemu:triggers", f"{name}/hourly") is None
        finally:
            client.hdel("fcemu:triggers", junk)
    create(http, emulator, name, code_saying("new"))
    assert http.get(f"{functions_url(emulator, name)}/triggers").json()["triggers"] == []
    http.delete(functions_url(emulator, name))


def test_deleting_a_function_stops_its_running_task(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    name = f"busy-{uuid.uuid4().hex[:6]}"
    create(http, emulator, name, zipped({"main.py": "import time\n\ndef handler(event, context):\n"
                                                    "    time.sleep(60)\n    return 'done'\n"}), timeout=120)
    task_id = invoke_async(http, emulator, name, b"x")
    watcher.wait_for(name, task_id, "Running")

    assert http.delete(functions_url(emulator, name)).status_code == 204
    assert watcher.wait_for(name, task_id) == "Stopped"
    create(http, emulator, name, code_saying("again"))  # its tasks stay readable under the name
    task = get_task(http, emulator, name, task_id)
    assert statuses(task) == ["Enqueued", "Dequeued", "Running", "Stopping", "Stopped"]
    assert "deleted" in task["events"][3]["eventDetail"]
    http.delete(functions_url(emulator, name))


def test_a_task_accepted_for_a_deleted_function_never_runs_on_the_one_that_took_its_name(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher, redis_server: RedisServer
) -> None:
    name = f"renamed-{uuid.uuid4().hex[:6]}"
    old_id = create(http, emulator, name, code_saying("old"))["functionId"]
    assert http.delete(functions_url(emulator, name)).status_code == 204
    new_id = create(http, emulator, name, code_saying("new"))["functionId"]
    assert new_id != old_id
    # Accepted by an API process that had not seen the delete yet: the task names the old function.
    stale = f"stale_{uuid.uuid4().hex[:8]}"
    enqueue_directly(redis_server, function=name, task_id=stale, max_age_s=3600, version=old_id)
    assert watcher.wait_for(name, stale) == "Invalid"
    task = get_task(http, emulator, name, stale)
    assert "Running" not in statuses(task)
    assert "another one" in task["taskErrorMessage"]
    current = f"current_{uuid.uuid4().hex[:8]}"
    enqueue_directly(redis_server, function=name, task_id=current, max_age_s=3600, version=new_id)
    assert watcher.wait_for(name, current) == "Succeeded"
    http.delete(functions_url(emulator, name))


def test_a_task_no_dispatcher_can_run_expires_and_reaches_its_failure_destination(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher, redis_server: RedisServer
) -> None:
    name = f"nobody-{uuid.uuid4().hex[:6]}"
    queue = f"orphans-{uuid.uuid4().hex[:6]}"
    task_id = "orphan_1"
    enqueue_directly(redis_server, function=name, task_id=task_id, max_age_s=1, version="some-function-id",
                     on_failure=QUEUE_ARN.format(queue))
    assert watcher.wait_for(name, task_id) == "Expired"
    assert watcher.wait_for(name, task_id, "DestinationSucceeded") == "DestinationSucceeded"
    messages = http.get(f"{emulator.url}/_fcemu/mns/queues/{queue}/messages").json()["Messages"]
    assert len(messages) == 1
