"""Reserved concurrency through FC 3.0's SDK: Put/Get/Delete/ListConcurrencyConfigs, and what the limit does to
sync invokes (429 ResourceThrottled at once) and async tasks (they wait, run one at a time, no attempt counted)."""
from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from emulator.redis_io.keys import task_member
from tests.conftest import owned_containers
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v3_error, v3
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import wait_until

FUNCTION = "throttled"
THROTTLED = "ResourceThrottled"


def _put(client: FC3Client, reserved: int, function: str = FUNCTION) -> fc3_models.ConcurrencyConfig:
    request = fc3_models.PutConcurrencyConfigRequest(
        body=fc3_models.PutConcurrencyInput(reserved_concurrency=reserved))
    return client.put_concurrency_config(function, request).body


@pytest.fixture()
def reserved(fc3_client: FC3Client) -> Iterator[FC3Client]:
    """The test function with no API config before and after the test (the emulator is shared)."""
    yield fc3_client
    try:
        fc3_client.delete_concurrency_config(FUNCTION)
    except ClientException as error:
        assert error.code == "ConcurrencyConfigNotFound"


def _invoke_async(client: FC3Client, task_id: str, payload: bytes) -> None:
    headers = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id=task_id)
    reply = client.invoke_function_with_options(FUNCTION, fc3_models.InvokeFunctionRequest(body=payload), headers,
                                                RuntimeOptions())
    assert reply.status_code == 202


def _throttled_events(task: fc3_models.AsyncTask) -> list[fc3_models.AsyncTaskEvent]:
    return [event for event in task.events or [] if THROTTLED in (event.event_detail or "")]


def test_put_get_list_and_delete_a_concurrency_config(reserved: FC3Client, emulator: EmulatorProcess) -> None:
    with pytest.raises(ClientException) as missing:
        reserved.get_concurrency_config(FUNCTION)
    assert missing.value.code == "ConcurrencyConfigNotFound"
    put = _put(reserved, 3)
    assert put.reserved_concurrency == 3
    assert put.function_arn.endswith(f":functions/{FUNCTION}") and put.function_arn.startswith("acs:fc:")
    got = reserved.get_concurrency_config(FUNCTION).body
    assert (got.function_arn, got.reserved_concurrency) == (put.function_arn, 3)
    listed = reserved.list_concurrency_configs(fc3_models.ListConcurrencyConfigsRequest(function_name=FUNCTION)).body
    assert [(config.function_arn, config.reserved_concurrency) for config in listed.configs] == [(put.function_arn, 3)]
    everything = reserved.list_concurrency_configs(fc3_models.ListConcurrencyConfigsRequest(limit=100)).body
    by_arn = {config.function_arn.rpartition("/")[2]: config.reserved_concurrency for config in everything.configs}
    assert by_arn[FUNCTION] == 3
    assert by_arn["serial"] == 1  # from its manifest's concurrencyConfig
    reserved.delete_concurrency_config(FUNCTION)
    with pytest.raises(ClientException) as gone:
        reserved.get_concurrency_config(FUNCTION)
    assert gone.value.code == "ConcurrencyConfigNotFound"
    manifest = reserved.get_concurrency_config("serial").body
    assert manifest.reserved_concurrency == 1


@pytest.mark.parametrize("body", [{"reservedConcurrency": -1}, {"reservedConcurrency": 101}, {},
                                  {"reservedConcurrency": "many"}, {"reservedConcurrency": 1.5}])
def test_bad_concurrency_configs_are_refused(emulator: EmulatorProcess, http: requests.Session,
                                             body: dict[str, object]) -> None:
    reply = http.put(f"{emulator.url}/2023-03-30/functions/{FUNCTION}/concurrency", json=body)
    assert_v3_error(reply, 400, "InvalidArgument")
    missing = http.get(f"{emulator.url}/2023-03-30/functions/{FUNCTION}/concurrency")
    assert_v3_error(missing, 404, "ConcurrencyConfigNotFound")


def test_concurrency_of_an_unknown_function_is_not_found(fc3_client: FC3Client, http: requests.Session,
                                                         emulator: EmulatorProcess) -> None:
    with pytest.raises(ClientException) as raised:
        _put(fc3_client, 1, "no-such-function")
    assert raised.value.code == "FunctionNotFound"
    for method in ("GET", "DELETE"):
        reply = http.request(method, f"{emulator.url}/2023-03-30/functions/no-such-function/concurrency")
        assert_v3_error(reply, 404, "FunctionNotFound")
    listed = http.get(f"{emulator.url}/2023-03-30/concurrency-configs", params={"functionName": "no-such-function"})
    assert_v3_error(listed, 404, "FunctionNotFound")


def test_a_sync_invoke_past_the_reserved_concurrency_is_throttled(
    reserved: FC3Client, emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    _put(reserved, 1)

    def invoke(_: int) -> requests.Response:
        return requests.post(v3(emulator, FUNCTION), data=b"3", timeout=60)

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(invoke, range(2)))
    assert sorted(reply.status_code for reply in replies) == [200, 429]
    refused = next(reply for reply in replies if reply.status_code == 429)
    body = assert_v3_error(refused, 429, THROTTLED)
    assert body["Message"].startswith("Reserve resource exceeded limit")
    # While an async task holds the one instance, a sync invoke is refused at once, not queued behind it.
    task_id = f"busy_{uuid.uuid4().hex[:10]}"
    _invoke_async(reserved, task_id, b"3")
    assert watcher.wait_for(FUNCTION, task_id, "Running") == "Running"
    assert_v3_error(http.post(v3(emulator, FUNCTION), data=b"0"), 429, THROTTLED)
    assert watcher.wait_for(FUNCTION, task_id) == "Succeeded"


def test_async_tasks_past_the_limit_wait_and_run_one_at_a_time(reserved: FC3Client, watcher: TaskWatcher) -> None:
    _put(reserved, 1)
    task_ids = [f"one_{index}_{uuid.uuid4().hex[:8]}" for index in range(3)]
    for task_id in task_ids:
        _invoke_async(reserved, task_id, b"1.5")
    for task_id in task_ids:
        assert watcher.wait_for(FUNCTION, task_id) == "Succeeded"
    tasks = [reserved.get_async_task(FUNCTION, task_id, fc3_models.GetAsyncTaskRequest()).body for task_id in task_ids]
    runs = sorted((json.loads(task.return_payload)["start"], json.loads(task.return_payload)["end"]) for task in tasks)
    for (_, ended), (started, _) in itertools.pairwise(runs):
        assert ended <= started, runs
    # maxAsyncRetryAttempts is 0: a throttled wait counted as an attempt would have failed the task.
    assert [task.already_retried_times for task in tasks] == [0, 0, 0]
    assert sum(1 for task in tasks if _throttled_events(task)) >= 2
    for task in tasks:
        for event in _throttled_events(task):
            assert event.status == "Enqueued"


def test_reserved_concurrency_zero_holds_tasks_until_raised(
    reserved: FC3Client, emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    _put(reserved, 0)
    assert_v3_error(http.post(v3(emulator, FUNCTION), data=b"0"), 429, THROTTLED)
    task_id = f"zero_{uuid.uuid4().hex[:10]}"
    _invoke_async(reserved, task_id, b"0")
    # The throttled event is a second Enqueued event; the task stays Enqueued.
    watcher.wait_until(lambda: watcher.seen[task_member(FUNCTION, task_id)].count("Enqueued") >= 2)
    task = reserved.get_async_task(FUNCTION, task_id, fc3_models.GetAsyncTaskRequest()).body
    assert task.status == "Enqueued"
    assert len(_throttled_events(task)) == 1
    _put(reserved, 1)
    assert watcher.wait_for(FUNCTION, task_id) == "Succeeded"
    done = reserved.get_async_task(FUNCTION, task_id, fc3_models.GetAsyncTaskRequest()).body
    assert done.already_retried_times == 0


@pytest.fixture(scope="module")
def one_instance_emulator(functions_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                          docker_client: docker.DockerClient, module_redis: RedisServer) -> Iterator[EmulatorProcess]:
    """An account whose limit is one instance in all (FCEMU_ACCOUNT_INSTANCE_LIMIT=1)."""
    process = EmulatorProcess(functions_dir, tmp_path_factory.mktemp("one-instance") / "fcemu.log",
                              redis_url=module_redis.url, account_instance_limit="1",
                              dispatcher_enabled="false").start()
    yield process
    process.stop()
    assert owned_containers(docker_client, process.owner) == []


def _instances(emulator: EmulatorProcess, function: str) -> list[dict[str, int]]:
    health = requests.get(f"{emulator.url}/_fcemu/health", timeout=10).json()
    return next(view["instances"] for view in health["functions"] if view["functionName"] == function)


def test_the_account_limit_throttles_every_function_and_idle_instances_make_way(
    one_instance_emulator: EmulatorProcess, http: requests.Session
) -> None:
    emulator = one_instance_emulator
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(requests.post, v3(emulator, FUNCTION), data=b"3", timeout=60)
        # Nothing announces that the instance took the invoke: the health route shows it busy.
        wait_until(lambda: any(view["active"] for view in _instances(emulator, FUNCTION)))
        refused = assert_v3_error(http.post(v3(emulator, "echo"), data=b"x"), 429, THROTTLED)
        assert "FCEMU_ACCOUNT_INSTANCE_LIMIT" in refused["Message"]
        assert slow.result().status_code == 200
    wait_until(lambda: not any(view["active"] for view in _instances(emulator, FUNCTION)))
    # The idle instance of the other function is removed to make room rather than throttle this invoke.
    reply = http.post(v3(emulator, "echo"), data=b"x")
    assert reply.status_code == 200, reply.text
    assert _instances(emulator, FUNCTION) == []
