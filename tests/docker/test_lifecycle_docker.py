"""FC's PreStop hook: called once before an instance is removed in good order (reclaimed when idle, drained by a code
update, removed at shutdown), bounded by its timeout; a failing or hanging hook never keeps an instance. The hook
proves it ran by POSTing to a sink on the host, which the containers reach as host.docker.internal."""
from __future__ import annotations

import base64
import io
import json
import queue
import textwrap
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi import models as openapi_models

from tests.conftest import owned_containers
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.http_sink import HttpSink
from tests.support.redis_server import RedisServer
from tests.support.waits import docker_bridge_gateway, wait_until_gone

HOOK_CODE = textwrap.dedent('''
    import json
    import os
    import time
    import urllib.request

    VERSION = "%s"


    def handler(event, context):
        return VERSION


    def report(context, what):
        body = json.dumps({
            "what": what, "version": VERSION, "instance": os.environ["HOSTNAME"], "requestId": context.request_id,
            "function": context.function.name,
        }).encode()
        urllib.request.urlopen(urllib.request.Request(os.environ["SINK_URL"], data=body), timeout=10).read()


    def pre_stop(context):
        report(context, "preStop")
        return "bye"


    def pre_stop_hangs(context):
        report(context, "hanging")
        time.sleep(3600)


    def pre_stop_fails(context):
        report(context, "failing")
        raise RuntimeError("the hook broke")
''')


def code(version: str) -> str:
    return HOOK_CODE % version


def write_function(root: Path, name: str, sink_url: str, hook: str, timeout: int = 3) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "index.py").write_text(code("v1"))
    (folder / "function.yaml").write_text(textwrap.dedent(f"""\
        functionName: {name}
        runtime: python3.10
        handler: index.handler
        memorySize: 128
        timeout: 5
        environmentVariables:
          SINK_URL: "{sink_url}"
        instanceLifecycleConfig:
          preStop:
            handler: index.{hook}
            timeout: {timeout}
        """))


def zipped(text: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", text)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture()
def sink() -> Iterator[HttpSink]:
    # Containers reach the host at the bridge's gateway (host.docker.internal), not at 127.0.0.1.
    started = HttpSink(host=docker_bridge_gateway()).start()
    yield started
    started.stop()


def container_url(sink: HttpSink) -> str:
    return f"http://host.docker.internal:{sink.port}/records"


def next_report(sink: HttpSink) -> dict[str, str]:
    return json.loads(sink.next_body(timeout=60))


def assert_no_more_reports(sink: HttpSink) -> None:
    with pytest.raises(queue.Empty):
        sink.received.get_nowait()


def test_the_hook_runs_once_when_an_idle_instance_is_reclaimed_and_a_hanging_or_failing_one_does_not_keep_it(
    tmp_path: Path, redis_server: RedisServer, sink: HttpSink, docker_client: docker.DockerClient
) -> None:
    functions = tmp_path / "functions"
    write_function(functions, "goodbye", container_url(sink), "pre_stop")
    write_function(functions, "hangs", container_url(sink), "pre_stop_hangs", timeout=1)
    write_function(functions, "fails", container_url(sink), "pre_stop_fails")
    emulator = EmulatorProcess(functions, tmp_path / "fcemu.log", redis_url=redis_server.url, idle_timeout_s="1",
                               dispatcher_enabled="false").start()
    try:
        reply = requests.post(v3(emulator, "goodbye"), data=b"", timeout=30)
        assert reply.content == b"v1"
        instance = reply.headers["x-fc-instance-id"]
        report = next_report(sink)
        assert report["what"] == "preStop" and report["instance"] == instance and report["function"] == "goodbye"
        assert report["requestId"]
        emulator.wait_for_log(f"preStop hook of goodbye ran on instance {instance}")
        wait_until_gone(docker_client, instance)
        assert_no_more_reports(sink)

        hanging = requests.post(v3(emulator, "hangs"), data=b"", timeout=30).headers["x-fc-instance-id"]
        assert next_report(sink) == {**next_report_shape("hanging", hanging, "hangs")}
        emulator.wait_for_log(f"preStop hook of hangs on instance {hanging} timed out after 1 s")
        wait_until_gone(docker_client, hanging)

        failing = requests.post(v3(emulator, "fails"), data=b"", timeout=30).headers["x-fc-instance-id"]
        assert next_report(sink)["instance"] == failing
        emulator.wait_for_log(f"preStop hook of fails on instance {failing} failed")
        wait_until_gone(docker_client, failing)
        assert_no_more_reports(sink)
    finally:
        emulator.stop()
    assert owned_containers(docker_client, emulator.owner) == []


def next_report_shape(what: str, instance: str, function: str) -> dict[str, str]:
    """What a hook reports, less its request id (a fresh one per call)."""
    return {"what": what, "version": "v1", "instance": instance, "function": function, "requestId": ANY}


class _Any:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


ANY = _Any()


def test_the_hook_runs_when_a_code_update_drains_the_instance_and_at_shutdown(
    tmp_path: Path, sink: HttpSink, docker_client: docker.DockerClient
) -> None:
    (tmp_path / "functions").mkdir()
    # A Redis of its own: a function deployed in the shared one would show up in every other test's emulator.
    redis_server = RedisServer(tmp_path / "redis").start()
    emulator = EmulatorProcess(tmp_path / "functions", tmp_path / "fcemu.log", redis_url=redis_server.url,
                               dispatcher_enabled="false").start()
    client = FC3Client(openapi_models.Config(access_key_id="test-ak", access_key_secret="test-sk",
                                             endpoint=f"127.0.0.1:{emulator.port}", protocol="http"))
    name = f"deployed-{uuid.uuid4().hex[:6]}"
    try:
        refused = requests.post(f"{emulator.url}/2023-03-30/functions", timeout=30, json={
            "functionName": name, "runtime": "python3.10", "handler": "index.handler",
            "instanceLifecycleConfig": {"preStop": {"handler": "index.pre_stop", "timeout": 0}}})
        assert refused.status_code == 400 and refused.json()["Code"] == "InvalidArgument"
        assert "instanceLifecycleConfig.preStop.timeout" in refused.json()["Message"]
        client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
            function_name=name, runtime="python3.10", handler="index.handler", memory_size=128, timeout=5,
            environment_variables={"SINK_URL": container_url(sink)},
            instance_lifecycle_config=fc3_models.InstanceLifecycleConfig(
                pre_stop=fc3_models.LifecycleHook(handler="index.pre_stop", timeout=5)),
            code=fc3_models.InputCodeLocation(zip_file=zipped(code("v1")))),
        ))
        shown = client.get_function(name, fc3_models.GetFunctionRequest()).body
        assert shown.instance_lifecycle_config.pre_stop.handler == "index.pre_stop"
        first = client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b""))
        assert first.body.read() == b"v1"
        old = first.headers["x-fc-instance-id"]
        assert_no_more_reports(sink)

        client.update_function(name, fc3_models.UpdateFunctionRequest(body=fc3_models.UpdateFunctionInput(
            code=fc3_models.InputCodeLocation(zip_file=zipped(code("v2"))))))
        assert next_report(sink) == next_report_shape("preStop", old, name)
        wait_until_gone(docker_client, old)
        second = client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b""))
        assert second.body.read() == b"v2"
        new = second.headers["x-fc-instance-id"]
        assert_no_more_reports(sink)
    finally:
        emulator.stop()
        redis_server.stop()
    report = next_report(sink)
    assert report["instance"] == new and report["version"] == "v2"
    assert_no_more_reports(sink)
    assert owned_containers(docker_client, emulator.owner) == []
