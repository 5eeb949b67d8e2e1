"""What works for python and Node.js works for go1 and java11, against real containers of fcemu/runtime-go1 and
fcemu/runtime-java and one real `fcemu serve` (with its own Redis, so its timers reach no other test): FC 2.0's API,
an async task's delay, retries with the retry count in the context, destinations to a local MNS queue, a timer
trigger's event, FC 3.0's HTTP event, a role's credentials, the preStop hook when an idle instance is reclaimed, logs
kept per invocation, a published version invoked through an alias, and a Serverless Devs project mixing languages. The functions (tests/functions/go-parity,
java-parity) are built offline by scripts/build-functions.sh, as a user's are."""
from __future__ import annotations

import base64
import json
import queue
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import docker
import pytest
import requests

from tests.conftest import TEST_FUNCTIONS, owned_containers
from tests.support.credentials import FORGED, KEY_ID, SECRET, TOKEN
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import v2, v3
from tests.support.http_sink import HttpSink
from tests.support.log_watcher import LogWatcher
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import docker_bridge_gateway, wait_until, wait_until_gone

QUEUE_ARN = "acs:mns:cn-hangzhou:1234567890123456:/queues/{}/messages"
FUNCTIONS = ["go-parity", "java-parity"]
RUNTIME_WORD = {"go-parity": "go", "java-parity": "java"}


@dataclass
class Parity:
    emulator: EmulatorProcess
    redis: RedisServer
    sink: HttpSink  # on the Docker bridge's gateway, where containers reach the host as host.docker.internal

    def api(self, path: str) -> str:
        return f"{self.emulator.url}/2023-03-30/functions/{path}"


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient) -> Iterator[Parity]:
    root = tmp_path_factory.mktemp("compiled-parity")
    functions = root / "functions"
    for name in FUNCTIONS:
        shutil.copytree(TEST_FUNCTIONS / name, functions / name)
    subprocess.run(["bash", str(REPO / "scripts" / "build-functions.sh"), *(str(functions / name) for name in FUNCTIONS)],
                   check=True, stdout=subprocess.DEVNULL)
    redis_server = RedisServer(root / "redis").start()
    sink = HttpSink(host=docker_bridge_gateway()).start()
    emulator = EmulatorProcess(
        functions, root / "fcemu.log", redis_url=redis_server.url, idle_timeout_s="1", retry_base_delay_s="0.05",
        function_credentials_access_key_id=KEY_ID, function_credentials_access_key_secret=SECRET,
        function_credentials_security_token=TOKEN,
    ).start()
    try:
        yield Parity(emulator, redis_server, sink)
    finally:
        emulator.stop()
        sink.stop()
        redis_server.stop()
    assert owned_containers(docker_client, emulator.owner) == [], "the emulator left containers behind"


@pytest.fixture()
def watcher(parity: Parity) -> Iterator[TaskWatcher]:
    watching = TaskWatcher(parity.redis.url)
    yield watching
    watching.close()


def invoke(parity: Parity, function: str, event: object, **headers: str) -> requests.Response:
    return requests.post(v3(parity.emulator, function), data=json.dumps(event).encode(), headers=headers, timeout=60)


def invoke_task(parity: Parity, function: str, event: object, **headers: str) -> str:
    task_id = f"parity_{uuid.uuid4().hex[:12]}"
    reply = invoke(parity, function, event, **{"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id,
                                               **headers})
    assert reply.status_code == 202, reply.text
    return task_id


def task(parity: Parity, function: str, task_id: str) -> dict:
    return requests.get(parity.api(f"{function}/async-tasks/{task_id}"), timeout=30).json()


def receive(parity: Parity, queue_name: str) -> list[dict]:
    reply = requests.get(f"{parity.emulator.url}/_fcemu/mns/queues/{queue_name}/messages", timeout=30)
    assert reply.status_code == 200, reply.text
    return [json.loads(message["MessageBody"]) for message in reply.json()["Messages"]]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_both_api_versions_invoke_it_and_a_failure_is_fcs_unhandled_error(parity: Parity, function: str) -> None:
    echoed = requests.post(v2(parity.emulator, function), json={"n": 1}, timeout=60)
    assert echoed.status_code == 200 and echoed.json() == {"n": 1}, echoed.text
    failed = invoke(parity, function, {"do": "throw", "input": "order 9"})
    assert failed.status_code == 200 and failed.headers["x-fc-error-type"] == "UnhandledInvocationError"
    error = failed.json()
    assert error["errorMessage"] == f"{RUNTIME_WORD[function]} refuses: order 9" and error["errorType"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_delayed_task_retries_with_the_retry_count_and_destinations_get_the_records(
    parity: Parity, watcher: TaskWatcher, function: str
) -> None:
    successes, failures = f"ok-{uuid.uuid4().hex[:6]}", f"failed-{uuid.uuid4().hex[:6]}"
    config = parity.api(f"{function}/async-invoke-config")
    put = requests.put(config, timeout=30, json={"maxAsyncRetryAttempts": 1, "asyncTask": True, "destinationConfig": {
        "onSuccess": {"destination": QUEUE_ARN.format(successes)},
        "onFailure": {"destination": QUEUE_ARN.format(failures)}}})
    assert put.status_code == 200, put.text
    try:
        asked = time.monotonic()
        retried = invoke_task(parity, function, {"do": "fail-first"}, **{"x-fc-async-delay": "1"})
        bad = invoke_task(parity, function, {"do": "throw", "input": "order 2"})
        assert watcher.wait_for(function, retried, "DestinationSucceeded")
        waited = time.monotonic() - asked
        assert watcher.wait_for(function, bad, "DestinationSucceeded")
    finally:
        assert requests.delete(config, timeout=30).status_code == 204
    assert waited >= 1.0  # x-fc-async-delay
    record = task(parity, function, retried)
    assert record["status"] == "Succeeded" and json.loads(record["returnPayload"]) == {"retryCount": 1}
    assert task(parity, function, bad)["status"] == "Failed"

    [success] = receive(parity, successes)
    assert success["requestContext"]["functionArn"].endswith(f":functions/{function}")
    assert success["requestContext"]["approximateInvokeCount"] == 2
    assert json.loads(success["responsePayload"]) == {"retryCount": 1}
    [failure] = receive(parity, failures)
    assert failure["requestContext"]["condition"] == "UnhandledInvocationError"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert json.loads(failure["responsePayload"])["errorMessage"] == f"{RUNTIME_WORD[function]} refuses: order 2"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_timer_trigger_fires_and_the_handler_gets_fcs_timer_event(
    parity: Parity, watcher: TaskWatcher, function: str
) -> None:
    config = parity.api(f"{function}/async-invoke-config")
    assert requests.put(config, json={"asyncTask": True}, timeout=30).status_code == 200
    triggers = parity.api(f"{function}/triggers")
    timer = json.dumps({"cronExpression": "@every 1s", "enable": True, "payload": "from the timer"})
    try:
        created = requests.post(triggers, timeout=30, json={
            "triggerName": "tick", "triggerType": "timer", "triggerConfig": timer})
        assert created.status_code == 200, created.text
        watcher.wait_until(lambda: any(member.startswith(f"{function}/timer-tick-") and "Succeeded" in history
                                       for member, history in watcher.seen.items()))
    finally:
        requests.delete(f"{triggers}/tick", timeout=30)
        requests.delete(config, timeout=30)
    [member] = [member for member, history in watcher.seen.items()
                if member.startswith(f"{function}/timer-tick-") and "Succeeded" in history][:1]
    task_id = member.split("/", 1)[1]
    record = task(parity, function, task_id)
    assert record["status"] == "Succeeded", record
    slot = int(task_id.rsplit("-", 1)[1])
    assert json.loads(record["returnPayload"]) == {
        "triggerTime": datetime.fromtimestamp(slot, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "triggerName": "tick", "payload": "from the timer"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_an_http_trigger_gives_an_event_function_fc_3_s_event(parity: Parity, function: str) -> None:
    triggers = parity.api(f"{function}/triggers")
    created = requests.post(triggers, timeout=30, json={
        "triggerName": "web", "triggerType": "http",
        "triggerConfig": json.dumps({"authType": "anonymous", "methods": ["POST"]})})
    assert created.status_code == 200, created.text
    try:
        reply = requests.post(f"{parity.emulator.url}/http/{function}/orders?id=7", json={"n": 1}, timeout=60,
                              headers={"x-fc-request-id": f"{function}-web-1"})
    finally:
        requests.delete(f"{triggers}/web", timeout=30)
    assert reply.status_code == 200, reply.text
    event = reply.json()  # the function echoes the event it was given
    assert (event["version"], event["rawPath"], event["queryParameters"]) == ("v1", "/orders", {"id": "7"})
    assert json.loads(event["body"]) == {"n": 1}
    assert event["requestContext"]["requestId"] == f"{function}-web-1"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_role_gives_context_credentials_and_env_and_no_client_can_forge_them(parity: Parity, function: str) -> None:
    reply = invoke(parity, function, {"do": "credentials"}, **FORGED)
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    assert reply.json() == {"context": [KEY_ID, SECRET, TOKEN], "env": [KEY_ID, SECRET, TOKEN]}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_an_invocations_lines_are_kept_and_tailed(parity: Parity, function: str) -> None:
    word, mark = RUNTIME_WORD[function], uuid.uuid4().hex[:10]
    logs = LogWatcher(parity.redis.url)
    try:
        reply = invoke(parity, function, {"do": "log", "input": mark}, **{"x-fc-log-type": "Tail"})
        assert reply.status_code == 200 and reply.json() == {"logged": mark}, reply.text
        request_id = reply.headers["x-fc-request-id"]
        logs.wait_for_end(request_id)
    finally:
        logs.close()
    kept = requests.get(f"{parity.emulator.url}/_fcemu/logs", params={"requestId": request_id}, timeout=30)
    lines = [json.loads(line)["message"] for line in kept.text.splitlines()]
    assert lines[0] == f"FC Invoke Start RequestId: {request_id}", lines
    assert f"{word} says {mark}" in lines
    assert any(request_id in line and line.endswith(f"{word} logged {mark}") for line in lines), lines
    assert lines[-1] == f"FC Invoke End RequestId: {request_id}"
    assert f"{word} says {mark}" in base64.b64decode(reply.headers["x-fc-log-result"]).decode()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_published_version_answers_through_an_alias(parity: Parity, function: str) -> None:
    published = requests.post(parity.api(f"{function}/versions"), json={"description": "v1"}, timeout=30)
    assert published.status_code == 200, published.text
    version = published.json()["versionId"]
    alias = requests.post(parity.api(f"{function}/aliases"), json={"aliasName": "prod", "versionId": version},
                          timeout=30)
    assert alias.status_code == 200, alias.text
    try:
        reply = requests.post(v3(parity.emulator, function), params={"qualifier": "prod"}, json={"n": 2}, timeout=60)
        assert reply.status_code == 200 and reply.json() == {"n": 2}, reply.text
    finally:
        requests.delete(parity.api(f"{function}/aliases/prod"), timeout=30)
        requests.delete(parity.api(f"{function}/versions/{version}"), timeout=30)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_pre_stop_hook_runs_once_when_an_idle_instance_is_reclaimed(
    parity: Parity, docker_client: docker.DockerClient, function: str
) -> None:
    url = f"http://host.docker.internal:{parity.sink.port}/records"
    reply = invoke(parity, function, {"do": "remember-sink", "sink": url})
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    instance = reply.headers["x-fc-instance-id"]
    report = json.loads(parity.sink.next_body(timeout=60))
    assert report["what"] == "preStop" and report["instance"] == instance and report["function"] == function
    assert report["requestId"]
    parity.emulator.wait_for_log(f"preStop hook of {function} ran on instance {instance}")
    wait_until_gone(docker_client, instance)
    with pytest.raises(queue.Empty):
        parity.sink.received.get_nowait()


MIXED_PROJECT = """edition: 3.0.0
name: mixed
resources:
  go-fn:
    component: fc3
    props:
      functionName: tpl-go
      runtime: go1
      handler: main
      code: ./go-parity
  java-fn:
    component: fc3
    props:
      functionName: tpl-java
      runtime: java11
      handler: example.Parity::handleRequest
      memorySize: 256
      code: ./target/java-parity.jar
      provisionConfig:
        defaultTarget: 1
  python-fn:
    component: fc3
    props:
      functionName: tpl-python
      runtime: python3.10
      handler: index.handler
      code: ./python
"""


def test_a_serverless_devs_project_mixing_languages_runs_a_jar_kept_warm(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """An s.yaml whose Java function's code is the jar itself (unpacked as a zip, as FC does) and is pre-started by
    its provisionConfig (its JVM up before the first invoke), beside a go1 folder and a python one."""
    project = tmp_path / "project"
    for name in FUNCTIONS:
        shutil.copytree(TEST_FUNCTIONS / name, project / name)
    subprocess.run(["bash", str(REPO / "scripts" / "build-functions.sh"), *(str(project / name) for name in FUNCTIONS)],
                   check=True, stdout=subprocess.DEVNULL)
    (project / "target").mkdir()
    shutil.move(project / "java-parity" / "java-parity.jar", project / "target" / "java-parity.jar")
    (project / "python").mkdir()
    (project / "python" / "index.py").write_text("def handler(event, context):\n    return event\n")
    (project / "s.yaml").write_text(MIXED_PROJECT)
    emulator = EmulatorProcess(tmp_path / "none", tmp_path / "fcemu.log", redis_url=redis_server.url,
                               template=str(project / "s.yaml")).start()
    try:
        instances = f"{emulator.url}/2023-03-30/functions/tpl-java/instances"
        wait_until(lambda: len(requests.get(instances, timeout=30).json()["instances"]) == 1, timeout=60)
        for name in ("tpl-go", "tpl-java", "tpl-python"):
            reply = requests.post(v3(emulator, name), json={"from": name}, timeout=60)
            assert reply.status_code == 200 and reply.json() == {"from": name}, (name, reply.text)
    finally:
        emulator.stop()
