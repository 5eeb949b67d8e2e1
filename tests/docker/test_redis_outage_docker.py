"""Redis killed (kill -9) under a running emulator: every route that needs Redis answers FC's 503 in its API
version's shape, the outage is logged once and without a trace, sync invokes go on, and when Redis is back
(same port, same AOF) everything resumes by itself: the API's connections, the dispatcher's loops and every
pub/sub listener."""
from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path

import docker
import requests

from tests.conftest import owned_containers
from tests.support.container_output import output_until
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error, code_saying
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import wait_until

V3 = "/2023-03-30/functions/hello"
V2 = "/2016-08-15/services/default/functions/hello"
ASYNC = {"x-fc-invocation-type": "Async"}
# Every channel a `fcemu serve` process listens on: the dispatcher's, the deliverer's and the three caches'.
CHANNELS = ("fcemu:wake", "fcemu:stop", "fcemu:deliver", "fcemu:async-configs-changed",
            "fcemu:deployments-changed", "fcemu:triggers-changed")
OUTAGE_LINE = "Redis is unavailable"
BACK_LINE = "Redis is available again"


def requests_that_need_redis() -> list[tuple[str, str, dict[str, str], object]]:
    """(method, path, headers, JSON body or raw bytes) of routes that read or write Redis."""
    new_function = {"functionName": f"fresh-{uuid.uuid4().hex[:6]}", "runtime": "python3.10",
                    "handler": "main.handler", "code": {"zipFile": base64.b64encode(code_saying("hi")).decode()}}
    return [
        ("POST", f"{V3}/invocations", ASYNC, b"{}"),
        ("POST", f"{V2}/invocations", ASYNC, b"{}"),
        ("POST", f"{V3}/invocations", {**ASYNC, "x-fc-async-task-id": "during-outage"}, b"{}"),
        ("GET", f"{V3}/async-tasks/some-task", {}, None),
        ("GET", f"{V3}/async-tasks", {}, None),
        ("PUT", f"{V3}/async-tasks/some-task/stop", {}, None),
        ("GET", f"{V2}/stateful-async-invocations/some-task", {}, None),
        ("PUT", f"{V3}/async-invoke-config", {}, {"maxAsyncRetryAttempts": 1}),
        ("PUT", f"{V2}/async-invoke-config", {}, {"maxAsyncRetryAttempts": 1}),
        ("POST", "/2023-03-30/functions", {}, new_function),
    ]


def send(http: requests.Session, emulator: EmulatorProcess, method: str, path: str, headers: dict[str, str],
         body: object) -> requests.Response:
    if isinstance(body, bytes) or body is None:
        return http.request(method, emulator.url + path, headers=headers, data=body, timeout=30)
    return http.request(method, emulator.url + path, headers=headers, json=body, timeout=30)


def test_redis_down_is_a_503_and_everything_resumes_when_it_is_back(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    http = requests.Session()
    try:
        watcher = TaskWatcher(own_redis.url)
        before = f"before_{uuid.uuid4().hex[:6]}"
        reply = http.post(f"{emulator.url}{V3}/invocations", headers={**ASYNC, "x-fc-async-task-id": before})
        assert reply.status_code == 202, reply.text
        assert watcher.wait_for("hello", before) == "Succeeded"
        watcher.close()

        own_redis.kill()
        for _ in range(3):  # repeated: the outage is still logged once
            for method, path, headers, body in requests_that_need_redis():
                reply = send(http, emulator, method, path, headers, body)
                check = assert_v2_error if path.startswith("/2016-08-15") else assert_v3_error
                message = check(reply, 503, "ServiceUnavailable")
                assert "Redis is unavailable" in str(message), (method, path, reply.text)
        # What needs no Redis goes on: a sync invoke goes straight to the pool; listings come from memory.
        sync = http.post(f"{emulator.url}{V3}/invocations", data=b"{}", timeout=60)
        assert sync.status_code == 200 and sync.text == "hello world", sync.text
        # Its log lines cannot be kept: dropped, said in the emulator's log, the invoke unaffected.
        emulator.wait_for_log("function log lines are dropped while Redis does not take them")
        assert http.get(f"{emulator.url}/2023-03-30/functions", timeout=30).status_code == 200

        lines = emulator.log_lines
        own_redis.start()  # the same port and folder: the AOF brings the queue back
        emulator.wait_for_log(BACK_LINE, after=lines)
        with own_redis.client() as client:
            # The listeners' pub/sub connections died with Redis: each must have subscribed again by itself.
            wait_until(lambda: all(count == 1 for _, count in client.pubsub_numsub(*CHANNELS)))
        watcher = TaskWatcher(own_redis.url)
        try:
            after = f"after_{uuid.uuid4().hex[:6]}"
            reply = http.post(f"{emulator.url}{V3}/invocations", headers={**ASYNC, "x-fc-async-task-id": after})
            assert reply.status_code == 202, reply.text
            assert watcher.wait_for("hello", after) == "Succeeded"
        finally:
            watcher.close()
        emulator.wait_for_log("function log lines are kept again")
        kept = http.get(f"{emulator.url}{V3}/async-tasks/{before}", timeout=30)
        assert kept.status_code == 200 and kept.json()["status"] == "Succeeded", kept.text
        configured = send(http, emulator, "PUT", f"{V3}/async-invoke-config", {}, {"maxAsyncRetryAttempts": 1})
        assert configured.status_code == 200, configured.text
    finally:
        http.close()
        emulator.stop()
    log = emulator.log_path.read_text()
    assert log.count(OUTAGE_LINE) == 1, log
    assert log.count(BACK_LINE) == 1, log
    assert "Traceback" not in log, log
    assert owned_containers(docker_client, emulator.owner) == []


def test_a_task_that_ends_during_an_outage_is_recorded_once_redis_is_back(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    """The function returns while Redis is down, and the outage outlasts the task's lease: its outcome is
    recorded when Redis is back and it does not run a second time (its slot waits, its lease beats first)."""
    emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url, lease_s="2").start()
    http = requests.Session()
    task_id = f"across_{uuid.uuid4().hex[:6]}"
    try:
        watcher = TaskWatcher(own_redis.url)
        reply = http.post(f"{emulator.url}/2023-03-30/functions/patient/invocations", data=b'{"sleep": 1}',
                          headers={**ASYNC, "x-fc-async-task-id": task_id, "x-fc-request-id": task_id})
        assert reply.status_code == 202, reply.text
        assert watcher.wait_for("patient", task_id, "Running") == "Running"
        watcher.close()
        container = docker_client.containers.list(
            filters={"label": [f"fcemu.owner={emulator.owner}", "fcemu.function=patient"]})[0]
        own_redis.kill()
        # The function ends during the outage (its agent frames the end in the container's log) ...
        output_until(container, f"FC Invoke End RequestId: {task_id}")
        # ... which then lasts longer than the lease: the scenario, not a wait for something to happen.
        time.sleep(3)
        own_redis.start()

        def finished() -> bool:
            answer = http.get(f"{emulator.url}/2023-03-30/functions/patient/async-tasks/{task_id}", timeout=30)
            return answer.status_code == 200 and answer.json()["status"] in {"Succeeded", "Failed"}

        wait_until(finished, timeout=60)  # its Succeeded was published before anything here could subscribe
        task = http.get(f"{emulator.url}/2023-03-30/functions/patient/async-tasks/{task_id}", timeout=30).json()
        statuses = [event["status"] for event in task["events"]]
        assert task["status"] == "Succeeded", task
        assert statuses.count("Running") == 1, statuses
    finally:
        http.close()
        emulator.stop()
    assert "Traceback" not in emulator.log_path.read_text()
    assert owned_containers(docker_client, emulator.owner) == []
