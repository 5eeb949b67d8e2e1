"""Deploying functions through the API with FC's official SDKs: create from a zip, invoke, update the code,
delete; FC 2.0 services; and zips that must be refused."""
from __future__ import annotations

import base64
import io
import uuid
import zipfile
from pathlib import Path

import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v3_error, code_saying, zipped
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher


def test_deploy_invoke_update_and_delete_with_the_fc3_sdk(
    fc3_client: FC3Client, redis_server: RedisServer, emulator: EmulatorProcess
) -> None:
    name = f"deployed-{uuid.uuid4().hex[:6]}"
    created = fc3_client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying("v1")).decode()),
    ))).body
    assert created.function_name == name
    assert created.code_size > 0 and created.code_checksum
    first = fc3_client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b"sync"))
    assert first.body.read() == b"v1 sync"

    watcher = TaskWatcher(redis_server.url)
    try:
        headers = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id="deployed_1",
                                                   common_headers={"x-fc-async-delay": "1"})
        fc3_client.invoke_function_with_options(name, fc3_models.InvokeFunctionRequest(body=b"later"), headers,
                                                RuntimeOptions())
        assert watcher.wait_for(name, "deployed_1") == "Succeeded"
    finally:
        watcher.close()
    task = fc3_client.get_async_task(name, "deployed_1", fc3_models.GetAsyncTaskRequest()).body
    assert task.return_payload == "v1 later"

    fc3_client.update_function(name, fc3_models.UpdateFunctionRequest(body=fc3_models.UpdateFunctionInput(
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying("v2")).decode()))))
    second = fc3_client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b"sync"))
    assert second.body.read() == b"v2 sync"
    assert second.headers["x-fc-instance-id"] != first.headers["x-fc-instance-id"]

    got = fc3_client.get_function(name, fc3_models.GetFunctionRequest()).body
    assert got.memory_size == 128 and got.handler == "main.handler"
    names = [f.function_name for f in fc3_client.list_functions(fc3_models.ListFunctionsRequest(limit=100)).body.functions]
    assert name in names and "hello" in names, "functions from functions/ are listed too"
    fc3_client.delete_function(name)
    with pytest.raises(ClientException) as raised:
        fc3_client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b"gone"))
    assert raised.value.code == "FunctionNotFound"


def test_services_and_functions_with_the_fc2_sdk(fc2_client: fc2.Client, tmp_path: Path) -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    fc2_client.create_service(service, description="made by a test")
    assert fc2_client.get_service(service).data["serviceName"] == service
    assert service in [s["serviceName"] for s in fc2_client.list_services(limit=100).data["services"]]
    code = tmp_path / "code.zip"
    code.write_bytes(code_saying("fc2"))
    created = fc2_client.create_function(service, "greeter", "python3.10", "main.handler", codeZipFile=str(code))
    assert created.data["functionName"] == "greeter"
    assert fc2_client.invoke_function(service, "greeter", payload=b"hi").data == b"fc2 hi"
    listed = fc2_client.list_functions(service).data["functions"]
    assert [f["functionName"] for f in listed] == ["greeter"]
    assert fc2_client.get_function(service, "greeter").data["handler"] == "main.handler"
    with pytest.raises(fc2.FcError) as not_empty:
        fc2_client.delete_service(service)
    assert not_empty.value.err_code == "ServiceNotEmpty"
    fc2_client.delete_function(service, "greeter")
    fc2_client.delete_service(service)
    with pytest.raises(fc2.FcError) as gone:
        fc2_client.get_service(service)
    assert gone.value.err_code == "ServiceNotFound"


def _zip_with(entry: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(entry, "x")
    return buffer.getvalue()


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize("zip_bytes, words", [
    (b"not a zip at all", "not a valid zip"),
    (_zip_with("../escape.py"), "points outside"),
    (_zip_with("/abs.py"), "points outside"),
    (_symlink_zip(), "symbolic link"),
])
def test_bad_zips_are_refused(emulator: EmulatorProcess, zip_bytes: bytes, words: str) -> None:
    reply = requests.post(f"{emulator.url}/2023-03-30/functions", json={
        "functionName": f"bad-{uuid.uuid4().hex[:6]}", "runtime": "python3.10", "handler": "main.handler",
        "code": {"zipFile": base64.b64encode(zip_bytes).decode()}}, timeout=30)
    body = assert_v3_error(reply, 400, "InvalidArgument")
    assert words in body["Message"]


def test_functions_from_the_folder_are_not_changed_through_the_api(emulator: EmulatorProcess) -> None:
    reply = requests.put(f"{emulator.url}/2023-03-30/functions/hello", json={"timeout": 9}, timeout=30)
    assert "function.yaml" in assert_v3_error(reply, 400, "InvalidArgument")["Message"]
    duplicate = requests.post(f"{emulator.url}/2023-03-30/functions", json={
        "functionName": "hello", "runtime": "python3.10", "handler": "main.handler",
        "code": {"zipFile": base64.b64encode(code_saying("x")).decode()}}, timeout=30)
    assert_v3_error(duplicate, 409, "FunctionAlreadyExists")
    invalid = requests.post(f"{emulator.url}/2023-03-30/functions", json={
        "functionName": "badmem", "runtime": "python3.10", "handler": "main.handler", "memorySize": 100,
        "code": {"zipFile": base64.b64encode(code_saying("x")).decode()}}, timeout=30)
    assert "memorySize" in assert_v3_error(invalid, 400, "InvalidArgument")["Message"]


def test_updates_within_one_second_each_run_their_own_settings(emulator: EmulatorProcess) -> None:
    """lastModifiedTime has whole seconds and the code stays the same; each save still unpacks anew."""
    name = f"quick-{uuid.uuid4().hex[:6]}"
    base = f"{emulator.url}/2023-03-30/functions"
    code = zipped({"main.py": "import os\ndef handler(event, context):\n    return os.environ['WORD']\n"})

    def deploy(method: str, url: str, word: str) -> None:
        body = {"functionName": name, "runtime": "python3.10", "handler": "main.handler", "memorySize": 128,
                "environmentVariables": {"WORD": word}, "code": {"zipFile": base64.b64encode(code).decode()}}
        assert requests.request(method, url, json=body, timeout=30).status_code == 200

    deploy("POST", base, "v1")
    try:
        for word in ("v2", "v3", "v4"):
            deploy("PUT", f"{base}/{name}", word)
            answer = requests.post(f"{base}/{name}/invocations", data=b"x", timeout=30)
            assert answer.content == word.encode()
    finally:
        requests.delete(f"{base}/{name}", timeout=30)
