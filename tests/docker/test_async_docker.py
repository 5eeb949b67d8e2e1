"""Async invocation end to end: accept, defer, run, retry, expire, stop, and the task APIs of both versions."""
from __future__ import annotations

import base64
import itertools
import json
import uuid

import docker
import pytest
import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error, v2, v3
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import wait_until_gone


def new_id(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def invoke_async(http: requests.Session, url: str, body: bytes = b"{}", **headers: str) -> requests.Response:
    return http.post(url, data=body, headers={"x-fc-invocation-type": "Async", **headers})


def task_v3(http: requests.Session, emulator: EmulatorProcess, function: str, task_id: str) -> dict:
    reply = http.get(f"{emulator.url}/2023-03-30/functions/{function}/async-tasks/{task_id}")
    assert reply.status_code == 200, reply.text
    return reply.json()


def statuses(task: dict) -> list[str]:
    return [event["status"] for event in task["events"]]


def test_async_task_walks_fc_states_on_the_2023_api(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    task_id = new_id()
    reply = invoke_async(http, v3(emulator, "hello"), b'{"name": "async"}', **{"x-fc-async-task-id": task_id})
    assert reply.status_code == 202
    assert reply.content == b""
    assert reply.headers["x-fc-async-task-id"] == task_id
    assert reply.headers["x-fc-request-id"]
    assert watcher.wait_for("hello", task_id) == "Succeeded"
    task = task_v3(http, emulator, "hello", task_id)
    assert statuses(task) == ["Enqueued", "Dequeued", "Running", "Succeeded"]
    assert task["taskId"] == task_id
    assert task["status"] == "Succeeded"
    assert task["returnPayload"] == "hello async"
    assert task["taskPayload"] == '{"name": "async"}'
    assert task["requestId"] == reply.headers["x-fc-request-id"]
    assert task["functionArn"].endswith(":functions/hello")
    assert task["alreadyRetriedTimes"] == 0
    assert task["instanceId"]
    assert task["endTime"] >= task["startedTime"]
    assert task["durationMs"] >= 0
    assert [event["eventId"] for event in task["events"]] == [0, 1, 2, 3]


def test_tasks_queued_behind_a_busy_slot_run_on_its_instance_with_every_state(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    task_ids = [new_id("serial") for _ in range(4)]
    for index, task_id in enumerate(task_ids):
        reply = invoke_async(http, v3(emulator, "serial"), str(index).encode(), **{"x-fc-async-task-id": task_id})
        assert reply.status_code == 202
    for task_id in task_ids:
        assert watcher.wait_for("serial", task_id) == "Succeeded"
    tasks = [task_v3(http, emulator, "serial", task_id) for task_id in task_ids]
    for task in tasks:
        # A task that waited behind the reserved concurrency of 1 may also have been told it was throttled.
        task["events"] = [event for event in task["events"] if "ResourceThrottled" not in event["eventDetail"]]
    for index, task in enumerate(tasks):
        assert statuses(task) == ["Enqueued", "Dequeued", "Running", "Succeeded"]
        assert task["returnPayload"] == str(index)
        assert task["events"][2]["eventDetail"] == task["instanceId"]
    assert len({task["instanceId"] for task in tasks}) == 1
    # Each later task was claimed, and marked Running on the kept instance, by its predecessor's finish.
    for earlier, later in itertools.pairwise(tasks):
        finished_at = earlier["events"][3]["timestamp"]
        assert later["events"][1]["timestamp"] == later["events"][2]["timestamp"] == finished_at


def test_stopping_a_task_running_on_a_kept_instance(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher, docker_client: docker.DockerClient
) -> None:
    first, second, third = new_id("first"), new_id("second"), new_id("third")
    invoke_async(http, v3(emulator, "serial"), b"sleep:0.5", **{"x-fc-async-task-id": first})
    invoke_async(http, v3(emulator, "serial"), b"sleep:60", **{"x-fc-async-task-id": second})
    # The second waits for the only slot and is handed the first's instance when the first ends.
    assert watcher.wait_for("serial", second, "Running") == "Running"
    instance = task_v3(http, emulator, "serial", second)["instanceId"]
    assert instance == task_v3(http, emulator, "serial", first)["instanceId"]
    assert http.put(f"{emulator.url}/2023-03-30/functions/serial/async-tasks/{second}/stop").status_code == 200
    assert watcher.wait_for("serial", second) == "Stopped"
    wait_until_gone(docker_client, instance)
    invoke_async(http, v3(emulator, "serial"), b"after", **{"x-fc-async-task-id": third})
    assert watcher.wait_for("serial", third) == "Succeeded"
    assert task_v3(http, emulator, "serial", third)["instanceId"] != instance


def test_async_invocation_on_the_2016_api(emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher) -> None:
    task_id = new_id("v2")
    reply = invoke_async(http, v2(emulator, "hello"), b'{"name": "v2"}',
                         **{"x-fc-stateful-async-invocation-id": task_id})
    assert reply.status_code == 202
    assert reply.headers["x-fc-stateful-async-invocation-id"] == task_id
    watcher.wait_for("hello", task_id)
    url = f"{emulator.url}/2016-08-15/services/default/functions/hello/stateful-async-invocations/{task_id}"
    invocation = http.get(url).json()
    assert invocation["invocationId"] == task_id
    assert invocation["status"] == "Succeeded"
    assert invocation["serviceName"] == "default"
    assert invocation["functionName"] == "hello"
    assert invocation["invocationPayload"] == '{"name": "v2"}'
    assert invocation["returnPayload"] == "hello v2"


def test_without_task_mode_the_invocation_runs_but_is_no_task(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    request_id = new_id("r")
    reply = invoke_async(http, v3(emulator, "hello"), **{"x-fc-request-id": request_id})
    assert reply.status_code == 202
    assert "x-fc-async-task-id" not in reply.headers
    assert watcher.wait_for("hello", request_id) == "Succeeded"
    missing = http.get(f"{emulator.url}/2023-03-30/functions/hello/async-tasks/{request_id}")
    assert_v3_error(missing, 404, "AsyncTaskNotFound")


def test_delay_defers_the_run(emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher) -> None:
    task_id = new_id()
    invoke_async(http, v3(emulator, "hello"), **{"x-fc-async-task-id": task_id, "x-fc-async-delay": "2"})
    assert watcher.wait_for("hello", task_id) == "Succeeded"
    events = {event["status"]: event["timestamp"] for event in task_v3(http, emulator, "hello", task_id)["events"]}
    assert events["Dequeued"] - events["Enqueued"] >= 2000


def test_a_due_task_is_claimed_onto_a_free_warm_instance(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    warm = http.post(v3(emulator, "echo"), data=b"warm-up").headers["x-fc-instance-id"]
    task_id = new_id()
    invoke_async(http, v3(emulator, "echo"), b"deferred", **{"x-fc-async-task-id": task_id, "x-fc-async-delay": "1"})
    assert watcher.wait_for("echo", task_id) == "Succeeded"
    task = task_v3(http, emulator, "echo", task_id)
    assert statuses(task) == ["Enqueued", "Dequeued", "Running", "Succeeded"]
    assert task["instanceId"] == task["events"][2]["eventDetail"] == warm
    assert task["returnPayload"] == "deferred"
    # One script claimed it and marked it Running on the instance held for it.
    assert task["events"][1]["timestamp"] == task["events"][2]["timestamp"]


@pytest.mark.parametrize("delay", ["-1", "3601", "soon", "1.5"])
def test_a_bad_delay_is_refused(emulator: EmulatorProcess, http: requests.Session, delay: str) -> None:
    reply = invoke_async(http, v3(emulator, "hello"), **{"x-fc-async-delay": delay})
    body = assert_v3_error(reply, 400, "InvalidArgument")
    assert "x-fc-async-delay" in body["Message"] and "0 to 3600" in body["Message"]


def test_async_payload_limit(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = invoke_async(http, v3(emulator, "hello"), b"x" * (128 * 1024 + 1))
    assert_v3_error(reply, 400, "EntityTooLarge")


def test_async_unknown_function(emulator: EmulatorProcess, http: requests.Session) -> None:
    assert_v3_error(invoke_async(http, v3(emulator, "nope")), 404, "FunctionNotFound")


def test_duplicate_task_id_is_refused(emulator: EmulatorProcess, http: requests.Session) -> None:
    task_id = new_id()
    headers = {"x-fc-async-task-id": task_id, "x-fc-async-delay": "60"}
    assert invoke_async(http, v3(emulator, "hello"), **headers).status_code == 202
    assert_v3_error(invoke_async(http, v3(emulator, "hello"), **headers), 409, "AsyncTaskAlreadyExists")
    v2_headers = {"x-fc-stateful-async-invocation-id": task_id}
    assert_v2_error(invoke_async(http, v2(emulator, "hello"), **v2_headers), 409,
                    "StatefulAsyncInvocationAlreadyExists")


@pytest.mark.parametrize("task_id", ["9starts-with-digit", "has space", "x" * 129, "-dash"])
def test_an_invalid_task_id_is_refused(emulator: EmulatorProcess, http: requests.Session, task_id: str) -> None:
    reply = invoke_async(http, v3(emulator, "hello"), **{"x-fc-async-task-id": task_id})
    assert_v3_error(reply, 400, "InvalidArgument")


def test_function_errors_are_retried_then_fail(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    request_id = new_id("flaky")
    invoke_async(http, v3(emulator, "flaky"), b"boom", **{"x-fc-request-id": request_id})
    assert watcher.wait_for("flaky", request_id) == "Failed"
    task = task_v3(http, emulator, "flaky", request_id)
    assert statuses(task) == ["Enqueued"] + ["Dequeued", "Running", "Retrying"] * 2 + ["Dequeued", "Running", "Failed"]
    assert task["alreadyRetriedTimes"] == 2
    assert task["taskErrorMessage"] == "always fails (boom)"
    assert json.loads(task["returnPayload"])["errorType"] == "RuntimeError"


def test_timeouts_are_retried_then_fail(emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher) -> None:
    task_id = new_id()
    invoke_async(http, v3(emulator, "slow-async"), **{"x-fc-async-task-id": task_id})
    assert watcher.wait_for("slow-async", task_id) == "Failed"
    task = task_v3(http, emulator, "slow-async", task_id)
    assert task["alreadyRetriedTimes"] == 1
    assert task["taskErrorMessage"] == "Function timed out after 1 seconds"


def test_an_invocation_older_than_its_max_age_expires_unrun(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    task_id = new_id()
    invoke_async(http, v3(emulator, "short-lived"), **{"x-fc-async-task-id": task_id, "x-fc-async-delay": "2"})
    assert watcher.wait_for("short-lived", task_id) == "Expired"
    assert statuses(task_v3(http, emulator, "short-lived", task_id)) == ["Enqueued", "Expired"]


def test_stopping_a_queued_task_means_it_never_runs(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    task_id = new_id()
    invoke_async(http, v3(emulator, "hello"), **{"x-fc-async-task-id": task_id, "x-fc-async-delay": "3600"})
    stop_url = f"{emulator.url}/2023-03-30/functions/hello/async-tasks/{task_id}/stop"
    reply = http.put(stop_url)
    assert reply.status_code == 200
    assert reply.headers["x-fc-request-id"]
    assert watcher.wait_for("hello", task_id) == "Stopped"
    assert statuses(task_v3(http, emulator, "hello", task_id)) == ["Enqueued", "Stopped"]
    assert_v3_error(http.put(stop_url), 412, "AsyncTaskAlreadyCompleted")


def test_stopping_a_running_task_stops_its_instance(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher, docker_client: docker.DockerClient
) -> None:
    task_id = new_id()
    invoke_async(http, v2(emulator, "long-task"), **{"x-fc-stateful-async-invocation-id": task_id})
    watcher.wait_for("long-task", task_id, "Running")
    url = f"{emulator.url}/2016-08-15/services/default/functions/long-task/stateful-async-invocations/{task_id}"
    instance = http.get(url).json()["instanceId"]
    assert http.put(url).status_code == 200
    assert watcher.wait_for("long-task", task_id) == "Stopped"
    wait_until_gone(docker_client, instance)
    assert statuses(http.get(url).json()) == ["Enqueued", "Dequeued", "Running", "Stopping", "Stopped"]


def test_unknown_task(emulator: EmulatorProcess, http: requests.Session) -> None:
    assert_v3_error(http.get(f"{emulator.url}/2023-03-30/functions/hello/async-tasks/nope"), 404, "AsyncTaskNotFound")
    url = f"{emulator.url}/2016-08-15/services/default/functions/hello/stateful-async-invocations/nope"
    assert_v2_error(http.get(url), 404, "StatefulAsyncInvocationNotFound")
    assert_v2_error(http.put(url), 404, "StatefulAsyncInvocationNotFound")


def test_listing_filters_sorts_and_pages(emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher) -> None:
    prefix = new_id("list")
    done, queued = [f"{prefix}_done_{i}" for i in range(3)], [f"{prefix}_queued_{i}" for i in range(2)]
    for task_id in done:
        invoke_async(http, v3(emulator, "hello"), **{"x-fc-async-task-id": task_id})
    for task_id in queued:
        invoke_async(http, v3(emulator, "hello"), **{"x-fc-async-task-id": task_id, "x-fc-async-delay": "3600"})
    for task_id in done:
        watcher.wait_for("hello", task_id)
    url = f"{emulator.url}/2023-03-30/functions/hello/async-tasks"
    everything = http.get(url, params={"prefix": prefix, "limit": 100}).json()
    assert [task["taskId"] for task in everything["tasks"]] == done + queued
    assert "taskPayload" not in everything["tasks"][0]
    succeeded = http.get(url, params={"prefix": prefix, "status": "Succeeded"}).json()["tasks"]
    assert {task["taskId"] for task in succeeded} == set(done)
    first = http.get(url, params={"prefix": prefix, "limit": 2, "sortOrderByTime": "desc", "includePayload": "true"})
    page = first.json()
    assert [task["taskId"] for task in page["tasks"]] == [queued[1], queued[0]]
    assert page["tasks"][0]["taskPayload"] == "{}"
    rest = http.get(url, params={"prefix": prefix, "limit": 2, "sortOrderByTime": "desc", "nextToken": page["nextToken"]})
    assert [task["taskId"] for task in rest.json()["tasks"]] == [done[2], done[1]]
    v2_url = f"{emulator.url}/2016-08-15/services/default/functions/hello/stateful-async-invocations"
    v2_list = http.get(v2_url, params={"invocationIdPrefix": prefix, "status": "Enqueued"}).json()
    assert {item["invocationId"] for item in v2_list["invocations"]} == set(queued)
    assert_v3_error(http.get(url, params={"limit": 101}), 400, "InvalidArgument")
    assert_v3_error(http.get(url, params={"status": "Sleeping"}), 400, "InvalidArgument")
    for task_id in queued:
        http.put(f"{url}/{task_id}/stop")


def test_convert_file_runs_after_its_delay(emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher) -> None:
    task_id = new_id("upload")
    event = {"fileName": "sales.csv", "targetFormat": "json",
             "content": base64.b64encode(b"region,total\neast,3\n").decode()}
    reply = invoke_async(http, v3(emulator, "convert-file"), json.dumps(event).encode(),
                         **{"x-fc-async-task-id": task_id, "x-fc-async-delay": "1"})
    assert reply.status_code == 202
    assert watcher.wait_for("convert-file", task_id) == "Succeeded"
    task = task_v3(http, emulator, "convert-file", task_id)
    events = {event["status"]: event["timestamp"] for event in task["events"]}
    assert events["Dequeued"] - events["Enqueued"] >= 1000
    converted = json.loads(task["returnPayload"])
    assert converted["fileName"] == "sales.json"
    assert json.loads(base64.b64decode(converted["content"])) == [{"region": "east", "total": "3"}]
