"""What works for python works for Node.js, against real containers of fcemu/runtime-nodejs and one real
`fcemu serve` (with its own Redis, so its timer and deployed functions reach no other test): destinations to a local
MNS queue, a timer trigger's event, hot reload, the preStop hook when an idle instance is reclaimed, a role's
credentials, and an FC 3.0 function deployed through the 2023-03-30 API whose HTTP trigger gets FC 3.0's event."""
from __future__ import annotations

import base64
import json
import queue
import shutil
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import docker
import pytest
import requests

from tests.conftest import TEST_FUNCTIONS, owned_containers
from tests.support.credentials import FORGED, KEY_ID, ROLE, SECRET, TOKEN
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import v3, zipped
from tests.support.http_sink import HttpSink
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import docker_bridge_gateway, wait_until_gone

QUEUE_ARN = "acs:mns:cn-hangzhou:1234567890123456:/queues/{}/messages"
FUNCTION = "node-parity"


@dataclass
class Parity:
    emulator: EmulatorProcess
    redis: RedisServer
    functions: Path
    sink: HttpSink  # on the Docker bridge's gateway, where containers reach the host as host.docker.internal

    def api(self, path: str) -> str:
        return f"{self.emulator.url}/2023-03-30/functions/{path}"


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient) -> Iterator[Parity]:
    root = tmp_path_factory.mktemp("node-parity")
    functions = root / "functions"
    # Copies: the hot reload test edits its function's code.
    shutil.copytree(TEST_FUNCTIONS / FUNCTION, functions / FUNCTION)
    shutil.copytree(REPO / "functions" / "hello-node", functions / "hello-node")
    redis_server = RedisServer(root / "redis").start()
    sink = HttpSink(host=docker_bridge_gateway()).start()
    emulator = EmulatorProcess(
        functions, root / "fcemu.log", redis_url=redis_server.url, idle_timeout_s="1", retry_base_delay_s="0.05",
        function_credentials_access_key_id=KEY_ID, function_credentials_access_key_secret=SECRET,
        function_credentials_security_token=TOKEN,
    ).start()
    try:
        yield Parity(emulator, redis_server, functions, sink)
    finally:
        emulator.stop()
        sink.stop()
        redis_server.stop()
    assert owned_containers(docker_client, emulator.owner) == [], "the emulator left containers behind"
    log = emulator.log_path.read_text()
    assert SECRET not in log and TOKEN not in log, "a secret reached the emulator's log"


@pytest.fixture()
def watcher(parity: Parity) -> Iterator[TaskWatcher]:
    watching = TaskWatcher(parity.redis.url)
    yield watching
    watching.close()


def invoke(parity: Parity, function: str, event: object, **headers: str) -> requests.Response:
    return requests.post(v3(parity.emulator, function), data=json.dumps(event).encode(), headers=headers, timeout=30)


def invoke_task(parity: Parity, event: object) -> str:
    task_id = f"node_{uuid.uuid4().hex[:12]}"
    reply = invoke(parity, FUNCTION, event, **{"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
    assert reply.status_code == 202, reply.text
    return task_id


def task(parity: Parity, task_id: str) -> dict:
    return requests.get(parity.api(f"{FUNCTION}/async-tasks/{task_id}"), timeout=30).json()


def receive(parity: Parity, queue_name: str) -> list[dict]:
    reply = requests.get(f"{parity.emulator.url}/_fcemu/mns/queues/{queue_name}/messages", timeout=30)
    assert reply.status_code == 200, reply.text
    return [json.loads(message["MessageBody"]) for message in reply.json()["Messages"]]


def test_destinations_receive_the_success_and_failure_records(parity: Parity, watcher: TaskWatcher) -> None:
    successes, failures = f"node-ok-{uuid.uuid4().hex[:6]}", f"node-failed-{uuid.uuid4().hex[:6]}"
    config = parity.api(f"{FUNCTION}/async-invoke-config")
    put = requests.put(config, timeout=30, json={"maxAsyncRetryAttempts": 0, "destinationConfig": {
        "onSuccess": {"destination": QUEUE_ARN.format(successes)},
        "onFailure": {"destination": QUEUE_ARN.format(failures)}}})
    assert put.status_code == 200, put.text
    try:
        good = invoke_task(parity, {"order": 1})
        bad = invoke_task(parity, {"do": "throw", "input": "order 2"})
        assert watcher.wait_for(FUNCTION, good, "DestinationSucceeded")
        assert watcher.wait_for(FUNCTION, bad, "DestinationSucceeded")
    finally:
        assert requests.delete(config, timeout=30).status_code == 204
    assert task(parity, good)["status"] == "Succeeded" and task(parity, bad)["status"] == "Failed"

    [success] = receive(parity, successes)
    assert success["requestContext"]["condition"] == ""
    assert success["requestContext"]["functionArn"].endswith(f":functions/{FUNCTION}")
    assert json.loads(success["requestPayload"]) == {"order": 1}
    assert json.loads(success["responsePayload"]) == {"order": 1}
    assert success["responseContext"] == {"statusCode": 200, "functionError": ""}

    [failure] = receive(parity, failures)
    assert failure["requestContext"]["condition"] == "UnhandledInvocationError"
    assert failure["requestContext"]["approximateInvokeCount"] == 1
    assert failure["responseContext"]["functionError"] == "UnhandledInvocationError"
    error = json.loads(failure["responsePayload"])
    assert error["errorMessage"] == "node refuses: order 2" and error["errorType"] == "Error"


def test_a_timer_trigger_fires_and_the_handler_gets_fc_s_timer_event(parity: Parity, watcher: TaskWatcher) -> None:
    # Task mode, so the firing is readable through the async task API.
    config = parity.api(f"{FUNCTION}/async-invoke-config")
    assert requests.put(config, json={"asyncTask": True}, timeout=30).status_code == 200
    triggers = parity.api(f"{FUNCTION}/triggers")
    timer = json.dumps({"cronExpression": "@every 1s", "enable": True, "payload": "from the timer"})
    try:
        created = requests.post(triggers, timeout=30, json={
            "triggerName": "tick", "triggerType": "timer", "triggerConfig": timer})
        assert created.status_code == 200, created.text
        watcher.wait_for_count({"Succeeded"}, 1, timeout=60)
    finally:
        requests.delete(f"{triggers}/tick", timeout=30)
        requests.delete(config, timeout=30)
    [member] = [member for member, history in watcher.seen.items() if "Succeeded" in history][:1]
    function, task_id = member.split("/", 1)
    assert function == FUNCTION and task_id.startswith("timer-tick-")
    record = task(parity, task_id)
    assert record["status"] == "Succeeded", record
    slot = int(task_id.rsplit("-", 1)[1])
    # The handler answers with the event it was given.
    assert json.loads(record["returnPayload"]) == {
        "triggerTime": datetime.fromtimestamp(slot, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "triggerName": "tick", "payload": "from the timer"}


def test_edited_code_is_picked_up(parity: Parity) -> None:
    emulator = parity.emulator
    before = invoke(parity, "hello-node", {"name": "v1"})
    assert before.content == b"hello v1"
    mark = emulator.log_lines
    code = parity.functions / "hello-node" / "index.js"
    code.write_text(code.read_text().replace("`hello ${name}`", "`howdy ${name}`"))
    emulator.wait_for_log("reloaded functions: hello-node", after=mark)
    after = invoke(parity, "hello-node", {"name": "v2"})
    assert after.content == b"howdy v2"
    assert after.headers["x-fc-instance-id"] != before.headers["x-fc-instance-id"]


def test_the_pre_stop_hook_runs_once_when_an_idle_instance_is_reclaimed(
    parity: Parity, docker_client: docker.DockerClient
) -> None:
    url = f"http://host.docker.internal:{parity.sink.port}/records"
    reply = invoke(parity, FUNCTION, {"do": "remember-sink", "sink": url})
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    instance = reply.headers["x-fc-instance-id"]
    report = json.loads(parity.sink.next_body(timeout=60))
    assert report["what"] == "preStop" and report["instance"] == instance and report["function"] == FUNCTION
    assert report["requestId"]
    parity.emulator.wait_for_log(f"preStop hook of {FUNCTION} ran on instance {instance}")
    wait_until_gone(docker_client, instance)
    with pytest.raises(queue.Empty):
        parity.sink.received.get_nowait()


def test_a_role_gives_context_credentials_and_env_and_no_client_can_forge_them(
    parity: Parity, watcher: TaskWatcher
) -> None:
    expected = {"context": [KEY_ID, SECRET, TOKEN], "env": [KEY_ID, SECRET, TOKEN]}
    reply = invoke(parity, FUNCTION, {"do": "credentials"}, **FORGED)
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    assert reply.json() == expected
    task_id = f"creds_{uuid.uuid4().hex[:10]}"
    queued = invoke(parity, FUNCTION, {"do": "credentials"},
                    **{**FORGED, "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
    assert queued.status_code == 202, queued.text
    assert watcher.wait_for(FUNCTION, task_id) == "Succeeded"
    assert json.loads(task(parity, task_id)["returnPayload"]) == expected


EVENT_HANDLER = textwrap.dedent('''
    'use strict';
    exports.handler = async (event, context) => {
      const request = JSON.parse(event.toString());
      const { accessKeyId, securityToken } = context.credentials;
      return {
        statusCode: 201,
        headers: { 'Content-Type': 'application/json', 'X-Runtime': process.env.FC_RUNTIME },
        body: JSON.stringify({ event: request, credentials: [accessKeyId, securityToken] }),
      };
    };
''')


def test_a_function_deployed_through_the_2023_api_with_an_http_trigger_gets_fc_3_s_event(parity: Parity) -> None:
    name = f"node-deployed-{uuid.uuid4().hex[:6]}"
    created = requests.post(f"{parity.emulator.url}/2023-03-30/functions", timeout=60, json={
        "functionName": name, "runtime": "nodejs20", "handler": "index.handler", "memorySize": 128, "role": ROLE,
        "code": {"zipFile": base64.b64encode(zipped({"index.js": EVENT_HANDLER})).decode()},
    })
    assert created.status_code == 200, created.text
    try:
        trigger = requests.post(parity.api(f"{name}/triggers"), timeout=30, json={
            "triggerName": "web", "triggerType": "http",
            "triggerConfig": json.dumps({"authType": "anonymous", "methods": ["GET", "POST"]})})
        assert trigger.status_code == 200, trigger.text
        reply = requests.post(f"{parity.emulator.url}/http/{name}/orders?id=7&id=8", json={"n": 1}, timeout=30,
                              headers={**FORGED, "x-fc-request-id": "node-deployed-1", "User-Agent": "parity/1"})
        assert reply.status_code == 201, reply.text
        assert reply.headers["x-runtime"] == "nodejs20"
        answer = reply.json()
        assert answer["credentials"] == [KEY_ID, TOKEN], "the role's, not the client's"
        event = answer["event"]
        assert set(event) == {"version", "rawPath", "body", "isBase64Encoded", "headers", "queryParameters",
                              "requestContext"}
        assert event["version"] == "v1"
        assert (event["rawPath"], event["queryParameters"]) == ("/orders", {"id": "7,8"})
        assert json.loads(event["body"]) == {"n": 1} and event["isBase64Encoded"] is False
        assert event["headers"]["User-Agent"] == "parity/1"
        assert not [header for header in event["headers"] if header.lower().startswith("x-fc-")]
        context = event["requestContext"]
        assert context["requestId"] == "node-deployed-1" and context["domainPrefix"] == name
        assert context["http"]["method"] == "POST" and context["http"]["path"] == "/orders"
    finally:
        assert requests.delete(parity.api(name), timeout=30).status_code == 204


def test_the_pre_stop_hook_runs_when_hot_reload_drains_the_instance_and_at_shutdown(
    parity: Parity, tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    # An emulator of its own with the default idle timeout, so only the drain and the shutdown reclaim.
    functions = tmp_path / "functions"
    shutil.copytree(TEST_FUNCTIONS / FUNCTION, functions / FUNCTION)
    emulator = EmulatorProcess(functions, tmp_path / "fcemu.log", redis_url=parity.redis.url,
                               dispatcher_enabled="false").start()
    remember = {"do": "remember-sink", "sink": f"http://host.docker.internal:{parity.sink.port}/records"}
    try:
        old = requests.post(v3(emulator, FUNCTION), json=remember, timeout=30).headers["x-fc-instance-id"]
        mark = emulator.log_lines
        code = functions / FUNCTION / "index.js"
        code.write_text(code.read_text() + "// edited\n")
        emulator.wait_for_log(f"reloaded functions: {FUNCTION}", after=mark)
        assert json.loads(parity.sink.next_body(timeout=60))["instance"] == old
        wait_until_gone(docker_client, old)
        new = requests.post(v3(emulator, FUNCTION), json=remember, timeout=30).headers["x-fc-instance-id"]
        assert new != old
        with pytest.raises(queue.Empty):
            parity.sink.received.get_nowait()
    finally:
        emulator.stop()
    assert json.loads(parity.sink.next_body(timeout=60))["instance"] == new
    with pytest.raises(queue.Empty):
        parity.sink.received.get_nowait()
    assert owned_containers(docker_client, emulator.owner) == []
