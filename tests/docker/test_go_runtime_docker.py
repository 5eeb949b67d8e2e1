"""The go1 runtime end to end: binaries built in this run with fc-runtime-go-sdk (tests/functions/go-*), deployed
as zips through FC's API, run by fcemu/runtime-go1's agent in real containers: invocations with the request id and
the log tail, every handler shape the SDK accepts, fccontext as FC fills it, errors and panics in FC's shape, the
initializer and preStop hooks, a delayed async task in task mode."""
from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from darabonba.runtime import RuntimeOptions

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.go_functions import binary_zip, deploy_go, remove_deployed
from tests.support.task_watcher import TaskWatcher


@pytest.fixture(scope="module", autouse=True)
def _leaves_no_function_behind(emulator: EmulatorProcess) -> Iterator[None]:
    yield
    remove_deployed(emulator.url)

def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def tail(reply: requests.Response) -> list[str]:
    return base64.b64decode(reply.headers["x-fc-log-result"]).decode().splitlines()


def function_error(reply: requests.Response) -> dict:
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError", reply.text
    return reply.json()


@pytest.fixture(scope="module")
def hello(fc3_client: FC3Client, go_binaries: dict[str, Path]) -> str:
    """go-noop: the SDK README's struct handler with context.Context."""
    return deploy_go(fc3_client, go_binaries["go-noop"], unique("go-hello"))


def test_a_sync_invoke_answers_with_the_request_id_and_the_log_tail(
    emulator: EmulatorProcess, http: requests.Session, fc3_client: FC3Client, hello: str
) -> None:
    sdk = fc3_client.invoke_function(hello, fc3_models.InvokeFunctionRequest(body=b'{"key": "sdk"}'))
    assert sdk.body.read() == b'"hello, sdk!"'

    request_id = f"go-{uuid.uuid4().hex[:8]}"
    reply = http.post(v3(emulator, hello), data=b'{"key": "world"}',
                      headers={"x-fc-request-id": request_id, "x-fc-log-type": "Tail"})
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers
    assert reply.content == b'"hello, world!"'
    assert reply.headers["x-fc-request-id"] == request_id
    lines = tail(reply)
    assert lines[0] == f"FC Invoke Start RequestId: {request_id}"
    # fccontext's logger: `<UTC time> <request id> [INFO] <file:line>: <message>`.
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT[\d:.]+Z {request_id} \[INFO\] main\.go:\d+: function {hello} request "
                        rf"{request_id}", lines[1]), lines
    assert lines[2:] == [f"FC Invoke End RequestId: {request_id}"]


def test_the_fc2_sdk_deploys_and_invokes_a_go_binary(fc2_client: fc2.Client, go_binaries: dict[str, Path],
                                                     tmp_path: Path) -> None:
    service = unique("go-svc")
    code = tmp_path / "code.zip"
    code.write_bytes(binary_zip(go_binaries["go-noop"], "bootstrap-go"))
    fc2_client.create_service(service)
    created = fc2_client.create_function(service, "greeter", "go1", "bootstrap-go", codeZipFile=str(code))
    assert created.data["runtime"] == "go1"
    assert fc2_client.invoke_function(service, "greeter", payload=b'{"key": "fc2"}').data == b'"hello, fc2!"'


# Handler shapes (fc/handler.go): the event is JSON-decoded into the handler's input type (a []byte gets it raw),
# the result JSON-encoded (a []byte becomes a base64 JSON string).
SHAPES = [
    ("struct", b'{"name": "go"}', b'{"name":"hello go"}'),
    ("map", b'{"k": 1}', b'{"k":1,"seen":true}'),
    ("string", b'"str"', b'"got str"'),
    ("bytes", b"raw bytes", b'"' + base64.b64encode(b"raw bytes") + b'"'),
    ("none", b"ignored", b"null"),
    ("errorfn", b"", b"null"),
]


@pytest.fixture(scope="module")
def shapes(fc3_client: FC3Client, go_binaries: dict[str, Path]) -> dict[str, str]:
    kinds = [kind for kind, _, _ in SHAPES] + ["ctxonly", "bad"]
    return {kind: deploy_go(fc3_client, go_binaries["go-signatures"], unique(f"go-{kind}"),
                            environment_variables={"HANDLER_KIND": kind},
                            instance_lifecycle_config=fc3_models.InstanceLifecycleConfig(
                                initializer=fc3_models.LifecycleHook(handler="init", timeout=5))) for kind in kinds}


@pytest.mark.parametrize(("kind", "event", "answer"), SHAPES, ids=[kind for kind, _, _ in SHAPES])
def test_every_handler_shape_the_sdk_accepts(emulator: EmulatorProcess, http: requests.Session,
                                             shapes: dict[str, str], kind: str, event: bytes, answer: bytes) -> None:
    reply = http.post(v3(emulator, shapes[kind]), data=event)
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    assert reply.content == answer


def test_an_event_that_does_not_decode_is_the_sdk_s_error(emulator: EmulatorProcess, http: requests.Session,
                                                          shapes: dict[str, str]) -> None:
    assert function_error(http.post(v3(emulator, shapes["map"]), data=b'"str"')) == {
        "errorMessage": "json: cannot unmarshal string into Go value of type map[string]interface {}",
        "errorType": "UnmarshalTypeError"}


def test_an_invalid_handler_signature_fails_every_invocation(emulator: EmulatorProcess, http: requests.Session,
                                                             shapes: dict[str, str]) -> None:
    assert function_error(http.post(v3(emulator, shapes["bad"]), data=b"{}")) == {
        "errorMessage": "handler takes two arguments, but the first is not Context. got int",
        "errorType": "errorString"}


def test_fccontext_is_filled_as_fc_fills_it_and_the_initializer_ran_first(
    emulator: EmulatorProcess, http: requests.Session, shapes: dict[str, str]
) -> None:
    name = shapes["ctxonly"]
    before_ms = int(time.time() * 1000)
    reply = http.post(v3(emulator, name), data=b"{}", headers={"x-fc-request-id": "go-ctx-1"})
    assert reply.status_code == 200, reply.text
    seen = reply.json()
    ctx = seen["ctx"]
    assert ctx["RequestID"] == "go-ctx-1"
    assert ctx["Function"] == {"Name": name, "Handler": "main", "Memory": "128", "Timeout": 10}
    assert ctx["Service"]["Name"] == "default" and ctx["Service"]["Qualifier"] == "LATEST"
    assert ctx["Region"] == "cn-hangzhou" and ctx["AccountId"] == "1234567890123456"
    assert ctx["RetryCount"] == 0
    assert set(ctx["Credentials"]) == {"AccessKeyId", "AccessKeySecret", "SecurityToken"}
    # The handler's context has FC's deadline: now + the function's timeout.
    assert before_ms + 9_000 <= seen["deadline"] <= int(time.time() * 1000) + 10_000
    # The SDK's initializer hook ran once, at the instance's start, under a request id of its own.
    assert seen["initializedBy"] and seen["initializedBy"] != "go-ctx-1"


# Errors and panics (FC's go1 error handling page).


def test_a_returned_error_and_a_panic_are_reported_as_fc_reports_them(
    emulator: EmulatorProcess, http: requests.Session, hello: str
) -> None:
    failed = http.post(v3(emulator, hello), data=b'{"key": "error"}', headers={"x-fc-log-type": "Tail"})
    assert function_error(failed) == {"errorMessage": "asked to fail", "errorType": "errorString"}
    assert tail(failed)[-1].endswith(", Error: Unhandled function error")

    panicked = http.post(v3(emulator, hello), data=b'{"key": "panic"}')
    error = function_error(panicked)
    assert error["errorMessage"] == "asked to panic" and error["errorType"] == "string"
    frames = error["stackTrace"]
    assert all(set(frame) == {"path", "line", "label"} for frame in frames)
    assert {"path": "go-noop/main.go", "label": "HandleRequest"}.items() <= next(
        frame for frame in frames if frame["label"] == "HandleRequest").items()

    # The SDK recovers a handler's panic: the same process answers the next invocation.
    after = http.post(v3(emulator, hello), data=b'{"key": "again"}')
    assert after.content == b'"hello, again!"'
    assert after.headers["x-fc-instance-id"] == panicked.headers["x-fc-instance-id"]


def test_the_prestop_hook_runs_when_the_instance_leaves(
    emulator: EmulatorProcess, http: requests.Session, fc3_client: FC3Client, go_binaries: dict[str, Path]
) -> None:
    name = deploy_go(fc3_client, go_binaries["go-signatures"], unique("go-prestop"),
                     environment_variables={"HANDLER_KIND": "none"},
                     instance_lifecycle_config=fc3_models.InstanceLifecycleConfig(
                         pre_stop=fc3_models.LifecycleHook(handler="prestop", timeout=5)))
    reply = http.post(v3(emulator, name), data=b"")
    assert reply.content == b"null"
    instance = reply.headers["x-fc-instance-id"]
    fc3_client.delete_function(name)
    emulator.wait_for_log(f"preStop hook of {name} ran on instance {instance}")


def test_a_delayed_async_task_in_task_mode_succeeds(
    emulator: EmulatorProcess, fc3_client: FC3Client, hello: str, watcher: TaskWatcher
) -> None:
    fc3_client.put_async_invoke_config(hello, fc3_models.PutAsyncInvokeConfigRequest(
        body=fc3_models.PutAsyncInvokeConfigInput(async_task=True)))
    task_id = f"go_{uuid.uuid4().hex[:12]}"
    headers = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id=task_id,
                                               common_headers={"x-fc-async-delay": "1"})
    accepted = fc3_client.invoke_function_with_options(
        hello, fc3_models.InvokeFunctionRequest(body=b'{"key": "later"}'), headers, RuntimeOptions())
    assert accepted.status_code == 202
    assert watcher.wait_for(hello, task_id) == "Succeeded"
    task = fc3_client.get_async_task(hello, task_id, fc3_models.GetAsyncTaskRequest()).body
    assert task.status == "Succeeded"
    assert json.loads(task.return_payload) == "hello, later!"
    assert [event.status for event in task.events] == ["Enqueued", "Dequeued", "Running", "Succeeded"]
