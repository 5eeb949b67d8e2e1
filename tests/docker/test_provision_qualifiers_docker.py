"""Provision configs, ListInstances and GetFunctionCode per qualifier, through FC 3.0's official SDK against real
containers: an alias's provision config keeps instances of the version it names warm and follows the alias when it
is switched; ListInstances lists a version's instances; GetFunctionCode of a version answers that version's zip."""
from __future__ import annotations

import base64
import io
import uuid
import zipfile
from collections.abc import Iterator

import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v3_error, code_saying
from tests.support.waits import wait_until


@pytest.fixture()
def two_versions(fc3_client: FC3Client) -> Iterator[str]:
    """A deployed function with version 1 (saying "one") and version 2 (saying "two"), LATEST saying "three"."""
    name = f"provisioned-{uuid.uuid4().hex[:8]}"
    fc3_client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=30,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying("one")).decode()))))
    try:
        for word in ("two", "three"):
            fc3_client.publish_function_version(name, fc3_models.PublishFunctionVersionRequest(
                body=fc3_models.PublishVersionInput()))
            fc3_client.update_function(name, fc3_models.UpdateFunctionRequest(body=fc3_models.UpdateFunctionInput(
                code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying(word)).decode()))))
        yield name
    finally:
        fc3_client.delete_function(name)


def _instances(client: FC3Client, name: str, qualifier: str) -> list[tuple[str, str, str, str]]:
    listed = client.list_instances(name, fc3_models.ListInstancesRequest(qualifier=qualifier)).body.instances or []
    return [(i.instance_id, i.qualifier, i.version_id, i.resource_type) for i in listed]


def _put(client: FC3Client, name: str, qualifier: str, target: int) -> fc3_models.ProvisionConfig:
    return client.put_provision_config(name, fc3_models.PutProvisionConfigRequest(
        qualifier=qualifier, body=fc3_models.PutProvisionConfigInput(default_target=target))).body


def test_an_alias_s_provision_config_keeps_its_version_warm_and_follows_a_switch(
    fc3_client: FC3Client, two_versions: str
) -> None:
    name = two_versions
    fc3_client.create_alias(name, fc3_models.CreateAliasRequest(
        body=fc3_models.CreateAliasInput(alias_name="prod", version_id="1")))
    assert _put(fc3_client, name, "prod", 1).default_target == 1

    wait_until(lambda: len(_instances(fc3_client, name, "prod")) == 1, timeout=60)
    [(kept, qualifier, version, kind)] = _instances(fc3_client, name, "prod")
    assert (qualifier, version, kind) == ("prod", "1", "Provisioned")
    assert _instances(fc3_client, name, "1") == [(kept, "1", "1", "Provisioned")]
    assert _instances(fc3_client, name, "LATEST") == []
    config = fc3_client.get_provision_config(name, fc3_models.GetProvisionConfigRequest(qualifier="prod")).body
    assert (config.current, config.current_error) == (1, None)
    answer = fc3_client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b"x", qualifier="prod"))
    assert answer.body.read() == b"one x" and answer.headers["x-fc-instance-id"] == kept

    # Switched to version 2: version 1's kept instance goes, version 2 gets one.
    fc3_client.update_alias(name, "prod", fc3_models.UpdateAliasRequest(
        body=fc3_models.UpdateAliasInput(version_id="2")))
    wait_until(lambda: len(_instances(fc3_client, name, "2")) == 1 and not _instances(fc3_client, name, "1"),
               timeout=60)
    [(moved, _, version, kind)] = _instances(fc3_client, name, "prod")
    assert (version, kind) == ("2", "Provisioned") and moved != kept
    answer = fc3_client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b"x", qualifier="prod"))
    assert answer.body.read() == b"two x" and answer.headers["x-fc-instance-id"] == moved

    listed = fc3_client.list_provision_configs(fc3_models.ListProvisionConfigsRequest(function_name=name)).body
    assert [c.default_target for c in listed.provision_configs] == [1]
    fc3_client.delete_provision_config(name, fc3_models.DeleteProvisionConfigRequest(qualifier="prod"))
    wait_until(lambda: not _instances(fc3_client, name, "2"))


def test_a_provision_config_is_an_alias_s_or_latest_s(
    fc3_client: FC3Client, two_versions: str, emulator: EmulatorProcess, http: requests.Session
) -> None:
    name = two_versions
    with pytest.raises(ClientException) as refused:
        _put(fc3_client, name, "1", 1)
    assert (refused.value.status_code, refused.value.code) == (400, "InvalidArgument")
    assert "version" in refused.value.message
    provision = f"{emulator.url}/2023-03-30/functions/{name}/provision-config"
    assert_v3_error(http.get(provision, params={"qualifier": "2"}), 400, "InvalidArgument")
    assert_v3_error(http.put(provision, params={"qualifier": "staging"}, json={"defaultTarget": 1}), 404,
                    "AliasNotFound")
    assert_v3_error(http.get(f"{emulator.url}/2023-03-30/functions/{name}/instances", params={"qualifier": "9"}),
                    404, "VersionNotFound")
    # A version's instances are listed once one served it.
    served = fc3_client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b"x", qualifier="2"))
    assert _instances(fc3_client, name, "2") == [(served.headers["x-fc-instance-id"], "2", "2", "OnDemand")]


def _source(code: bytes) -> bytes:
    """The function's source in a code zip (the zip's own bytes hold the time it was made)."""
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        return archive.read("main.py")


def test_function_code_of_a_version(fc3_client: FC3Client, two_versions: str, emulator: EmulatorProcess,
                                    http: requests.Session) -> None:
    name = two_versions
    fc3_client.create_alias(name, fc3_models.CreateAliasRequest(
        body=fc3_models.CreateAliasInput(alias_name="prod", version_id="1")))
    latest = fc3_client.get_function_code(name, fc3_models.GetFunctionCodeRequest()).body
    assert _source(http.get(latest.url).content) == _source(code_saying("three"))
    for qualifier, word in (("1", "one"), ("2", "two"), ("prod", "one")):
        code = fc3_client.get_function_code(name, fc3_models.GetFunctionCodeRequest(qualifier=qualifier)).body
        shown = fc3_client.get_function(name, fc3_models.GetFunctionRequest(qualifier=qualifier)).body
        assert code.checksum == shown.code_checksum != latest.checksum
        download = http.get(code.url)
        assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
        assert _source(download.content) == _source(code_saying(word))
    assert_v3_error(http.get(f"{emulator.url}/2023-03-30/functions/{name}/code", params={"qualifier": "7"}), 404,
                    "VersionNotFound")
    assert_v3_error(http.get(f"{emulator.url}/_fcemu/functions/{name}/versions/7/code.zip"), 404, "VersionNotFound")


def test_fc2_provision_config_and_instances_of_an_alias(fc3_client: FC3Client, fc2_client: fc2.Client,
                                                        two_versions: str) -> None:
    """Through aliyun-fc2, `services/default.prod/...`: a deployed FC 3.0 function `f` is `f` of the default service,
    and its alias is the qualifier there too."""
    name = two_versions
    fc3_client.create_alias(name, fc3_models.CreateAliasRequest(
        body=fc3_models.CreateAliasInput(alias_name="prod", version_id="2")))
    put = fc2_client.put_provision_config("default", "prod", name, 1).data
    assert put["resource"].endswith(f"#default#prod#{name}")
    wait_until(lambda: int(fc2_client.get_provision_config("default", "prod", name).data["current"]) == 1,
               timeout=60)
    instances = fc2_client.list_instances("default", "prod", name).data["instances"]
    assert [instance["versionId"] for instance in instances] == ["2"]
    assert fc2_client.list_instances("default", "LATEST", name).data["instances"] == []
    with pytest.raises(fc2.FcError) as refused:
        fc2_client.put_provision_config("default", "1", name, 1)
    assert (refused.value.status_code, refused.value.err_code) == (400, "InvalidArgument")
    fc2_client.put_provision_config("default", "prod", name, 0)
    wait_until(lambda: not fc2_client.list_instances("default", "prod", name).data["instances"])
