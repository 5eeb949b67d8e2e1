"""The java8 and java11 runtimes end to end: our own fat jars (each with its own copy of FC's com.aliyun.fc.runtime
interfaces, tests/support/java_functions.py), deployed through FC's API with the official SDKs and run by a real
`fcemu serve` in containers of fcemu/runtime-java."""
from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_util.models import RuntimeOptions

from tests.support.async_tasks import invoke_task, task
from tests.support.credentials import ROLE
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.java_functions import JavaFunctions
from tests.support.log_watcher import LogWatcher
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import wait_until_gone

# FC's Java log line: UTC time (ms), request id, [LEVEL], message.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\S+) \[([A-Z]+)\] (.*)$")
RUNTIME_JAR = "file:/opt/fcemu/java/fc-runtime.jar"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def create(client: FC3Client, name: str, runtime: str, handler: str, code: bytes, **settings: object) -> None:
    client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime=runtime, handler=handler, memory_size=256, timeout=30,
        code=fc3_models.InputCodeLocation(zip_file=b64(code)), **settings)))


def tail(headers: dict[str, str]) -> list[str]:
    return base64.b64decode(headers["x-fc-log-result"]).decode().splitlines()


@pytest.fixture(scope="module")
def events(fc3_client: FC3Client, java_functions: JavaFunctions) -> Iterator[str]:
    """The fat jar of `--release 11` as a java11 function with its initializer and preStop hook, in task mode."""
    name = f"java11-events-{uuid.uuid4().hex[:6]}"
    create(fc3_client, name, "java11", "example.Events::handleRequest", java_functions.fat_jars["11"],
           instance_lifecycle_config=fc3_models.InstanceLifecycleConfig(
               initializer=fc3_models.LifecycleHook(handler="example.Events::initialize", timeout=10),
               pre_stop=fc3_models.LifecycleHook(handler="example.Events::preStop", timeout=10)))
    fc3_client.put_async_invoke_config(name, fc3_models.PutAsyncInvokeConfigRequest(
        body=fc3_models.PutAsyncInvokeConfigInput(async_task=True, max_async_retry_attempts=1)))
    yield name
    fc3_client.delete_function(name)


def test_a_sync_invoke_runs_the_stream_handler_with_fc_context_and_the_log_tail(
    fc3_client: FC3Client, events: str
) -> None:
    reply = fc3_client.invoke_function_with_options(
        events, fc3_models.InvokeFunctionRequest(body=b"hello"),
        fc3_models.InvokeFunctionHeaders(x_fc_log_type="Tail", common_headers={"x-fc-request-id": "java-sync-1"}),
        RuntimeOptions())
    headers = reply.headers
    assert "x-fc-error-type" not in headers
    seen = json.loads(reply.body.read())
    assert seen["event"] == "hello" and seen["requestId"] == "java-sync-1"
    assert seen["functionName"] == events
    assert seen["handler"] == "example.Events::handleRequest"
    assert seen["initializer"] == "example.Events::initialize"
    assert (seen["memoryMB"], seen["timeoutMillis"]) == (256, 30000)
    assert seen["qualifier"] == "LATEST" and seen["retryCount"] == 0
    assert seen["accessKeyId"] is None, "a function without a role gets no credentials"
    assert seen["initialized"] == 1, "the initializer ran once, before the handler"
    assert seen["contextFrom"] == RUNTIME_JAR, "the runtime's interfaces win over the jar's own copy"
    assert seen["runtime"] == "java11" and seen["javaSpecification"] == "17"
    assert seen["defaultCharset"] == "UTF-8", "new String(bytes) reads an event's UTF-8"
    assert seen["tokenInEnvironment"] is False
    lines = tail(headers)
    assert lines[0] == "FC Invoke Start RequestId: java-sync-1"
    assert lines[-1] == "FC Invoke End RequestId: java-sync-1"
    match = LOG_LINE.match(lines[1])
    assert match and match.groups() == ("java-sync-1", "INFO", "event hello")
    assert {"to stdout", "to stderr", "from a thread the handler started"} <= set(lines[2:-1])


def test_an_exception_is_fc_s_java_error(emulator: EmulatorProcess, http: requests.Session, events: str) -> None:
    reply = http.post(v3(emulator, events), data=b"fail:disk is full", headers={"x-fc-log-type": "Tail"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    error = reply.json()
    assert error["errorType"] == "java.io.IOException"
    assert error["errorMessage"] == "disk is full"
    assert error["stackTrace"][0].startswith("example.Events.handleRequest(Events.java:")
    assert not [frame for frame in error["stackTrace"] if "fcemu" in frame or "reflect" in frame]
    assert tail(dict(reply.headers))[-1].endswith(", Error: Unhandled function error")


def test_system_exit_is_fc_s_error_and_the_instance_is_replaced(
    emulator: EmulatorProcess, http: requests.Session, docker_client: docker.DockerClient, events: str
) -> None:
    exited = http.post(v3(emulator, events), data=b"exit")
    assert exited.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert exited.json()["errorMessage"].startswith("Process exited unexpectedly before completing request")
    wait_until_gone(docker_client, exited.headers["x-fc-instance-id"])
    after = http.post(v3(emulator, events), data=b"again")
    assert after.json()["event"] == "again" and after.headers["x-fc-instance-id"] != exited.headers["x-fc-instance-id"]


def test_a_missing_class_or_method_is_an_fc_error_not_a_hang(
    fc3_client: FC3Client, emulator: EmulatorProcess, http: requests.Session, java_functions: JavaFunctions
) -> None:
    name = f"java11-missing-{uuid.uuid4().hex[:6]}"
    create(fc3_client, name, "java11", "example.Missing::handleRequest", java_functions.fat_jars["11"])
    try:
        missing = http.post(v3(emulator, name), data=b"x")
        assert missing.headers["x-fc-error-type"] == "UnhandledInvocationError"
        assert missing.json()["errorType"] == "java.lang.ClassNotFoundException"
        assert "example.Missing" in missing.json()["errorMessage"]
        fc3_client.update_function(name, fc3_models.UpdateFunctionRequest(body=fc3_models.UpdateFunctionInput(
            handler="example.Events::nothingHere")))
        no_method = http.post(v3(emulator, name), data=b"x")
        assert no_method.json()["errorType"] == "java.lang.NoSuchMethodException"
        assert "nothingHere" in no_method.json()["errorMessage"]
        # FC's form is package.Class::method; a class alone is refused, as FC does.
        fc3_client.update_function(name, fc3_models.UpdateFunctionRequest(body=fc3_models.UpdateFunctionInput(
            handler="example.Events")))
        no_form = http.post(v3(emulator, name), data=b"x")
        assert no_form.json()["errorType"] == "java.lang.IllegalArgumentException"
        assert "package.Class::method" in no_form.json()["errorMessage"]
    finally:
        fc3_client.delete_function(name)


def test_a_failing_initializer_fails_the_invocation_and_a_role_gives_credentials(
    fc3_client: FC3Client, emulator: EmulatorProcess, http: requests.Session, java_functions: JavaFunctions
) -> None:
    failing = f"java11-init-fail-{uuid.uuid4().hex[:6]}"
    create(fc3_client, failing, "java11", "example.Events::handleRequest", java_functions.fat_jars["11"],
           instance_lifecycle_config=fc3_models.InstanceLifecycleConfig(
               initializer=fc3_models.LifecycleHook(handler="example.Events::failingInitialize", timeout=10)))
    with_role = f"java11-role-{uuid.uuid4().hex[:6]}"
    create(fc3_client, with_role, "java11", "example.Events::handleRequest", java_functions.fat_jars["11"],
           role=ROLE)
    try:
        error = http.post(v3(emulator, failing), data=b"x")
        assert error.headers["x-fc-error-type"] == "UnhandledInvocationError", error.text
        assert (error.json()["errorType"], error.json()["errorMessage"]) == (
            "java.io.IOException", "cannot connect to the database")
        seen = http.post(v3(emulator, with_role), data=b"x").json()
        assert seen["accessKeyId"] and seen["securityToken"]
        assert seen["accessKeyId"] == seen["environmentKeyId"], "the role's credentials, as in the environment"
    finally:
        fc3_client.delete_function(failing)
        fc3_client.delete_function(with_role)


def test_a_pojo_handler_maps_json_in_and_out(
    fc3_client: FC3Client, emulator: EmulatorProcess, http: requests.Session, java_functions: JavaFunctions
) -> None:
    name = f"java11-pojo-{uuid.uuid4().hex[:6]}"
    create(fc3_client, name, "java11", "example.Orders::handleRequest", java_functions.fat_jars["11"])
    try:
        order = {"id": "o-1", "customer": {"name": "Ada", "vip": True}, "unknown": "ignored",
                 "items": [{"sku": "a", "quantity": 2, "price": 1.25}, {"sku": "b", "quantity": 1, "price": 3.5}]}
        reply = http.post(v3(emulator, name), json=order, headers={"x-fc-request-id": "java-pojo-1"})
        assert "x-fc-error-type" not in reply.headers, reply.text
        assert reply.json() == {"orderId": "o-1", "customer": {"name": "Ada", "vip": True}, "total": 6.0,
                                "requestId": "java-pojo-1"}
        empty = http.post(v3(emulator, name), json={"id": "o-2", "items": []})
        assert empty.json()["errorType"] == "java.lang.IllegalArgumentException"
        assert empty.json()["errorMessage"] == "an order needs items"
    finally:
        fc3_client.delete_function(name)


def test_a_java8_jar_through_the_fc2_sdk(fc2_client: fc2.Client, java_functions: JavaFunctions,
                                         tmp_path: Path) -> None:
    service = f"java8-{uuid.uuid4().hex[:6]}"
    fc2_client.create_service(service)
    code = tmp_path / "events.jar"
    code.write_bytes(java_functions.fat_jars["8"])
    try:
        fc2_client.create_function(service, "events", "java8", "example.Events::handleRequest", codeZipFile=str(code),
                                   initializer="example.Events::initialize", memorySize=128, timeout=10)
        reply = fc2_client.invoke_function(service, "events", payload=b"from fc2",
                                           headers={"x-fc-log-type": "Tail"})
        seen = json.loads(reply.data)
        assert seen["event"] == "from fc2" and seen["service"] == service and seen["functionName"] == "events"
        assert seen["runtime"] == "java8" and seen["initialized"] == 1 and seen["contextFrom"] == RUNTIME_JAR
        assert "FC Invoke Start RequestId:" in base64.b64decode(reply.headers["x-fc-log-result"]).decode()
        fc2_client.delete_function(service, "events")
    finally:
        fc2_client.delete_service(service)


def test_a_delayed_async_task_and_a_retry_see_their_retry_count(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher, events: str
) -> None:
    delayed = invoke_task(http, emulator, events, b"later", **{"x-fc-async-delay": "1"})
    retried = invoke_task(http, emulator, events, b"retry")
    assert watcher.wait_for(events, delayed) == "Succeeded"
    assert watcher.wait_for(events, retried) == "Succeeded"
    done = task(http, emulator, events, delayed)
    stamps = {event["status"]: event["timestamp"] for event in done["events"]}
    assert stamps["Dequeued"] - stamps["Enqueued"] >= 1000
    assert json.loads(done["returnPayload"])["event"] == "later"
    again = task(http, emulator, events, retried)
    assert again["alreadyRetriedTimes"] == 1
    assert json.loads(again["returnPayload"])["retryCount"] == 1


def test_a_code_zip_of_classes_and_lib_and_a_layer_on_the_class_path(
    fc3_client: FC3Client, emulator: EmulatorProcess, http: requests.Session, java_functions: JavaFunctions
) -> None:
    name = f"java11-zip-{uuid.uuid4().hex[:6]}"
    create(fc3_client, name, "java11", "example.ZipMain::handleRequest", java_functions.classes_zip)
    layer = f"java-greeter-{uuid.uuid4().hex[:6]}"
    published = fc3_client.create_layer_version(layer, fc3_models.CreateLayerVersionRequest(
        body=fc3_models.CreateLayerVersionInput(code=fc3_models.InputCodeLocation(
            zip_file=b64(java_functions.layer_zip)), compatible_runtime=["java11"])))
    layered = f"java11-layered-{uuid.uuid4().hex[:6]}"
    create(fc3_client, layered, "java11", "example.LayerMain::handleRequest", java_functions.fat_jars["11"],
           layers=[published.body.layer_version_arn])
    try:
        assert http.post(v3(emulator, name), data=b"quiet").content == b"QUIET!"
        assert http.post(v3(emulator, layered), data=b"ada").content == b"hello ada from a layer"
    finally:
        fc3_client.delete_function(name)
        fc3_client.delete_function(layered)
        fc3_client.delete_layer_version(layer, "1")


def test_two_overlapping_invokes_share_an_instance_of_concurrency_two(
    fc3_client: FC3Client, emulator: EmulatorProcess, java_functions: JavaFunctions
) -> None:
    name = f"java11-overlap-{uuid.uuid4().hex[:6]}"
    create(fc3_client, name, "java11", "example.Overlap::handleRequest", java_functions.fat_jars["11"],
           instance_concurrency=2)
    try:
        # One instance up first: two cold invokes may start two.
        warm = requests.post(v3(emulator, name), data=b"warm")
        assert warm.content == b"warm", warm.text
        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(lambda _: requests.post(v3(emulator, name), data=b"together"), range(2)))
        assert [reply.content for reply in replies] == [b"overlapped", b"overlapped"]
        assert {reply.headers["x-fc-instance-id"] for reply in replies} == {warm.headers["x-fc-instance-id"]}
    finally:
        fc3_client.delete_function(name)


def test_an_fc3_http_trigger_sends_fc_s_event_to_a_stream_handler(
    fc3_client: FC3Client, emulator: EmulatorProcess, http: requests.Session, events: str
) -> None:
    fc3_client.create_trigger(events, fc3_models.CreateTriggerRequest(body=fc3_models.CreateTriggerInput(
        trigger_name="web", trigger_type="http",
        trigger_config=json.dumps({"authType": "anonymous", "methods": ["GET", "POST"]}))))
    reply = http.post(f"{emulator.url}/http/{events}/items?a=1", data=b"posted")
    assert reply.status_code == 200, reply.text
    event = json.loads(reply.json()["event"])
    assert event["rawPath"] == "/items" and event["queryParameters"] == {"a": "1"}
    assert event["body"] == "posted" and event["requestContext"]["http"]["method"] == "POST"


def test_an_fc2_http_request_handler_gets_a_servlet_request(
    fc2_client: fc2.Client, emulator: EmulatorProcess, http: requests.Session, java_functions: JavaFunctions,
    tmp_path: Path
) -> None:
    service = f"java-web-{uuid.uuid4().hex[:6]}"
    fc2_client.create_service(service)
    code = tmp_path / "web.jar"
    code.write_bytes(java_functions.fat_jars["11"])
    try:
        fc2_client.create_function(service, "web", "java11", "example.Web::handleRequest", codeZipFile=str(code))
        fc2_client.create_trigger(service, "web", "web", "http", {"authType": "anonymous",
                                                                   "methods": ["GET", "POST"]}, "", "")
        reply = http.post(f"{emulator.url}/2016-08-15/proxy/{service}/web/some/p%20ath?a=1&a=2",
                          data=b"the body", headers={"X-Custom": "mine", "x-fc-request-id": "java-web-1"})
        assert reply.status_code == 201, reply.text
        assert reply.headers["X-Served-By"] == "java-web"
        assert reply.json() == {"method": "POST", "path": "/some/p ath", "uri": "/some/p%20ath?a=1&a=2",
                                "requestURI": "/some/p%20ath", "query": "a=1&a=2", "a": "1,2", "header": "mine",
                                "agentHeaderSeen": False, "body": "the body", "requestId": "java-web-1"}
        fc2_client.delete_trigger(service, "web", "web")
        fc2_client.delete_function(service, "web")
    finally:
        fc2_client.delete_service(service)


def test_a_function_reaches_fc_s_endpoint_by_its_name_over_https(
    fc3_client: FC3Client, emulator: EmulatorProcess, http: requests.Session, java_functions: JavaFunctions
) -> None:
    name = f"java11-calls-fc-{uuid.uuid4().hex[:6]}"
    create(fc3_client, name, "java11", "example.CallsFc::handleRequest", java_functions.fat_jars["11"])
    try:
        reply = http.post(v3(emulator, name), data=b"/2016-08-15/services/default/functions/mailer")
        assert "x-fc-error-type" not in reply.headers, reply.text
        # Name, relay and certificate all worked: the endpoint answered, refusing the unsigned request in FC's shape.
        answer = reply.json()
        assert answer["status"] == 400, answer
        assert json.loads(answer["body"])["ErrorCode"] == "MissingRequiredHeader", answer
    finally:
        fc3_client.delete_function(name)


def test_the_pre_stop_hook_runs_when_the_function_is_deleted(
    fc3_client: FC3Client, emulator: EmulatorProcess, http: requests.Session, java_functions: JavaFunctions,
    redis_server: RedisServer
) -> None:
    name = f"java11-stops-{uuid.uuid4().hex[:6]}"
    create(fc3_client, name, "java11", "example.Events::handleRequest", java_functions.fat_jars["11"],
           instance_lifecycle_config=fc3_models.InstanceLifecycleConfig(
               pre_stop=fc3_models.LifecycleHook(handler="example.Events::preStop", timeout=10)))
    logs = LogWatcher(redis_server.url)
    try:
        assert http.post(v3(emulator, name), data=b"up").json()["event"] == "up"
        fc3_client.delete_function(name)
        said = logs.wait_for(None, f"preStop ran for {name}")
        assert logs.wait_for(said["requestId"], "FC PreStop End RequestId: ")["message"].endswith(said["requestId"])
    finally:
        logs.close()
