"""FC 3.0's invocation-control API through FC's official SDK, against real containers: disabling and enabling a
function's invocation (and aborting what runs), GetFunctionCode and its download, ListInstances, provision
configs; and the bad input each refuses, by raw HTTP. Each test deploys functions of its own, so that disabling
one touches no other test's."""
from __future__ import annotations

import base64
import io
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from tests.conftest import owned_containers
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error, code_saying, zipped
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import wait_until, wait_until_gone

SLEEPER = zipped({"main.py": "import time\n\ndef handler(event, context):\n    time.sleep(float(event or b'0'))\n"
                             "    return 'slept'\n"})

# Deploys a function of the test's own from a code zip (SLEEPER by default) and returns its name.
Deploy = Callable[..., str]


@pytest.fixture()
def deploy(fc3_client: FC3Client) -> Iterator[Deploy]:
    """Deploys a function of the test's own (deleted afterwards) and returns its name."""
    names: list[str] = []

    def create(code: bytes = SLEEPER, concurrency: int = 1) -> str:
        name = f"control-{uuid.uuid4().hex[:8]}"
        fc3_client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
            function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=60,
            instance_concurrency=concurrency, code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code).decode()),
        )))
        names.append(name)
        return name

    yield create
    for name in names:
        fc3_client.delete_function(name)


def _invoke(client: FC3Client, name: str, body: bytes = b"0", **headers: str) -> fc3_models.InvokeFunctionResponse:
    return client.invoke_function_with_options(
        name, fc3_models.InvokeFunctionRequest(body=body),
        fc3_models.InvokeFunctionHeaders(common_headers=headers), RuntimeOptions())


def _disable(client: FC3Client, name: str, reason: str | None = None, abort: bool | None = None) -> bool:
    request = fc3_models.DisableFunctionInvocationRequest(abort_ongoing_request=abort, reason=reason)
    return bool(client.disable_function_invocation(name, request).body.success)


def _instances(client: FC3Client, name: str, **filters: object) -> list[fc3_models.InstanceInfo]:
    return client.list_instances(name, fc3_models.ListInstancesRequest(**filters)).body.instances or []


def test_a_disabled_function_refuses_invokes_until_enabled(fc3_client: FC3Client, deploy: Deploy) -> None:
    name = deploy()
    assert _invoke(fc3_client, name).body.read() == b"slept"
    assert fc3_client.get_function(name, fc3_models.GetFunctionRequest()).body.invocation_restriction is None

    assert _disable(fc3_client, name, reason="maintenance")
    restriction = fc3_client.get_function(name, fc3_models.GetFunctionRequest()).body.invocation_restriction
    assert restriction.disable is True and restriction.reason == "maintenance" and restriction.last_modified_time
    for headers in ({}, {"x-fc-invocation-type": "Async"}):
        with pytest.raises(ClientException) as refused:
            _invoke(fc3_client, name, **headers)
        assert refused.value.status_code == 412
        assert refused.value.code == "FunctionInvocationDisabled"
        assert "maintenance" in refused.value.message
    # Its warm instance drained: a disabled function keeps none.
    wait_until(lambda: not _instances(fc3_client, name))

    assert fc3_client.enable_function_invocation(name).body.success is True
    restriction = fc3_client.get_function(name, fc3_models.GetFunctionRequest()).body.invocation_restriction
    assert restriction.disable is False
    assert _invoke(fc3_client, name).body.read() == b"slept"


def test_abort_ongoing_request_fails_a_running_sync_invoke(fc3_client: FC3Client, deploy: Deploy) -> None:
    name = deploy()
    answers: list[fc3_models.InvokeFunctionResponse] = []
    caller = threading.Thread(target=lambda: answers.append(_invoke(fc3_client, name, b"60")))
    caller.start()
    # Listed once the instance serves the invoke (an instance starting is not listed yet).
    wait_until(lambda: len(_instances(fc3_client, name)) == 1)
    assert _disable(fc3_client, name, abort=True)
    caller.join(timeout=60)
    assert not caller.is_alive()
    answer = answers[0]
    assert answer.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert b"abortOngoingRequest" in answer.body.read()
    assert not _instances(fc3_client, name)
    fc3_client.enable_function_invocation(name)


def test_abort_ongoing_request_stops_a_running_async_task(
    fc3_client: FC3Client, deploy: Deploy, redis_server: RedisServer
) -> None:
    name = deploy()
    watcher = TaskWatcher(redis_server.url)
    try:
        _invoke(fc3_client, name, b"60", **{"x-fc-invocation-type": "Async", "x-fc-async-task-id": "held_1"})
        watcher.wait_for(name, "held_1", "Running")
        assert _disable(fc3_client, name, reason="stop it", abort=True)
        assert watcher.wait_for(name, "held_1") == "Stopped"
    finally:
        watcher.close()
    task = fc3_client.get_async_task(name, "held_1", fc3_models.GetAsyncTaskRequest()).body
    assert task.status == "Stopped"


def test_a_deleted_function_takes_its_restriction_along(fc3_client: FC3Client) -> None:
    name = f"control-{uuid.uuid4().hex[:8]}"
    body = fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying("again")).decode()))
    fc3_client.create_function(fc3_models.CreateFunctionRequest(body=body))
    _disable(fc3_client, name)
    fc3_client.delete_function(name)
    fc3_client.create_function(fc3_models.CreateFunctionRequest(body=body))
    try:
        assert fc3_client.get_function(name, fc3_models.GetFunctionRequest()).body.invocation_restriction is None
        assert _invoke(fc3_client, name, b"x").body.read() == b"again x"
    finally:
        fc3_client.delete_function(name)


def test_function_code_of_a_deployed_function(fc3_client: FC3Client, deploy: Deploy, http: requests.Session) -> None:
    name = deploy()
    code = fc3_client.get_function_code(name, fc3_models.GetFunctionCodeRequest()).body
    assert code.checksum == fc3_client.get_function(name, fc3_models.GetFunctionRequest()).body.code_checksum
    download = http.get(code.url)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.content == SLEEPER


def test_function_code_of_a_folder_function(fc3_client: FC3Client, http: requests.Session) -> None:
    code = fc3_client.get_function_code("hello", fc3_models.GetFunctionCodeRequest(qualifier="LATEST")).body
    assert code.checksum == fc3_client.get_function("hello", fc3_models.GetFunctionRequest()).body.code_checksum
    with zipfile.ZipFile(io.BytesIO(http.get(code.url).content)) as archive:
        names = archive.namelist()
    assert "function.yaml" in names and any(entry.endswith(".py") for entry in names)
    assert not any("__pycache__" in entry for entry in names)


def test_a_page_of_another_site_cannot_read_the_code(fc3_client: FC3Client, http: requests.Session) -> None:
    url = fc3_client.get_function_code("hello", fc3_models.GetFunctionCodeRequest()).body.url
    assert_v3_error(http.get(url, headers={"Origin": "http://evil.example"}), 403, "AccessDenied")
    assert_v3_error(http.get(url, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                           "Sec-Fetch-Dest": "document"}), 403, "AccessDenied")


def test_list_instances_shows_the_instance_that_served(fc3_client: FC3Client, deploy: Deploy) -> None:
    name = deploy()
    served = _invoke(fc3_client, name).headers["x-fc-instance-id"]
    listed = _instances(fc3_client, name, qualifier="LATEST")
    assert [(i.instance_id, i.qualifier, i.version_id, i.status) for i in listed] == [
        (served, "LATEST", "0", "Running")]
    assert listed[0].created_time_ms > 0 and listed[0].resource_type == "OnDemand"
    assert [i.instance_id for i in _instances(fc3_client, name, instance_ids=[served])] == [served]
    assert _instances(fc3_client, name, instance_ids=["another"]) == []


def test_provision_config_keeps_instances_warm(fc3_client: FC3Client, deploy: Deploy) -> None:
    name = deploy()
    put = fc3_client.put_provision_config(name, fc3_models.PutProvisionConfigRequest(
        qualifier="LATEST", body=fc3_models.PutProvisionConfigInput(default_target=2, always_allocate_cpu=False,
                                                                    scheduled_actions=[]))).body
    assert (put.default_target, put.target, put.always_allocate_cpu) == (2, 2, False)
    assert put.function_arn.endswith(f":functions/{name}")

    def current() -> int:
        return fc3_client.get_provision_config(name, fc3_models.GetProvisionConfigRequest()).body.current or 0

    wait_until(lambda: current() == 2, timeout=60)
    assert [i.resource_type for i in _instances(fc3_client, name)] == ["Provisioned", "Provisioned"]
    listed = fc3_client.list_provision_configs(fc3_models.ListProvisionConfigsRequest(function_name=name)).body
    assert [(c.function_arn, c.default_target) for c in listed.provision_configs] == [(put.function_arn, 2)]

    fc3_client.delete_provision_config(name, fc3_models.DeleteProvisionConfigRequest(qualifier="LATEST"))
    assert fc3_client.get_provision_config(name, fc3_models.GetProvisionConfigRequest()).body.function_arn is None
    # Idle, and no longer kept: they go at once.
    wait_until(lambda: not _instances(fc3_client, name))


def test_bad_input_is_refused(emulator: EmulatorProcess, deploy: Deploy, http: requests.Session) -> None:
    name = deploy()
    base = f"{emulator.url}/2023-03-30/functions"
    disable = f"{base}/{name}/invoke/disable"
    assert_v3_error(http.post(disable, json={"reason": 5}), 400, "InvalidArgument")
    assert_v3_error(http.post(disable, json={"reason": "x" * 257}), 400, "InvalidArgument")
    assert_v3_error(http.post(disable, json={"abortOngoingRequest": "maybe"}), 400, "InvalidArgument")
    assert_v3_error(http.post(disable, data=b"[1]", headers={"content-type": "application/json"}), 400,
                    "InvalidArgument")
    assert_v3_error(http.post(f"{base}/missing/invoke/disable", json={}), 404, "FunctionNotFound")
    assert_v3_error(http.post(f"{base}/missing/invoke/enable"), 404, "FunctionNotFound")
    assert_v3_error(http.get(f"{base}/{name}/code", params={"qualifier": "1"}), 404, "VersionNotFound")
    assert_v3_error(http.get(f"{emulator.url}/_fcemu/functions/missing/code.zip"), 404, "FunctionNotFound")
    instances = f"{base}/{name}/instances"
    assert_v3_error(http.get(instances, params={"limit": "many"}), 400, "InvalidArgument")
    assert_v3_error(http.get(instances, params={"limit": "1001"}), 400, "InvalidArgument")
    assert_v3_error(http.get(instances, params={"instanceIds": "[1, 2"}), 400, "InvalidArgument")
    assert_v3_error(http.get(instances, params={"qualifier": "prod"}), 404, "AliasNotFound")
    provision = f"{base}/{name}/provision-config"
    assert_v3_error(http.put(provision, json={}), 400, "InvalidArgument")
    assert_v3_error(http.put(provision, json={"defaultTarget": -1}), 400, "InvalidArgument")
    assert_v3_error(http.put(provision, json={"target": 10001}), 400, "InvalidArgument")
    assert_v3_error(http.put(provision, json={"defaultTarget": 1, "scheduledActions": {}}), 400, "InvalidArgument")
    assert_v3_error(http.delete(provision), 404, "ProvisionConfigNotFound")
    assert_v3_error(http.get(f"{emulator.url}/2023-03-30/provision-configs", params={"limit": "0"}), 400,
                    "InvalidArgument")
    # Nothing was disabled or stored by any of it.
    assert http.post(f"{base}/{name}/invocations", data=b"0").content == b"slept"


@pytest.fixture(scope="module")
def quick_idle(functions_dir: Path, tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer,
               docker_client: docker.DockerClient) -> Iterator[EmulatorProcess]:
    """An emulator of its own whose idle instances are reclaimed after a second."""
    process = EmulatorProcess(functions_dir, tmp_path_factory.mktemp("quick-idle") / "fcemu.log",
                              redis_url=module_redis.url, idle_timeout_s="1").start()
    yield process
    process.stop()
    assert owned_containers(docker_client, process.owner) == [], "the emulator left containers behind"


def test_a_provisioned_instance_outlives_the_idle_timeout(quick_idle: EmulatorProcess) -> None:
    client = FC3Client(openapi_models.Config(access_key_id="test-ak", access_key_secret="test-sk",
                                             endpoint=f"127.0.0.1:{quick_idle.port}", protocol="http"))
    name = f"control-{uuid.uuid4().hex[:8]}"
    client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=60,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(SLEEPER).decode()))))
    try:
        client.put_provision_config(name, fc3_models.PutProvisionConfigRequest(
            body=fc3_models.PutProvisionConfigInput(target=1)))
        wait_until(lambda: len(_instances(client, name)) == 1, timeout=60)
        kept = _instances(client, name)[0].instance_id
        after = quick_idle.log_lines
        # Served, then idle: its idle timer runs out a second later, and the instance stays.
        assert _invoke(client, name).headers["x-fc-instance-id"] == kept
        quick_idle.wait_for_log(f"keeping idle instance {kept} of {name}", after=after)
        assert [i.instance_id for i in _instances(client, name)] == [kept]
    finally:
        client.delete_function(name)


def test_queued_tasks_wait_and_timers_skip_while_disabled(
    quick_idle: EmulatorProcess, module_redis: RedisServer, http: requests.Session
) -> None:
    """On an emulator of its own, whose clock this test advances."""
    client = FC3Client(openapi_models.Config(access_key_id="test-ak", access_key_secret="test-sk",
                                             endpoint=f"127.0.0.1:{quick_idle.port}", protocol="http"))
    name = f"control-{uuid.uuid4().hex[:8]}"
    client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=60,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(SLEEPER).decode()))))
    watcher = TaskWatcher(module_redis.url)
    try:
        # Accepted before the disabling, due an hour later.
        _invoke(client, name, b"0", **{"x-fc-invocation-type": "Async", "x-fc-async-task-id": "queued_1",
                                       "x-fc-async-delay": "3600"})
        mark = quick_idle.log_lines
        trigger = {"triggerName": "hourly", "triggerType": "timer",
                   "triggerConfig": '{"cronExpression": "0 0 * * * *"}'}
        assert http.post(f"{quick_idle.url}/2023-03-30/functions/{name}/triggers", json=trigger).status_code == 200
        quick_idle.wait_for_log(f"trigger hourly of {name}: next firing at", after=mark)
        _disable(client, name, reason="held")
        mark = quick_idle.log_lines
        assert http.post(f"{quick_idle.url}/_fcemu/clock/advance", json={"by": "2h"}).status_code == 200
        # The advance reached the dispatcher: its timer was not fired, and the due task was not claimed.
        quick_idle.wait_for_log(f"trigger hourly of {name} not fired for", after=mark)
        task = client.get_async_task(name, "queued_1", fc3_models.GetAsyncTaskRequest()).body
        assert task.status == "Enqueued"

        client.enable_function_invocation(name)
        assert watcher.wait_for(name, "queued_1") == "Succeeded"
        assert not any(member.startswith(f"{name}/timer-") for member in watcher.seen), "no firing was queued"
    finally:
        watcher.close()
        client.delete_function(name)


def test_fc2_provision_config_and_instances(fc2_client: fc2.Client, deploy: Deploy, emulator: EmulatorProcess,
                                            http: requests.Session) -> None:
    """FC 2.0's operations through aliyun-fc2: a deployed FC 3.0 function `f` is `f` of the default service."""
    name = deploy()
    put = fc2_client.put_provision_config("default", "LATEST", name, 1).data
    assert put["target"] == 1 and put["resource"].endswith(f"#default#LATEST#{name}")

    def current() -> int:
        return int(fc2_client.get_provision_config("default", "LATEST", name).data["current"])

    wait_until(lambda: current() == 1, timeout=60)
    listed = fc2_client.list_provision_configs("default", "LATEST", limit=100).data["provisionConfigs"]
    assert [config["target"] for config in listed if config["resource"] == put["resource"]] == [1]
    instances = fc2_client.list_instances("default", "LATEST", name).data["instances"]
    assert [instance["versionId"] for instance in instances] == ["0"]

    # FC 2.0 has no DeleteProvisionConfig: a target of 0 removes it.
    assert fc2_client.put_provision_config("default", "LATEST", name, 0).data["target"] == 0
    wait_until(lambda: not fc2_client.list_instances("default", "LATEST", name).data["instances"])
    with pytest.raises(fc2.FcError) as refused:
        fc2_client.get_provision_config("default", "prod", name)
    assert (refused.value.status_code, refused.value.err_code) == (404, "AliasNotFound")
    v2 = f"{emulator.url}/2016-08-15"
    assert_v2_error(http.put(f"{v2}/services/default/functions/{name}/provision-config", json={"target": -1}), 400,
                    "InvalidArgument")
    assert_v2_error(http.get(f"{v2}/provision-configs", params={"qualifier": "LATEST"}), 400, "InvalidArgument")
    assert_v2_error(http.get(f"{v2}/services/default/functions/{name}/instances", params={"limit": "x"}), 400,
                    "InvalidArgument")


def test_a_separate_dispatcher_hears_the_disabling(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    """The API's process and a dispatcher of its own: the dispatcher's running task is stopped and its instance
    removed when the API disables the function with abortOngoingRequest."""
    api = EmulatorProcess(functions_dir, tmp_path / "api.log", redis_url=own_redis.url,
                          dispatcher_enabled="false").start()
    dispatcher = EmulatorProcess(functions_dir, tmp_path / "dispatcher.log", redis_url=own_redis.url,
                                 command="dispatcher").start()
    watcher = TaskWatcher(own_redis.url)
    client = FC3Client(openapi_models.Config(access_key_id="test-ak", access_key_secret="test-sk",
                                             endpoint=f"127.0.0.1:{api.port}", protocol="http"))
    name = f"control-{uuid.uuid4().hex[:8]}"
    try:
        client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
            function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=60,
            code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(SLEEPER).decode()))))
        _invoke(client, name, b"60", **{"x-fc-invocation-type": "Async", "x-fc-async-task-id": "far_1"})
        watcher.wait_for(name, "far_1", "Running")
        running_on = owned_containers(docker_client, dispatcher.owner)
        assert len(running_on) == 1, "the dispatcher's instance runs it"
        assert not _instances(client, name), "the API's process has no instance of it (ListInstances is per process)"
        _disable(client, name, abort=True)
        assert watcher.wait_for(name, "far_1") == "Stopped"
        wait_until_gone(docker_client, running_on[0])
    finally:
        watcher.close()
        client.delete_function(name)
        dispatcher.stop()
        api.stop()
    assert owned_containers(docker_client, dispatcher.owner) == []
