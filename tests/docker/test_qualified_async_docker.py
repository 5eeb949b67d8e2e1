"""The qualifier wherever async invocation reaches, through FC 3.0's official SDK: an alias's async invoke config
governs the invocations through it (LATEST's those without), ListAsyncTasks filters by qualifier, and triggers
bound to an alias run its version."""
from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import zipped
from tests.support.task_watcher import TaskWatcher

QUEUE_ARN = "acs:mns:cn-hangzhou:1234567890123456:/queues/{}/messages"


def code(word: str, fail: bool = False) -> str:
    """A function that answers its word and the version that ran, or fails saying so."""
    body = ("    raise RuntimeError('failing as asked')\n" if fail else
            "    return json.dumps({'word': '" + word + "', 'qualifier': context.service.qualifier,\n"
            "                       'versionId': context.service.version_id})\n")
    return base64.b64encode(zipped({"main.py": "import json\ndef handler(event, context):\n" + body})).decode()


def create(client: FC3Client, word: str, fail: bool = False) -> str:
    name = f"qualified-{uuid.uuid4().hex[:6]}"
    client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=code(word, fail)),
    )))
    return name


def update(client: FC3Client, name: str, word: str) -> None:
    client.update_function(name, fc3_models.UpdateFunctionRequest(body=fc3_models.UpdateFunctionInput(
        code=fc3_models.InputCodeLocation(zip_file=code(word)))))


def publish_with_alias(client: FC3Client, name: str, alias: str) -> str:
    request = fc3_models.PublishFunctionVersionRequest(body=fc3_models.PublishVersionInput())
    version = client.publish_function_version(name, request).body.version_id
    body = fc3_models.CreateAliasInput(alias_name=alias, version_id=version)
    client.create_alias(name, fc3_models.CreateAliasRequest(body=body))
    return version


def put_config(client: FC3Client, name: str, qualifier: str | None, retries: int, queue: str) -> None:
    destination = fc3_models.DestinationConfig(on_failure=fc3_models.Destination(destination=QUEUE_ARN.format(queue)))
    body = fc3_models.PutAsyncInvokeConfigInput(max_async_retry_attempts=retries, destination_config=destination)
    client.put_async_invoke_config(name, fc3_models.PutAsyncInvokeConfigRequest(body=body, qualifier=qualifier))


def invoke_async(client: FC3Client, name: str, task_id: str, qualifier: str | None = None) -> None:
    headers = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id=task_id)
    client.invoke_function_with_options(
        name, fc3_models.InvokeFunctionRequest(body=b"x", qualifier=qualifier), headers, RuntimeOptions())


def get_task(client: FC3Client, name: str, task_id: str) -> fc3_models.AsyncTask:
    return client.get_async_task(name, task_id, fc3_models.GetAsyncTaskRequest()).body


def failure_records(http: requests.Session, emulator: EmulatorProcess, queue: str) -> list[dict]:
    reply = http.get(f"{emulator.url}/_fcemu/mns/queues/{queue}/messages")
    assert reply.status_code == 200, reply.text
    return [json.loads(message["MessageBody"]) for message in reply.json()["Messages"]]


def test_an_alias_async_config_governs_the_invocations_through_it(
    fc3_client: FC3Client, watcher: TaskWatcher, emulator: EmulatorProcess, http: requests.Session
) -> None:
    name = create(fc3_client, "", fail=True)
    publish_with_alias(fc3_client, name, "prod")
    latest_queue, prod_queue = f"latest-{uuid.uuid4().hex[:6]}", f"prod-{uuid.uuid4().hex[:6]}"
    put_config(fc3_client, name, None, 2, latest_queue)
    put_config(fc3_client, name, "prod", 0, prod_queue)
    assert fc3_client.get_async_invoke_config(
        name, fc3_models.GetAsyncInvokeConfigRequest(qualifier="prod")).body.max_async_retry_attempts == 0

    invoke_async(fc3_client, name, "through-prod", "prod")
    invoke_async(fc3_client, name, "through-latest")
    for task_id in ("through-prod", "through-latest"):
        assert watcher.wait_for(name, task_id, "DestinationSucceeded")
    prod, latest = get_task(fc3_client, name, "through-prod"), get_task(fc3_client, name, "through-latest")
    assert (prod.qualifier, prod.status, prod.already_retried_times) == ("prod", "Failed", 0)
    assert (latest.qualifier, latest.status, latest.already_retried_times) == ("LATEST", "Failed", 2)
    assert [e.status for e in prod.events].count("Running") == 1
    assert [e.status for e in latest.events].count("Retrying") == 2

    [prod_record] = failure_records(http, emulator, prod_queue)
    [latest_record] = failure_records(http, emulator, latest_queue)
    assert prod_record["requestContext"]["approximateInvokeCount"] == 1
    assert latest_record["requestContext"]["approximateInvokeCount"] == 3
    # The record names the function as it was invoked: with the alias, or bare for LATEST.
    assert prod_record["requestContext"]["functionArn"].endswith(f":functions/{name}:prod")
    assert latest_record["requestContext"]["functionArn"].endswith(f":functions/{name}")

    # A version with no config of its own gets FC's defaults (3 retries, no destination), not LATEST's.
    invoke_async(fc3_client, name, "through-version", "1")
    assert watcher.wait_for(name, "through-version") == "Failed"
    assert get_task(fc3_client, name, "through-version").already_retried_times == 3
    assert failure_records(http, emulator, latest_queue) == [] and failure_records(http, emulator, prod_queue) == []

    # A re-run goes through the qualifier its task was invoked with, under that qualifier's config.
    rerun = http.post(f"{emulator.url}/_fcemu/tasks/{name}/through-prod/rerun", json={"taskId": "prod-again"})
    assert rerun.status_code == 202, rerun.text
    assert watcher.wait_for(name, "prod-again", "DestinationSucceeded")
    again = get_task(fc3_client, name, "prod-again")
    assert (again.qualifier, again.already_retried_times) == ("prod", 0)
    assert len(failure_records(http, emulator, prod_queue)) == 1
    fc3_client.delete_function(name)


def test_async_tasks_are_listed_and_read_by_the_qualifier_they_were_invoked_with(
    fc3_client: FC3Client, watcher: TaskWatcher, emulator: EmulatorProcess, http: requests.Session
) -> None:
    name = create(fc3_client, "one")
    publish_with_alias(fc3_client, name, "prod")
    invoked = {"prod-a": "prod", "prod-b": "prod", "version-a": "1", "latest-a": None}
    for task_id, qualifier in invoked.items():
        invoke_async(fc3_client, name, task_id, qualifier)
    for task_id in invoked:
        assert watcher.wait_for(name, task_id) == "Succeeded"

    def listed(**query: str) -> list[str]:
        request = fc3_models.ListAsyncTasksRequest(**query)  # type: ignore[arg-type]
        return sorted(task.task_id for task in fc3_client.list_async_tasks(name, request).body.tasks)

    assert listed(qualifier="prod") == ["prod-a", "prod-b"]
    assert listed(qualifier="1") == ["version-a"]
    assert listed(qualifier="LATEST") == ["latest-a"]
    assert listed() == sorted(invoked), "without a qualifier, every task of the function"
    assert listed(qualifier="prod", status="Succeeded", prefix="prod-b") == ["prod-b"]
    assert listed(qualifier="prod", status="Failed") == []
    paged = fc3_client.list_async_tasks(name, fc3_models.ListAsyncTasksRequest(qualifier="prod", limit=1)).body
    assert [task.task_id for task in paged.tasks] == ["prod-a"] and paged.next_token
    rest = fc3_client.list_async_tasks(name, fc3_models.ListAsyncTasksRequest(
        qualifier="prod", limit=1, next_token=paged.next_token)).body
    assert [task.task_id for task in rest.tasks] == ["prod-b"] and rest.next_token is None

    read = fc3_client.get_async_task(name, "prod-a", fc3_models.GetAsyncTaskRequest(qualifier="prod")).body
    assert (read.task_id, read.qualifier) == ("prod-a", "prod")
    with pytest.raises(ClientException) as raised:
        fc3_client.get_async_task(name, "prod-a", fc3_models.GetAsyncTaskRequest(qualifier="LATEST"))
    assert (raised.value.status_code, raised.value.code) == (404, "AsyncTaskNotFound")

    # FC 2.0 names the qualifier in the service segment.
    v2 = f"{emulator.url}/2016-08-15/services/default.prod/functions/{name}/stateful-async-invocations"
    assert sorted(item["invocationId"] for item in http.get(v2).json()["invocations"]) == ["prod-a", "prod-b"]
    assert http.get(f"{v2}/prod-a").json()["qualifier"] == "prod"
    assert http.get(f"{v2}/latest-a").status_code == 404
    fc3_client.delete_function(name)


def create_trigger(client: FC3Client, name: str, trigger: str, kind: str, config: dict, qualifier: str | None
                   ) -> fc3_models.Trigger:
    body = fc3_models.CreateTriggerInput(trigger_name=trigger, trigger_type=kind, trigger_config=json.dumps(config),
                                         qualifier=qualifier)
    return client.create_trigger(name, fc3_models.CreateTriggerRequest(body=body)).body


def test_triggers_bound_to_an_alias_run_its_version(
    fc3_client: FC3Client, watcher: TaskWatcher, emulator: EmulatorProcess, http: requests.Session
) -> None:
    name = create(fc3_client, "one")
    publish_with_alias(fc3_client, name, "prod")
    update(fc3_client, name, "two")
    # Disabled: it fires only when the test fires it.
    timer = create_trigger(fc3_client, name, "nightly", "timer", {"cronExpression": "@every 60m", "enable": False},
                           "prod")
    assert timer.qualifier == "prod"
    assert fc3_client.get_trigger(name, "nightly").body.qualifier == "prod"

    fired = http.post(f"{emulator.url}/_fcemu/triggers/{name}/nightly/fire")
    assert fired.status_code == 202, fired.text
    task_id = fired.json()["taskId"]
    assert watcher.wait_for(name, task_id) == "Succeeded"
    task = get_task(fc3_client, name, task_id)
    assert task.qualifier == "prod"
    assert json.loads(task.return_payload) == {"word": "one", "qualifier": "prod", "versionId": "1"}

    create_trigger(fc3_client, name, "web", "http", {"authType": "anonymous", "methods": ["GET", "POST"]}, "prod")
    answer = http.get(f"{emulator.url}/http/{name}/hello")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"word": "one", "qualifier": "prod", "versionId": "1"}
    queued = http.post(f"{emulator.url}/http/{name}/later", data=b"x",
                       headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "web-later"})
    assert queued.status_code == 202, queued.text
    assert watcher.wait_for(name, "web-later") == "Succeeded"
    assert get_task(fc3_client, name, "web-later").qualifier == "prod"

    body = fc3_models.UpdateTriggerInput(qualifier="LATEST")
    moved = fc3_client.update_trigger(name, "web", fc3_models.UpdateTriggerRequest(body=body)).body
    assert moved.qualifier == "LATEST"
    assert http.get(f"{emulator.url}/http/{name}/hello").json()["word"] == "two"

    # An MNS topic trigger on the alias: its tasks go through the alias, under the alias's config (task mode).
    tasks = fc3_models.PutAsyncInvokeConfigInput(async_task=True)
    fc3_client.put_async_invoke_config(name, fc3_models.PutAsyncInvokeConfigRequest(body=tasks, qualifier="prod"))
    topic = f"topic-{uuid.uuid4().hex[:6]}"
    create_trigger(fc3_client, name, "orders", "mns_topic", {"topicName": topic}, "prod")
    published = http.post(f"{emulator.url}/_fcemu/mns/topics/{topic}/messages", json={"MessageBody": "hi"})
    assert published.status_code == 201, published.text
    message_task = f"mns-orders-{published.json()['MessageId']}"
    assert watcher.wait_for(name, message_task) == "Succeeded"
    assert json.loads(get_task(fc3_client, name, message_task).return_payload)["versionId"] == "1"

    with pytest.raises(ClientException) as raised:
        create_trigger(fc3_client, name, "ghost", "timer", {"cronExpression": "@every 60m"}, "nope")
    assert (raised.value.status_code, raised.value.code) == (404, "AliasNotFound")
    fc3_client.delete_function(name)


def test_a_function_destination_with_a_qualifier_invokes_through_it(
    fc3_client: FC3Client, watcher: TaskWatcher
) -> None:
    target = create(fc3_client, "one")
    publish_with_alias(fc3_client, target, "prod")
    update(fc3_client, target, "two")
    # The alias's config makes its invocations tasks (visible to GetAsyncTask); LATEST's has none.
    tasks = fc3_models.PutAsyncInvokeConfigInput(async_task=True)
    fc3_client.put_async_invoke_config(target, fc3_models.PutAsyncInvokeConfigRequest(body=tasks, qualifier="prod"))
    source = create(fc3_client, "source")
    destination = fc3_models.DestinationConfig(on_success=fc3_models.Destination(
        destination=f"acs:fc:cn-hangzhou:1234567890123456:functions/{target}:prod"))
    body = fc3_models.PutAsyncInvokeConfigInput(destination_config=destination)
    fc3_client.put_async_invoke_config(source, fc3_models.PutAsyncInvokeConfigRequest(body=body))

    invoke_async(fc3_client, source, "chained")
    assert watcher.wait_for(source, "chained", "DestinationSucceeded")
    assert watcher.wait_for(target, f"{source}_chained") == "Succeeded"
    task = get_task(fc3_client, target, f"{source}_chained")
    assert task.qualifier == "prod"
    assert json.loads(task.return_payload) == {"word": "one", "qualifier": "prod", "versionId": "1"}
    for name in (source, target):
        fc3_client.delete_function(name)
