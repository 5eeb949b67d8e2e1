"""Async invoke config on both API versions and the SDKs, and destinations: functions, local MNS queues, HTTP."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client

from tests.support.async_tasks import invoke_task, task
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error, v3
from tests.support.http_sink import HttpSink
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

QUEUE_ARN = "acs:mns:cn-hangzhou:1234567890123456:/queues/{}/messages"


@pytest.fixture()
def echo_config(emulator: EmulatorProcess, http: requests.Session) -> Iterator[str]:
    """The URL of echo's async config; whatever a test puts there is deleted afterwards."""
    url = f"{emulator.url}/2023-03-30/functions/echo/async-invoke-config"
    yield url
    http.delete(url)


def receive(http: requests.Session, emulator: EmulatorProcess, queue_name: str) -> list[dict]:
    reply = http.get(f"{emulator.url}/_fcemu/mns/queues/{queue_name}/messages")
    assert reply.status_code == 200, reply.text
    return reply.json()["Messages"]


def test_config_round_trip_on_the_2023_api(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str
) -> None:
    assert_v3_error(http.get(echo_config), 404, "AsyncConfigNotExists")
    put = http.put(echo_config, json={"maxAsyncRetryAttempts": 1, "asyncTask": True})
    assert put.status_code == 200, put.text
    assert put.headers["x-fc-request-id"]
    config = http.get(echo_config).json()
    assert config["maxAsyncRetryAttempts"] == 1
    assert config["asyncTask"] is True
    assert config["maxAsyncEventAgeInSeconds"] == 86400
    assert config["functionArn"].endswith(":functions/echo")
    assert config["createdTime"] and config["lastModifiedTime"]
    destination = {"onFailure": {"destination": QUEUE_ARN.format("x")}}
    again = http.put(echo_config, json={"destinationConfig": destination}).json()
    assert again["maxAsyncRetryAttempts"] == 1, "a PUT keeps the fields it is not given"
    assert again["destinationConfig"] == destination
    listed = http.get(f"{emulator.url}/2023-03-30/async-invoke-configs", params={"functionName": "echo"}).json()
    assert [item["functionArn"] for item in listed["configs"]] == [config["functionArn"]]
    assert_v3_error(http.put(echo_config, json={"maxAsyncRetryAttempts": 9}), 400, "InvalidArgument")
    assert_v3_error(http.put(echo_config, json={"maxAsyncEventAgeInSeconds": 0}), 400, "InvalidArgument")
    assert_v3_error(http.put(echo_config + "?qualifier=prod", json={}), 404, "AliasNotFound")
    assert http.delete(echo_config).status_code == 204
    assert_v3_error(http.get(echo_config), 404, "AsyncConfigNotExists")


def test_config_round_trip_on_the_2016_api(emulator: EmulatorProcess, http: requests.Session) -> None:
    url = f"{emulator.url}/2016-08-15/services/default.LATEST/functions/echo/async-invoke-config"
    put = http.put(url, json={"statefulInvocation": True, "maxAsyncEventAgeInSeconds": 600})
    assert put.status_code == 200, put.text
    config = http.get(f"{emulator.url}/2016-08-15/services/default/functions/echo/async-invoke-config").json()
    assert config["service"] == "default" and config["function"] == "echo" and config["qualifier"] == "LATEST"
    assert config["statefulInvocation"] is True
    assert config["maxAsyncEventAgeInSeconds"] == 600
    assert config["maxAsyncRetryAttempts"] == 3
    listed = http.get(f"{emulator.url}/2016-08-15/services/default/functions/echo/async-invoke-configs").json()
    assert [item["function"] for item in listed["configs"]] == ["echo"]
    assert_v2_error(http.put(url, json={"maxAsyncRetryAttempts": -1}), 400, "InvalidArgument")
    assert http.delete(url).status_code == 204
    assert_v2_error(http.get(url), 404, "AsyncConfigNotExists")


def test_a_manifest_config_shows_through_the_api(emulator: EmulatorProcess, http: requests.Session) -> None:
    config = http.get(f"{emulator.url}/2023-03-30/functions/chain-b/async-invoke-config").json()
    assert config["maxAsyncRetryAttempts"] == 0
    assert config["destinationConfig"]["onFailure"]["destination"] == QUEUE_ARN.format("chain-failures")


def test_config_through_the_sdks(fc2_client: fc2.Client, fc3_client: FC3Client) -> None:
    put = fc2_client.put_function_async_invoke_config(
        "default", "LATEST", "echo", {"maxAsyncRetryAttempts": 2, "statefulInvocation": True})
    assert put.data["maxAsyncRetryAttempts"] == 2
    assert fc2_client.get_function_async_invoke_config("default", "LATEST", "echo").data["statefulInvocation"] is True
    listed = fc2_client.list_function_async_invoke_configs("default", "echo").data
    assert listed["configs"][0]["maxAsyncRetryAttempts"] == 2
    fc2_client.delete_function_async_invoke_config("default", "LATEST", "echo")
    with pytest.raises(fc2.FcError) as raised:
        fc2_client.get_function_async_invoke_config("default", "LATEST", "echo")
    assert raised.value.err_code == "AsyncConfigNotExists"

    body = fc3_models.PutAsyncInvokeConfigInput(
        max_async_retry_attempts=1,
        destination_config=fc3_models.DestinationConfig(
            on_success=fc3_models.Destination(destination="http://127.0.0.1:1/x")),
    )
    fc3_client.put_async_invoke_config("echo", fc3_models.PutAsyncInvokeConfigRequest(body=body))
    got = fc3_client.get_async_invoke_config("echo", fc3_models.GetAsyncInvokeConfigRequest()).body
    assert got.max_async_retry_attempts == 1
    assert got.destination_config.on_success.destination == "http://127.0.0.1:1/x"
    listed3 = fc3_client.list_async_invoke_configs(fc3_models.ListAsyncInvokeConfigsRequest(function_name="echo")).body
    assert len(listed3.configs) == 1
    fc3_client.delete_async_invoke_config("echo", fc3_models.DeleteAsyncInvokeConfigRequest())
    assert fc3_client.list_async_invoke_configs(
        fc3_models.ListAsyncInvokeConfigsRequest(function_name="echo")).body.configs == []


def test_success_record_reaches_an_http_sink(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    sink = HttpSink().start()
    try:
        http.put(echo_config, json={"destinationConfig": {"onSuccess": {"destination": sink.url}}})
        task_id = invoke_task(http, emulator, "echo", b"ping")
        record = json.loads(sink.next_body())
    finally:
        sink.stop()
    assert watcher.wait_for("echo", task_id, "DestinationSucceeded")
    assert record["requestContext"]["condition"] == ""
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["functionArn"].endswith(":functions/echo")
    assert record["requestContext"]["requestId"]
    assert record["requestPayload"] == "ping"
    assert record["responsePayload"] == "ping"
    assert record["responseContext"] == {"statusCode": 200, "functionError": ""}
    assert isinstance(record["timestamp"], int)
    assert task(http, emulator, "echo", task_id)["destinationStatus"] == "Succeeded"


def test_failure_record_reaches_a_queue_after_the_last_retry(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    queue_name = f"failures-{uuid.uuid4().hex[:6]}"
    http.put(echo_config, json={"maxAsyncRetryAttempts": 1,
                                "destinationConfig": {"onFailure": {"destination": QUEUE_ARN.format(queue_name)}}})
    task_id = invoke_task(http, emulator, "echo", b"fail please")
    assert watcher.wait_for("echo", task_id, "DestinationSucceeded")
    peeked = http.get(f"{emulator.url}/_fcemu/mns/queues/{queue_name}/messages", params={"peekonly": "true"}).json()
    assert len(peeked["Messages"]) == 1
    [message] = receive(http, emulator, queue_name)
    assert message["MessageId"] and message["MessageBodyMD5"] and message["ReceiptHandle"]
    record = json.loads(message["MessageBody"])
    assert record["requestContext"]["condition"] == "UnhandledInvocationError"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "UnhandledInvocationError"
    assert json.loads(record["responsePayload"])["errorMessage"] == "asked to fail"
    assert receive(http, emulator, queue_name) == [], "receiving drains the queue"
    statuses = [event["status"] for event in task(http, emulator, "echo", task_id)["events"]]
    assert statuses[-2:] == ["Failed", "DestinationSucceeded"]


def test_failure_record_invokes_a_function_by_its_2016_arn(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    arn = "acs:fc:cn-hangzhou:1234567890123456:services/default.LATEST/functions/hello"
    http.put(echo_config, json={"maxAsyncRetryAttempts": 0, "destinationConfig": {"onFailure": {"destination": arn}}})
    task_id = invoke_task(http, emulator, "echo", b"fail now")
    assert watcher.wait_for("echo", task_id, "DestinationSucceeded")
    detail = task(http, emulator, "echo", task_id)["events"][-1]["eventDetail"]
    assert "function hello invoked asynchronously" in detail
    assert watcher.wait_for("hello", f"echo_{task_id}") == "Succeeded"


def test_an_expired_invocation_fires_on_failure(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    queue_name = f"expired-{uuid.uuid4().hex[:6]}"
    http.put(echo_config, json={"maxAsyncEventAgeInSeconds": 1,
                                "destinationConfig": {"onFailure": {"destination": QUEUE_ARN.format(queue_name)}}})
    task_id = invoke_task(http, emulator, "echo", b"late", **{"x-fc-async-delay": "2"})
    assert watcher.wait_for("echo", task_id, "DestinationSucceeded")
    [message] = receive(http, emulator, queue_name)
    record = json.loads(message["MessageBody"])
    assert record["requestContext"]["condition"] == "MaxAsyncEventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["responseContext"] == {"statusCode": 0, "functionError": ""}


def test_an_unsupported_destination_is_reported_not_dropped(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    arn = "acs:eventbridge:cn-hangzhou:1234567890123456:eventbus/default/rule/r"
    http.put(echo_config, json={"destinationConfig": {"onSuccess": {"destination": arn}}})
    task_id = invoke_task(http, emulator, "echo", b"hi")
    assert watcher.wait_for("echo", task_id, "DestinationFailed")
    record = task(http, emulator, "echo", task_id)
    assert record["status"] == "Succeeded"
    assert record["destinationStatus"] == "Failed"
    assert "cannot deliver to eventbridge" in record["events"][-1]["eventDetail"]


def test_a_queue_destination_refuses_a_record_over_64_kb(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    http.put(echo_config, json={"destinationConfig": {"onSuccess": {"destination": QUEUE_ARN.format("big")}}})
    task_id = invoke_task(http, emulator, "echo", b"x" * 40_000)
    assert watcher.wait_for("echo", task_id, "DestinationFailed")
    assert "exceeds MNS's message limit of 64 KB" in task(http, emulator, "echo", task_id)["events"][-1]["eventDetail"]


def test_a_destination_that_is_down_receives_the_record_once_it_is_back(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    sink = HttpSink()  # not listening yet
    http.put(echo_config, json={"destinationConfig": {"onSuccess": {"destination": sink.url}}})
    task_id = invoke_task(http, emulator, "echo", b"patience")
    assert watcher.wait_for("echo", task_id, "DestinationRetrying")
    sink.start()
    try:
        assert watcher.wait_for("echo", task_id, "DestinationSucceeded", timeout=60)
        assert json.loads(sink.next_body(timeout=5))["requestPayload"] == "patience"
        assert sink.received.empty()
    finally:
        sink.stop()
    events = [event["status"] for event in task(http, emulator, "echo", task_id)["events"]]
    assert events[:4] == ["Enqueued", "Dequeued", "Running", "Succeeded"]
    assert events.count("Running") == 1, "a destination failure never re-runs the invocation"


def test_a_chain_of_functions_ends_in_a_queue(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    order = f"order-{uuid.uuid4().hex[:6]}"
    task_id = invoke_task(http, emulator, "chain-a", order.encode())
    assert watcher.wait_for("chain-a", task_id) == "Succeeded"
    assert watcher.wait_for("chain-b", f"chain-a_{task_id}") == "Failed"
    assert watcher.wait_for("chain-b", f"chain-a_{task_id}", "DestinationSucceeded")
    messages = receive(http, emulator, "chain-failures")
    records = [json.loads(message["MessageBody"]) for message in messages]
    [record] = [r for r in records if json.loads(r["requestPayload"])["responsePayload"] == f"a done: {order}"]
    assert record["requestContext"]["functionArn"].endswith(":functions/chain-b")
    assert record["requestContext"]["condition"] == "UnhandledInvocationError"
    assert json.loads(record["responsePayload"])["errorMessage"] == f"b refuses a done: {order}"


def test_the_cli_lists_and_drains_a_local_queue(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher, redis_server: RedisServer
) -> None:
    queue_name = f"cli-{uuid.uuid4().hex[:6]}"
    http.put(echo_config, json={"destinationConfig": {"onSuccess": {"destination": QUEUE_ARN.format(queue_name)}}})
    task_id = invoke_task(http, emulator, "echo", b"for the cli")
    assert watcher.wait_for("echo", task_id, "DestinationSucceeded")
    env = {**os.environ, "FCEMU_REDIS_URL": redis_server.url}

    def fcemu(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "emulator", "mns", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, check=True).stdout

    assert f"queue\t{queue_name}\t1 message(s)" in fcemu("list")
    assert json.loads(json.loads(fcemu("receive", queue_name, "--peek"))["MessageBody"])["requestPayload"] == "for the cli"
    assert json.loads(fcemu("receive", queue_name))["MessageId"]
    assert fcemu("receive", queue_name) == ""


def test_tasks_whose_ids_share_a_long_prefix_each_invoke_the_function_destination(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    arn = "acs:fc:cn-hangzhou:1234567890123456:functions/hello"
    http.put(echo_config, json={"destinationConfig": {"onSuccess": {"destination": arn}}})
    prefix = f"long_{uuid.uuid4().hex}".ljust(124, "x")
    task_ids = [prefix + "aaaa", prefix + "bbbb"]  # 128 characters each: once cut to the same destination task
    for task_id in task_ids:
        reply = http.post(v3(emulator, "echo"), data=task_id.encode(), headers={
            "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
        assert reply.status_code == 202, reply.text
    for task_id in task_ids:
        assert watcher.wait_for("echo", task_id, "DestinationSucceeded")
        detail = task(http, emulator, "echo", task_id)["events"][-1]["eventDetail"]
        assert "function hello invoked asynchronously as task " in detail, detail
    invoked = [task(http, emulator, "echo", task_id)["events"][-1]["eventDetail"].rsplit(" ", 1)[1]
               for task_id in task_ids]
    assert invoked[0] != invoked[1]
    for destination_task in invoked:
        assert watcher.wait_for("hello", destination_task) == "Succeeded"


def test_a_url_that_can_never_work_fails_at_once(
    emulator: EmulatorProcess, http: requests.Session, echo_config: str, watcher: TaskWatcher
) -> None:
    http.put(echo_config, json={"destinationConfig": {"onSuccess": {"destination": "http://a..b/"}}})
    task_id = invoke_task(http, emulator, "echo", b"hi")
    assert watcher.wait_for("echo", task_id, {"DestinationFailed", "DestinationRetrying"}) == "DestinationFailed"
    record = task(http, emulator, "echo", task_id)
    assert record["destinationStatus"] == "Failed"
    assert "'a..b' is not a valid host name" in record["events"][-1]["eventDetail"]
