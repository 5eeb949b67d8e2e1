"""Function log lines kept per invocation: read back by request id and task id (route and CLI), followed live,
bounded, for python and nodejs, against a real `fcemu serve`, Docker and redis-server."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests

from emulator.redis_io.keys import LOG_INSTANCE_PREFIX, log_lines_key
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.log_watcher import LogWatcher
from tests.support.logs_command import cli
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher


@pytest.fixture()
def log_watcher(redis_server: RedisServer) -> Iterator[LogWatcher]:
    watcher = LogWatcher(redis_server.url)
    yield watcher
    watcher.close()


def marker() -> str:
    return f"m{uuid.uuid4().hex[:10]}"


def kept(http: requests.Session, emulator: EmulatorProcess, **query: str) -> list[dict[str, Any]]:
    reply = http.get(f"{emulator.url}/_fcemu/logs", params=query)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in reply.text.splitlines()]


def messages(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["message"] for entry in entries]


def test_a_sync_invocations_lines_are_kept_by_request_id(
    emulator: EmulatorProcess, http: requests.Session, log_watcher: LogWatcher
) -> None:
    mark = marker()
    reply = http.post(v3(emulator, "log-printer"), data=json.dumps({"marker": mark, "lines": 2}))
    assert reply.status_code == 200, reply.text
    request_id = reply.headers["x-fc-request-id"]
    log_watcher.wait_for_end(request_id)
    entries = kept(http, emulator, requestId=request_id)
    lines = messages(entries)
    assert lines[0] == f"FC Invoke Start RequestId: {request_id}"
    assert f"line 0 {mark}" in lines and f"line 1 {mark}" in lines
    # FC's logger line carries the request id itself.
    assert any(line.endswith(f"[INFO] logged {mark}") and request_id in line for line in lines)
    assert lines[-1] == f"FC Invoke End RequestId: {request_id}"
    assert {entry["functionName"] for entry in entries} == {"log-printer"}
    assert all(entry["timestamp"] > 0 and entry["instanceId"] for entry in entries)
    # The function's recent lines include them too, and the CLI prints them prefixed with function and request.
    assert f"line 0 {mark}" in messages(kept(http, emulator, function="log-printer"))
    out, err = cli(emulator, "--request-id", request_id).communicate(timeout=30)
    assert f"log-printer {request_id}: line 1 {mark}" in out.splitlines(), err


def test_an_async_tasks_lines_are_kept_by_task_and_request_id_with_its_traceback(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher, log_watcher: LogWatcher
) -> None:
    mark, task_id = marker(), f"t_{uuid.uuid4().hex[:12]}"
    reply = http.post(v3(emulator, "log-printer"), data=json.dumps({"marker": mark, "fail": True}),
                      headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
    assert reply.status_code == 202, reply.text
    request_id = reply.headers["x-fc-request-id"]
    assert watcher.wait_for("log-printer", task_id) == "Failed"
    log_watcher.wait_for_end(request_id)
    by_task = kept(http, emulator, function="log-printer", taskId=task_id)
    assert by_task == kept(http, emulator, requestId=request_id)
    assert {entry["taskId"] for entry in by_task} == {task_id}
    lines = messages(by_task)
    assert f"line 0 {mark}" in lines
    assert "Traceback (most recent call last):" in lines
    assert f"ValueError: failing on purpose {mark}" in lines
    assert lines[-1].startswith(f"FC Invoke End RequestId: {request_id}, Error: Unhandled function error")
    out, err = cli(emulator, "log-printer", "--task", task_id).communicate(timeout=30)
    assert f"log-printer {request_id}: ValueError: failing on purpose {mark}" in out.splitlines(), err


def test_a_nodejs_functions_lines_and_error_are_kept(
    emulator: EmulatorProcess, http: requests.Session, log_watcher: LogWatcher
) -> None:
    mark = marker()
    reply = http.post(v3(emulator, "node-logger"), data=json.dumps({"marker": mark, "fail": True}))
    assert reply.status_code == 200 and reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    request_id = reply.headers["x-fc-request-id"]
    log_watcher.wait_for_end(request_id)
    lines = messages(kept(http, emulator, requestId=request_id))
    assert any(line.endswith(f"node says {mark}") for line in lines)
    assert any(request_id in line and line.endswith(f"node logged {mark}") for line in lines)
    assert any(f"node failing on purpose {mark}" in line for line in lines)
    assert lines[-1].startswith(f"FC Invoke End RequestId: {request_id}")


def test_an_invocations_lines_are_bounded_with_a_truncation_marker(
    emulator: EmulatorProcess, http: requests.Session, log_watcher: LogWatcher
) -> None:
    mark = marker()
    reply = http.post(v3(emulator, "log-printer"), data=json.dumps({"marker": mark, "lines": 1500}))
    assert reply.status_code == 200, reply.text
    request_id = reply.headers["x-fc-request-id"]
    log_watcher.wait_for_end(request_id)
    lines = messages(kept(http, emulator, requestId=request_id))
    # 1,000 lines kept (the Start line among them), then the marker, then the End line.
    assert len(lines) == 1002
    assert lines[-2].startswith("[fcemu] log truncated")
    assert lines[-1] == f"FC Invoke End RequestId: {request_id}"
    assert f"line 998 {mark}" in lines and f"line 999 {mark}" not in lines


def test_forged_framing_lines_neither_escape_the_bound_nor_reach_another_invocation(
    emulator: EmulatorProcess, http: requests.Session, redis_server: RedisServer, log_watcher: LogWatcher
) -> None:
    victim = http.post(v3(emulator, "log-printer"), data=json.dumps({"marker": marker(), "lines": 1}))
    victim_id = victim.headers["x-fc-request-id"]
    log_watcher.wait_for_end(victim_id)
    victim_lines = messages(kept(http, emulator, requestId=victim_id))
    mark = marker()
    # A Start line for the other invocation, 1,500 End lines of its own, then 1,500 ordinary lines.
    forged = http.post(v3(emulator, "log-forger"),
                       data=json.dumps({"victim": victim_id, "ends": 1500, "lines": 1500, "marker": mark}))
    assert forged.status_code == 200, forged.text
    request_id, instance_id = forged.headers["x-fc-request-id"], forged.headers["x-fc-instance-id"]
    # The next invocation on the same instance: once its End line is kept, every line before it is too.
    after = http.post(v3(emulator, "log-forger"), data=json.dumps({}))
    assert after.headers["x-fc-instance-id"] == instance_id
    log_watcher.wait_for_end(after.headers["x-fc-request-id"])
    lines = messages(kept(http, emulator, requestId=request_id))
    # The bound holds: 1,000 lines, the first End line, the marker; the ordinary lines stay with the invocation.
    assert len(lines) <= 1002 and lines[-1].startswith("[fcemu] log truncated")
    assert lines[0] == f"FC Invoke Start RequestId: {request_id}"
    assert messages(kept(http, emulator, requestId=victim_id)) == victim_lines
    client = redis.Redis.from_url(redis_server.url)
    try:
        instance_lines = client.lrange(log_lines_key(LOG_INSTANCE_PREFIX + instance_id), 0, -1)
    finally:
        client.close()
    assert not [line for line in instance_lines if mark.encode() in line or request_id.encode() in line]


def test_follow_mode_shows_a_running_tasks_lines(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    follower = cli(emulator, "-f")
    try:
        assert follower.stdout is not None
        assert follower.stderr is not None
        # Said once the route has subscribed: no line printed after it is missed.
        assert follower.stderr.readline().startswith("following function logs")
        mark, task_id = marker(), f"t_{uuid.uuid4().hex[:12]}"
        reply = http.post(v3(emulator, "log-printer"), data=json.dumps({"marker": mark, "sleep": 25}),
                          headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
        assert reply.status_code == 202, reply.text
        request_id = reply.headers["x-fc-request-id"]
        for line in follower.stdout:
            if line.rstrip("\n") == f"log-printer {request_id}: working {mark}":
                break
        task = http.get(f"{emulator.url}/2023-03-30/functions/log-printer/async-tasks/{task_id}").json()
        assert task["status"] == "Running"  # the line came while the task ran, not after
        stop = http.put(f"{emulator.url}/2023-03-30/functions/log-printer/async-tasks/{task_id}/stop")
        assert stop.status_code == 200, stop.text
        assert watcher.wait_for("log-printer", task_id) == "Stopped"
    finally:
        follower.terminate()
        follower.communicate(timeout=30)


def test_task_id_without_function_is_refused_in_fcs_shape(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.get(f"{emulator.url}/_fcemu/logs", params={"taskId": "t_1"})
    assert reply.status_code == 400
    body = reply.json()
    assert body["Code"] == "InvalidArgument" and "function" in body["Message"] and body["RequestId"]


def test_an_http_trigger_invocations_lines_are_kept(
    emulator: EmulatorProcess, http: requests.Session, log_watcher: LogWatcher
) -> None:
    reply = http.get(f"{emulator.url}/2016-08-15/proxy/default.LATEST/web/boom")
    request_id = reply.headers["x-fc-request-id"]
    log_watcher.wait_for(request_id, "RuntimeError: boom")
    lines = messages(kept(http, emulator, requestId=request_id))
    assert "RuntimeError: boom" in lines
    assert {entry["functionName"] for entry in kept(http, emulator, requestId=request_id)} == {"web"}


def test_a_listing_larger_than_its_budget_keeps_the_newest_lines_and_says_so(
    emulator: EmulatorProcess, http: requests.Session, redis_server: RedisServer
) -> None:
    from emulator.logs.reader import ANSWER_MAX_BYTES, TRUNCATED_HEADER
    from emulator.redis_io.keys import log_function_index

    function = f"big-{uuid.uuid4().hex[:8]}"
    line_bytes = 60 * 1024
    streams = 2 * ANSWER_MAX_BYTES // (10 * line_bytes)  # twice the budget, ten lines a stream
    client = redis_server.client()
    try:
        for n in range(streams):
            stream = f"{function}-{n}"
            client.rpush(log_lines_key(stream), *[json.dumps({
                "timestamp": n * 100 + i, "functionName": function, "requestId": stream, "taskId": "",
                "instanceId": "i", "message": f"{stream}:{i}".ljust(line_bytes, ".")}) for i in range(10)])
            client.zadd(log_function_index(function), {stream: n * 100})
        reply = http.get(f"{emulator.url}/_fcemu/logs", params={"function": function, "recent": "1000"})
        assert reply.status_code == 200 and reply.headers.get(TRUNCATED_HEADER) == "true"
        assert len(reply.content) <= ANSWER_MAX_BYTES + 64 * 1024
        entries = [json.loads(line) for line in reply.text.splitlines()]
        assert entries[-1]["message"].startswith(f"{function}-{streams - 1}:9.")
        assert not any(entry["requestId"] == f"{function}-0" for entry in entries)
    finally:
        client.delete(log_function_index(function), *(log_lines_key(f"{function}-{n}") for n in range(streams)))
        client.close()
