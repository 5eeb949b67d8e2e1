"""FC's layer API against a real `fcemu serve`, real Redis and real containers: a layer zip published with raw
HTTP and with the official FC 3.0 SDK, read back every way FC offers, used by a function that imports from
/opt/python; version numbers after deletes and above the layer folder's; a deleted version refused to new
functions while the function already using it keeps running; FC's error shapes on both API versions; a second
emulator process on the same Redis sees what the first published."""
from __future__ import annotations

import base64
import json
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi import models as openapi_models

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error, zipped
from tests.support.redis_server import RedisServer

ACCOUNT, REGION = "1234567890123456", "cn-hangzhou"
V3, V2 = "/2023-03-30", "/2016-08-15"


@pytest.fixture(scope="module")
def layers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A layer folder holding `folderlayer` version 3."""
    root = tmp_path_factory.mktemp("layers")
    module = root / "folderlayer" / "3" / "python" / "folderlib.py"
    module.parent.mkdir(parents=True)
    module.write_text("WHO = 'folderlib from folderlayer/3'\n")
    return root


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer, layers_dir: Path
             ) -> Iterator[EmulatorProcess]:
    base = tmp_path_factory.mktemp("layer-api")
    (base / "functions").mkdir()
    process = EmulatorProcess(base / "functions", base / "fcemu.log", redis_url=module_redis.url,
                              layers_dir=str(layers_dir)).start()
    yield process
    process.stop()


def _name() -> str:
    return f"lib-{uuid.uuid4().hex[:8]}"


def _layer_zip(word: str) -> bytes:
    return zipped({"python/mylib.py": f"WHO = {word!r}\n"})


def _publish(emulator: EmulatorProcess, name: str, word: str, api: str = V3) -> requests.Response:
    return requests.post(f"{emulator.url}{api}/layers/{name}/versions", json={
        "code": {"zipFile": base64.b64encode(_layer_zip(word)).decode()}, "compatibleRuntime": ["python3.10"],
        "description": f"says {word}", "license": "MIT",
    }, timeout=60)


def _arn(name: str, version: int) -> str:
    return f"acs:fc:{REGION}:{ACCOUNT}:layers/{name}/versions/{version}"


def _create_function(emulator: EmulatorProcess, function: str, layers: list[str], module: str = "mylib"
                     ) -> requests.Response:
    code = zipped({"main.py": f"import {module}\n\ndef handler(event, context):\n    return {module}.WHO\n"})
    return requests.post(f"{emulator.url}{V3}/functions", json={
        "functionName": function, "runtime": "python3.10", "handler": "main.handler",
        "code": {"zipFile": base64.b64encode(code).decode()}, "layers": layers,
    }, timeout=60)


def _invoke(emulator: EmulatorProcess, function: str) -> bytes:
    reply = requests.post(f"{emulator.url}{V3}/functions/{function}/invocations", data=b"", timeout=60)
    assert reply.status_code == 200, reply.text
    assert "x-fc-error-type" not in reply.headers, reply.text
    return reply.content


def test_publish_read_back_and_invoke_with_raw_http(emulator: EmulatorProcess) -> None:
    name = _name()
    reply = _publish(emulator, name, "v1 of mylib")
    assert reply.status_code == 200, reply.text
    layer = reply.json()
    assert layer["layerName"] == name and layer["version"] == 1
    assert layer["layerVersionArn"] == _arn(name, 1)
    assert layer["acl"] == "0"
    assert layer["compatibleRuntime"] == ["python3.10"]
    assert (layer["description"], layer["license"]) == ("says v1 of mylib", "MIT")
    assert layer["codeSize"] == len(_layer_zip("v1 of mylib")) and layer["codeChecksum"]
    assert layer["createTime"].endswith("Z") and layer["code"]["repositoryType"] == "Local"
    assert _publish(emulator, name, "v2 of mylib").json()["version"] == 2

    got = requests.get(f"{emulator.url}{V3}/layers/{name}/versions/1", timeout=30)
    assert got.status_code == 200 and got.json() == layer
    by_arn = requests.get(f"{emulator.url}{V3}/layerarn/{urllib.parse.quote(_arn(name, 2), safe='')}", timeout=30)
    assert by_arn.status_code == 200, by_arn.text
    assert by_arn.json()["version"] == 2
    versions = requests.get(f"{emulator.url}{V3}/layers/{name}/versions", params={"limit": 1}, timeout=30).json()
    assert [v["version"] for v in versions["layers"]] == [1] and versions["nextVersion"] == 2
    rest = requests.get(f"{emulator.url}{V3}/layers/{name}/versions", params={"startVersion": 2}, timeout=30).json()
    assert [v["version"] for v in rest["layers"]] == [2] and "nextVersion" not in rest
    listed = requests.get(f"{emulator.url}{V3}/layers", params={"prefix": name}, timeout=30).json()
    assert [(item["layerName"], item["version"]) for item in listed["layers"]] == [(name, 2)], "latest only"

    function = f"uses-{name}"
    created = _create_function(emulator, function, [_arn(name, 1)])
    assert created.status_code == 200, created.text
    assert _invoke(emulator, function) == b"v1 of mylib"


def test_publish_and_read_with_the_official_fc3_sdk(emulator: EmulatorProcess) -> None:
    client = FC3Client(openapi_models.Config(access_key_id="test-ak", access_key_secret="test-sk",
                                             endpoint=f"127.0.0.1:{emulator.port}", protocol="http"))
    name = _name()
    created = client.create_layer_version(name, fc3_models.CreateLayerVersionRequest(
        body=fc3_models.CreateLayerVersionInput(
            code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(_layer_zip("from the sdk")).decode()),
            compatible_runtime=["python3.10"], description="sdk layer", license="Apache")))
    assert created.body.version == 1 and created.body.layer_version_arn == _arn(name, 1)
    assert client.get_layer_version(name, "1").body.description == "sdk layer"
    assert client.get_layer_version_by_arn(_arn(name, 1)).body.layer_name == name
    versions = client.list_layer_versions(name, fc3_models.ListLayerVersionsRequest(limit=10)).body
    assert [layer.version for layer in versions.layers] == [1]
    listed = client.list_layers(fc3_models.ListLayersRequest(prefix=name)).body
    assert [layer.layer_name for layer in listed.layers] == [name]
    client.delete_layer_version(name, "1")
    assert client.list_layers(fc3_models.ListLayersRequest(prefix=name)).body.layers == []


def test_a_deleted_version_is_never_reused_refused_to_new_functions_and_kept_for_its_users(
    emulator: EmulatorProcess,
) -> None:
    name = _name()
    assert _publish(emulator, name, "first").json()["version"] == 1
    user = f"keeps-{name}"
    assert _create_function(emulator, user, [_arn(name, 1)]).status_code == 200
    deleted = requests.delete(f"{emulator.url}{V3}/layers/{name}/versions/1", timeout=30)
    assert deleted.status_code == 204, deleted.text
    assert_v3_error(requests.get(f"{emulator.url}{V3}/layers/{name}/versions/1", timeout=30), 404, "LayerNotFound")
    assert_v3_error(requests.delete(f"{emulator.url}{V3}/layers/{name}/versions/1", timeout=30), 404,
                    "LayerNotFound")
    assert _publish(emulator, name, "second").json()["version"] == 2, "a deleted version's number is not reused"

    refused = _create_function(emulator, f"new-{name}", [_arn(name, 1)])
    assert "was deleted" in assert_v3_error(refused, 400, "InvalidArgument")["Message"]
    # The function that had it keeps it, through an update that leaves its layers alone too.
    assert _invoke(emulator, user) == b"first"
    updated = requests.put(f"{emulator.url}{V3}/functions/{user}", json={"description": "changed"}, timeout=60)
    assert updated.status_code == 200, updated.text
    assert _invoke(emulator, user) == b"first"
    assert _create_function(emulator, f"newer-{name}", [_arn(name, 2)]).status_code == 200
    assert _invoke(emulator, f"newer-{name}") == b"second"


def test_folder_layers_are_listed_read_only_and_published_versions_start_above_them(
    emulator: EmulatorProcess, layers_dir: Path,
) -> None:
    got = requests.get(f"{emulator.url}{V3}/layers/folderlayer/versions/3", timeout=30)
    assert got.status_code == 200, got.text
    assert got.json()["code"]["location"] == str(layers_dir / "folderlayer" / "3")
    refused = requests.delete(f"{emulator.url}{V3}/layers/folderlayer/versions/3", timeout=30)
    assert str(layers_dir / "folderlayer" / "3") in assert_v3_error(refused, 400, "InvalidArgument")["Message"]
    published = _publish(emulator, "folderlayer", "published over the folder")
    assert published.json()["version"] == 4, published.text
    versions = requests.get(f"{emulator.url}{V3}/layers/folderlayer/versions", timeout=30).json()
    assert [v["version"] for v in versions["layers"]] == [3, 4]
    assert _create_function(emulator, "uses-folderlayer-3", [_arn("folderlayer", 3)], "folderlib").status_code == 200
    assert _invoke(emulator, "uses-folderlayer-3") == b"folderlib from folderlayer/3"


def test_errors_have_fcs_shapes_on_both_api_versions(emulator: EmulatorProcess) -> None:
    missing = _name()
    assert_v3_error(requests.get(f"{emulator.url}{V3}/layers/{missing}/versions/1", timeout=30), 404, "LayerNotFound")
    assert_v2_error(requests.get(f"{emulator.url}{V2}/layers/{missing}/versions/1", timeout=30), 404, "LayerNotFound")
    assert_v3_error(requests.get(f"{emulator.url}{V3}/layers/{missing}/versions", timeout=30), 404, "LayerNotFound")
    assert_v3_error(requests.get(f"{emulator.url}{V3}/layers/{missing}/versions/x", timeout=30), 400,
                    "InvalidArgument")
    assert_v3_error(requests.get(f"{emulator.url}{V3}/layerarn/not-an-arn", timeout=30), 400, "InvalidArgument")
    bad_name = _publish(emulator, "bad.name", "x")
    assert "layerName" in assert_v3_error(bad_name, 400, "InvalidArgument")["Message"]
    assert "layerName" in assert_v2_error(_publish(emulator, "bad.name", "x", V2), 400, "InvalidArgument")[
        "ErrorMessage"]
    bad_zip = requests.post(f"{emulator.url}{V3}/layers/{missing}/versions", json={
        "code": {"zipFile": base64.b64encode(b"not a zip").decode()}}, timeout=30)
    assert "code.zipFile" in assert_v3_error(bad_zip, 400, "InvalidArgument")["Message"]
    no_code = requests.post(f"{emulator.url}{V2}/layers/{missing}/versions", json={"description": "x"}, timeout=30)
    assert_v2_error(no_code, 400, "InvalidArgument")
    assert requests.get(f"{emulator.url}{V3}/layers/{missing}/versions", timeout=30).status_code == 404, \
        "nothing was stored by the refused publishes"


def test_fc2_publish_answers_the_fc2_layer_shape(emulator: EmulatorProcess) -> None:
    name = _name()
    reply = _publish(emulator, name, "fc2", V2)
    assert reply.status_code == 200, reply.text
    layer = reply.json()
    assert layer["arn"] == _arn(name, 1) and layer["acl"] == 0 and "layerVersionArn" not in layer
    got = requests.get(f"{emulator.url}{V2}/layerarn/{urllib.parse.quote(_arn(name, 1), safe='')}", timeout=30)
    assert got.status_code == 200 and got.json() == layer
    assert requests.delete(f"{emulator.url}{V2}/layers/{name}/versions/1", timeout=30).status_code == 204


def test_a_second_process_on_the_same_redis_sees_published_layers(
    emulator: EmulatorProcess, module_redis: RedisServer, layers_dir: Path, tmp_path: Path,
) -> None:
    name = _name()
    assert _publish(emulator, name, "published by the first").status_code == 200
    (tmp_path / "functions").mkdir()
    second = EmulatorProcess(tmp_path / "functions", tmp_path / "second.log", redis_url=module_redis.url,
                             layers_dir=str(layers_dir)).start()
    try:
        got = requests.get(f"{second.url}{V3}/layers/{name}/versions/1", timeout=30)
        assert got.status_code == 200, got.text
        # Published after the second started: it mirrors the zip when a function names it.
        assert _publish(emulator, name, "published later").json()["version"] == 2
        created = _create_function(second, f"second-{name}", [_arn(name, 2)])
        assert created.status_code == 200, created.text
        assert _invoke(second, f"second-{name}") == b"published later"
    finally:
        second.stop()
    assert json.loads(got.text)["layerVersionArn"] == _arn(name, 1)


def test_a_deleted_versions_zip_goes_once_no_function_names_it(emulator: EmulatorProcess, module_redis: RedisServer
                                                               ) -> None:
    name = _name()
    _publish(emulator, name, "unused")
    _publish(emulator, name, "used")
    assert _create_function(emulator, f"zip-kept-{name}", [_arn(name, 2)]).status_code == 200
    code = redis.Redis.from_url(module_redis.url)
    try:
        for version in (1, 2):
            assert requests.delete(f"{emulator.url}{V3}/layers/{name}/versions/{version}", timeout=30).status_code == 204
        assert sorted(code.hkeys(f"fcemu:layer-code:{{{name}}}")) == [b"2"], "the used one stays, the other goes"
    finally:
        code.close()
    assert _invoke(emulator, f"zip-kept-{name}") == b"used"


def test_a_template_uses_its_own_layers_folder_and_published_layers_from_start_up(
    emulator: EmulatorProcess, module_redis: RedisServer, layers_dir: Path, tmp_path: Path,
) -> None:
    published = _name()
    assert _publish(emulator, published, "published before the template was served").status_code == 200
    project = tmp_path / "project"
    (project / "layers" / "projectlayer" / "1" / "python").mkdir(parents=True)
    (project / "layers" / "projectlayer" / "1" / "python" / "projectlib.py").write_text("WHO = 'project layer'\n")
    (project / "code").mkdir()
    (project / "code" / "index.py").write_text(
        "import mylib, projectlib\n\ndef handler(event, context):\n    return projectlib.WHO + ' + ' + mylib.WHO\n")
    (project / "s.yaml").write_text(f"""edition: 3.0.0
name: layered-project
resources:
  layered:
    component: fc3
    props:
      region: {REGION}
      functionName: tpl-layered
      runtime: python3.10
      handler: index.handler
      code: ./code
      layers:
        - acs:fc:{REGION}:${{config('AccountID')}}:layers/projectlayer/versions/1
        - {_arn(published, 1)}
""")
    (tmp_path / "functions").mkdir()
    served = EmulatorProcess(tmp_path / "functions", tmp_path / "template.log", redis_url=module_redis.url,
                             layers_dir=str(layers_dir), template=str(project / "s.yaml")).start()
    try:
        assert _invoke(served, "tpl-layered") == b"project layer + published before the template was served"
        listed = requests.get(f"{served.url}{V3}/layers/projectlayer/versions", timeout=30).json()
        assert [(v["version"], v["code"]["location"]) for v in listed["layers"]] == [
            (1, str(project / "layers" / "projectlayer" / "1"))]
    finally:
        served.stop()


def test_a_layer_zip_larger_than_the_sync_payload_limit_is_taken(emulator: EmulatorProcess) -> None:
    """Layer writes get the code zip's body limit (50 MB of zip), not the 32 MB of an invoke."""
    import os
    import zipfile
    from io import BytesIO

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("python/blob.bin", os.urandom(26 * 1024 * 1024))
    body = json.dumps({"code": {"zipFile": base64.b64encode(buffer.getvalue()).decode()}})
    assert len(body) > 32 * 1024 * 1024
    name = _name()
    reply = requests.post(f"{emulator.url}{V3}/layers/{name}/versions", data=body, timeout=120,
                          headers={"content-type": "application/json"})
    assert reply.status_code == 200, reply.text[:500]
    assert reply.json()["codeSize"] == len(buffer.getvalue())
    assert requests.delete(f"{emulator.url}{V3}/layers/{name}/versions/1", timeout=30).status_code == 204
