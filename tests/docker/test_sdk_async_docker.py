"""FC's official SDKs driving async invocation and the task APIs."""
from __future__ import annotations

import uuid

import fc2
import pytest
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from tests.support.task_watcher import TaskWatcher


def test_fc3_sdk_async_task_lifecycle(fc3_client: FC3Client, watcher: TaskWatcher) -> None:
    task_id = f"sdk_{uuid.uuid4().hex[:10]}"
    headers = fc3_models.InvokeFunctionHeaders(
        x_fc_invocation_type="Async", x_fc_async_task_id=task_id, common_headers={"x-fc-async-delay": "1"}
    )
    reply = fc3_client.invoke_function_with_options(
        "hello", fc3_models.InvokeFunctionRequest(body=b'{"name": "sdk"}'), headers, RuntimeOptions()
    )
    assert reply.status_code == 202
    assert reply.headers["x-fc-async-task-id"] == task_id
    assert watcher.wait_for("hello", task_id) == "Succeeded"
    task = fc3_client.get_async_task("hello", task_id, fc3_models.GetAsyncTaskRequest()).body
    assert task.status == "Succeeded"
    assert task.return_payload == "hello sdk"
    assert [event.status for event in task.events] == ["Enqueued", "Dequeued", "Running", "Succeeded"]
    listed = fc3_client.list_async_tasks(
        "hello", fc3_models.ListAsyncTasksRequest(prefix=task_id, include_payload=True, limit=10)
    ).body
    assert [item.task_id for item in listed.tasks] == [task_id]
    assert listed.tasks[0].task_payload == '{"name": "sdk"}'


def test_fc3_sdk_stops_a_queued_task(fc3_client: FC3Client, watcher: TaskWatcher) -> None:
    task_id = f"sdk_stop_{uuid.uuid4().hex[:10]}"
    headers = fc3_models.InvokeFunctionHeaders(
        x_fc_invocation_type="Async", x_fc_async_task_id=task_id, common_headers={"x-fc-async-delay": "600"}
    )
    fc3_client.invoke_function_with_options("hello", fc3_models.InvokeFunctionRequest(body=b"{}"), headers,
                                            RuntimeOptions())
    fc3_client.stop_async_task("hello", task_id, fc3_models.StopAsyncTaskRequest())
    assert watcher.wait_for("hello", task_id) == "Stopped"
    with pytest.raises(ClientException) as raised:
        fc3_client.stop_async_task("hello", task_id, fc3_models.StopAsyncTaskRequest())
    assert raised.value.code == "AsyncTaskAlreadyCompleted"
    with pytest.raises(ClientException) as missing:
        fc3_client.get_async_task("hello", "no_such_task", fc3_models.GetAsyncTaskRequest())
    assert missing.value.code == "AsyncTaskNotFound"


def test_fc2_sdk_async_invoke_with_delay_and_task_id(fc2_client: fc2.Client, watcher: TaskWatcher) -> None:
    task_id = f"fc2_{uuid.uuid4().hex[:10]}"
    reply = fc2_client.invoke_function(
        "default", "hello", payload=b'{"name": "fc2"}',
        headers={"x-fc-invocation-type": "Async", "x-fc-async-delay": "1",
                 "x-fc-stateful-async-invocation-id": task_id},
    )
    assert reply.headers["x-fc-stateful-async-invocation-id"] == task_id
    assert watcher.wait_for("hello", task_id) == "Succeeded"
