"""Steering async work: re-run a finished task, fire a timer trigger now, and the CLI commands for them and for
stopping a task. Against a real redis-server, real Docker and `fcemu serve`, on a Redis and an emulator of this
module's own (it changes async configs)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import v3
from tests.support.http_sink import HttpSink
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher


@pytest.fixture(scope="module")
def steered(functions_dir: Path, tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer
            ) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(functions_dir, tmp_path_factory.mktemp("steer-logs") / "fcemu.log",
                              redis_url=module_redis.url).start()
    yield process
    process.stop()


@pytest.fixture()
def events(module_redis: RedisServer) -> Iterator[TaskWatcher]:
    watching = TaskWatcher(module_redis.url)
    yield watching
    watching.close()


def invoke_async(emulator: EmulatorProcess, function: str, task_id: str, payload: bytes, delay_s: int = 0) -> None:
    headers = {"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id}
    if delay_s:
        headers["x-fc-async-delay"] = str(delay_s)
    reply = requests.post(v3(emulator, function), data=payload, headers=headers, timeout=10)
    assert reply.status_code == 202, reply.text


def task(emulator: EmulatorProcess, function: str, task_id: str) -> dict:  # type: ignore[type-arg]
    reply = requests.get(f"{emulator.url}/2023-03-30/functions/{function}/async-tasks/{task_id}", timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def fcemu(emulator: EmulatorProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FCEMU_PORT": str(emulator.port)}
    return subprocess.run([sys.executable, "-m", "emulator", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_a_failed_task_reruns_with_an_edited_payload_and_the_current_destinations(
    steered: EmulatorProcess, events: TaskWatcher
) -> None:
    sink = HttpSink().start()
    try:
        config = f"{steered.url}/2023-03-30/functions/echo/async-invoke-config"
        reply = requests.put(config, timeout=10, json={"maxAsyncRetryAttempts": 0})
        assert reply.status_code == 200, reply.text
        failed = f"failing_{uuid.uuid4().hex[:6]}"
        invoke_async(steered, "echo", failed, b"fail please")
        assert events.wait_for("echo", failed) == "Failed"
        # The destination is set after the original ran: the re-run gets the function's config of now.
        reply = requests.put(config, timeout=10, json={
            "maxAsyncRetryAttempts": 0, "destinationConfig": {"onSuccess": {"destination": sink.url}}})
        assert reply.status_code == 200, reply.text

        rerun = requests.post(f"{steered.url}/_fcemu/tasks/echo/{failed}/rerun", json={"payload": "fixed"}, timeout=10)
        assert rerun.status_code == 202, rerun.text
        answer = rerun.json()
        assert answer["rerunOf"] == failed and answer["taskId"] != failed and answer["requestId"], answer
        assert events.wait_for("echo", answer["taskId"]) == "Succeeded"
        record = json.loads(sink.next_body())
        assert record["requestContext"]["requestId"] == answer["requestId"], record
        shown = task(steered, "echo", answer["taskId"])
        assert shown["returnPayload"] == "fixed"
        assert failed in shown["events"][0]["eventDetail"] and "edited" in shown["events"][0]["eventDetail"]
        assert task(steered, "echo", failed)["status"] == "Failed"  # the original stays as it was

        # Without a body: the same payload again, under the id asked for; that id cannot be taken twice.
        again_id = f"again_{uuid.uuid4().hex[:6]}"
        again = requests.post(f"{steered.url}/_fcemu/tasks/echo/{failed}/rerun", json={"taskId": again_id}, timeout=10)
        assert again.status_code == 202 and again.json()["taskId"] == again_id, again.text
        assert events.wait_for("echo", again_id) == "Failed"
        assert task(steered, "echo", again_id)["events"][0]["eventDetail"] == f"re-run of task {failed}"
        taken = requests.post(f"{steered.url}/_fcemu/tasks/echo/{failed}/rerun", json={"taskId": again_id}, timeout=10)
        assert taken.status_code == 409 and taken.json()["Code"] == "AsyncTaskAlreadyExists", taken.text
    finally:
        sink.stop()
        requests.put(f"{steered.url}/2023-03-30/functions/echo/async-invoke-config", timeout=10, json={})


def test_a_task_that_has_not_finished_is_not_rerun(steered: EmulatorProcess, events: TaskWatcher) -> None:
    waiting = f"waiting_{uuid.uuid4().hex[:6]}"
    invoke_async(steered, "echo", waiting, b"later", delay_s=3600)
    events.wait_for("echo", waiting, "Enqueued")
    refused = requests.post(f"{steered.url}/_fcemu/tasks/echo/{waiting}/rerun", timeout=10)
    assert refused.status_code == 400, refused.text
    error = refused.json()
    assert error["Code"] == "InvalidArgument" and "Enqueued" in error["Message"] and error["RequestId"], error
    running = f"running_{uuid.uuid4().hex[:6]}"
    reply = requests.post(v3(steered, "patient"), data=json.dumps({"sleep": 5}), timeout=10, headers={
        "x-fc-invocation-type": "Async", "x-fc-async-task-id": running})
    assert reply.status_code == 202, reply.text
    events.wait_for("patient", running, "Running")
    refused = requests.post(f"{steered.url}/_fcemu/tasks/patient/{running}/rerun", timeout=10)
    assert refused.status_code == 400 and "Running" in refused.json()["Message"], refused.text
    assert events.wait_for("patient", running) == "Succeeded"
    stopped = requests.put(f"{steered.url}/2023-03-30/functions/echo/async-tasks/{waiting}/stop", timeout=10)
    assert stopped.status_code == 200, stopped.text


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/_fcemu/tasks/echo/no-such-task/rerun", 404, "AsyncTaskNotFound"),
    ("/_fcemu/tasks/no-such-function/some-task/rerun", 404, "FunctionNotFound"),
    ("/_fcemu/triggers/echo/no-such-trigger/fire", 404, "TriggerNotFound"),
    ("/_fcemu/triggers/no-such-function/tick/fire", 404, "FunctionNotFound"),
])
def test_unknown_tasks_triggers_and_functions_are_fc_404s(
    steered: EmulatorProcess, path: str, status: int, code: str
) -> None:
    reply = requests.post(f"{steered.url}{path}", timeout=10)
    assert reply.status_code == status and reply.json()["Code"] == code, reply.text


@pytest.mark.parametrize("body", [
    {"payload": 5}, {"payload": "a", "payloadBase64": "YQ=="}, {"payloadBase64": "not base64!"}, {"taskId": "9bad"},
    {"taskId": "x" * 200}, {"payloadz": "a"}, [], "text",
])
def test_bad_rerun_bodies_are_refused(steered: EmulatorProcess, events: TaskWatcher, body: object) -> None:
    done = f"done_{uuid.uuid4().hex[:6]}"
    invoke_async(steered, "echo", done, b"ok")
    assert events.wait_for("echo", done) == "Succeeded"
    reply = requests.post(f"{steered.url}/_fcemu/tasks/echo/{done}/rerun", json=body, timeout=10)
    assert reply.status_code == 400 and reply.json()["Code"] == "InvalidArgument", reply.text


def test_an_http_task_replays_its_request_and_its_payload_cannot_be_edited(
    steered: EmulatorProcess, events: TaskWatcher
) -> None:
    original = f"web_{uuid.uuid4().hex[:6]}"
    reply = requests.post(f"{steered.url}/http/web/later?n=5", data=b"queued body", timeout=10, headers={
        "x-fc-invocation-type": "Async", "x-fc-async-task-id": original})
    assert reply.status_code == 202, reply.text
    assert events.wait_for("web", original) == "Succeeded"
    edited = requests.post(f"{steered.url}/_fcemu/tasks/web/{original}/rerun", json={"payload": "x"}, timeout=10)
    assert edited.status_code == 400 and "HTTP request" in edited.json()["Message"], edited.text
    replay = requests.post(f"{steered.url}/_fcemu/tasks/web/{original}/rerun", timeout=10)
    assert replay.status_code == 202, replay.text
    assert events.wait_for("web", replay.json()["taskId"]) == "Succeeded"
    answer = json.loads(task(steered, "web", replay.json()["taskId"])["returnPayload"])
    served = json.loads(answer["body"])
    assert (served["method"], served["path"], served["query"], served["body"]) == ("POST", "/later", "n=5",
                                                                                   "queued body")


def test_a_timer_trigger_fires_now_even_disabled_and_only_timers_fire(
    steered: EmulatorProcess, events: TaskWatcher
) -> None:
    name = f"yearly{uuid.uuid4().hex[:6]}"
    config = {"cronExpression": "0 0 0 1 1 *", "payload": "by hand", "enable": False}
    reply = requests.post(f"{steered.url}/2023-03-30/functions/echo/triggers", timeout=10, json={
        "triggerName": name, "triggerType": "timer", "triggerConfig": json.dumps(config)})
    assert reply.status_code == 200, reply.text
    try:
        fired = requests.post(f"{steered.url}/_fcemu/triggers/echo/{name}/fire", timeout=10)
        assert fired.status_code == 202, fired.text
        task_id = fired.json()["taskId"]
        assert events.wait_for("echo", task_id) == "Succeeded"
        shown = task(steered, "echo", task_id)
        event = json.loads(shown["returnPayload"])
        assert event["triggerName"] == name and event["payload"] == "by hand" and event["triggerTime"], event
        assert "fired by hand" in shown["events"][0]["eventDetail"]
    finally:
        requests.delete(f"{steered.url}/2023-03-30/functions/echo/triggers/{name}", timeout=10)
    http = requests.post(f"{steered.url}/_fcemu/triggers/web/web-http/fire", timeout=10)
    assert http.status_code == 400 and http.json()["Code"] == "InvalidArgument", http.text
    assert "only timer" in http.json()["Message"]


def test_the_cli_reruns_stops_and_fires(steered: EmulatorProcess, events: TaskWatcher) -> None:
    failed = f"clifail_{uuid.uuid4().hex[:6]}"
    requests.put(f"{steered.url}/2023-03-30/functions/flaky/async-invoke-config", timeout=10,
                 json={"maxAsyncRetryAttempts": 0})
    invoke_async(steered, "flaky", failed, b"x")
    assert events.wait_for("flaky", failed) == "Failed"
    done = fcemu(steered, "task", "rerun", "flaky", failed, "--payload", "edited")
    assert done.returncode == 0, done.stderr
    new_id = done.stdout.split()[1]
    assert events.wait_for("flaky", new_id) == "Failed"
    assert "always fails (edited)" in task(steered, "flaky", new_id)["returnPayload"]
    refused = fcemu(steered, "task", "rerun", "flaky", "no-such-task")
    assert refused.returncode == 2 and "does not exist" in refused.stderr, refused.stderr

    waiting = f"clistop_{uuid.uuid4().hex[:6]}"
    invoke_async(steered, "echo", waiting, b"later", delay_s=3600)
    events.wait_for("echo", waiting, "Enqueued")
    stopped = fcemu(steered, "task", "stop", "echo", waiting)
    assert stopped.returncode == 0, stopped.stderr
    assert events.wait_for("echo", waiting) == "Stopped"
    again = fcemu(steered, "task", "stop", "echo", waiting)
    assert again.returncode == 2 and "completed" in again.stderr, again.stderr

    name = f"cli{uuid.uuid4().hex[:6]}"
    requests.post(f"{steered.url}/2023-03-30/functions/echo/triggers", timeout=10, json={
        "triggerName": name, "triggerType": "timer", "triggerConfig": json.dumps({"cronExpression": "0 0 0 1 1 *"})})
    try:
        fired = fcemu(steered, "trigger", "fire", "echo", name)
        assert fired.returncode == 0, fired.stderr
        assert events.wait_for("echo", fired.stdout.split()[-1]) == "Succeeded"
    finally:
        requests.delete(f"{steered.url}/2023-03-30/functions/echo/triggers/{name}", timeout=10)
    not_timer = fcemu(steered, "trigger", "fire", "web", "web-http")
    assert not_timer.returncode == 2 and "only timer" in not_timer.stderr, not_timer.stderr


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"payload": "\\ud800"}', b'{"payload": '])
def test_rerun_bodies_the_parser_cannot_read_are_fc_400s(
    steered: EmulatorProcess, events: TaskWatcher, raw: bytes
) -> None:
    done = f"done_{uuid.uuid4().hex[:6]}"
    invoke_async(steered, "echo", done, b"ok")
    assert events.wait_for("echo", done) == "Succeeded"
    reply = requests.post(f"{steered.url}/_fcemu/tasks/echo/{done}/rerun", data=raw, timeout=10,
                          headers={"content-type": "application/json"})
    assert reply.status_code == 400 and reply.json()["Code"] == "InvalidArgument", reply.text
