"""`fcemu serve` on a Serverless Devs project: the fc3 resources of tests/templates/python-folder/s.yaml run as
real functions (code from a folder beside the template), and a bad template stops the start with one line."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.waits import wait_until

TEMPLATE = Path(__file__).parents[1] / "templates" / "python-folder" / "s.yaml"


@pytest.fixture()
def template_emulator(tmp_path: Path, redis_server: RedisServer) -> Iterator[EmulatorProcess]:
    empty = tmp_path / "functions"
    empty.mkdir()
    process = EmulatorProcess(empty, tmp_path / "fcemu.log", redis_url=redis_server.url, template=str(TEMPLATE),
                              account_id="111122223333").start()
    yield process
    process.stop()


def test_a_template_function_runs_from_its_code_folder(template_emulator: EmulatorProcess) -> None:
    reply = requests.post(f"{template_emulator.url}/2023-03-30/functions/tpl-greeter/invocations", data=b"{}",
                          timeout=60)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"greeting": "hello from .env", "own_name": "tpl-greeter", "other_handler": "index.echo",
                            "account": "111122223333", "function": "tpl-greeter"}
    echoed = requests.post(f"{template_emulator.url}/2023-03-30/functions/tpl-echo/invocations", data=b"ping",
                           timeout=60)
    assert echoed.status_code == 200 and echoed.content == b"ping"
    # Its HTTP trigger is served too.
    assert requests.get(f"{template_emulator.url}/http/tpl-greeter/", timeout=60).status_code == 200
    log = template_emulator.log_path.read_text()
    assert log.count("accepted but not emulated: echo (region); greeter (logConfig, region, vpcConfig)") == 1


def test_a_bad_template_stops_serve_with_one_line_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("edition: 3.0.0\nname: p\nresources:\n  f:\n    component: fc3\n    props:\n"
                   "      functionName: ${vars.nope}\n")
    done = subprocess.run([sys.executable, "-m", "emulator", "serve", "--template", str(bad),
                           "--functions-dir", str(tmp_path / "none")],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == f"fcemu: {bad}, line 7: cannot resolve ${{vars.nope}}: vars has no nope"


def test_code_given_as_a_zip_file_runs(tmp_path: Path, redis_server: RedisServer) -> None:
    project = tmp_path / "project"
    project.mkdir()
    with zipfile.ZipFile(project / "code.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return b'from the zip'\n")
    (project / "s.yaml").write_text("edition: 3.0.0\nname: p\nresources:\n  zipped:\n    component: fc3\n"
                                    "    props:\n      functionName: tpl-zipped\n      runtime: python3.10\n"
                                    "      handler: index.handler\n      code: ./code.zip\n")
    process = EmulatorProcess(tmp_path / "none", tmp_path / "fcemu.log", redis_url=redis_server.url,
                              template=str(project / "s.yaml")).start()
    try:
        reply = requests.post(f"{process.url}/2023-03-30/functions/tpl-zipped/invocations", data=b"{}", timeout=60)
        assert reply.status_code == 200, reply.text
        assert reply.content == b"from the zip"
    finally:
        process.stop()


def test_a_legacy_fc_project_runs_as_fc2_functions(tmp_path: Path, redis_server: RedisServer) -> None:
    process = EmulatorProcess(tmp_path / "none", tmp_path / "fcemu.log", redis_url=redis_server.url,
                              template=str(Path(__file__).parents[1] / "templates" / "python-fc2" / "s.yaml")).start()
    try:
        reply = requests.post(f"{process.url}/2016-08-15/services/tpl-svc/functions/event/invocations", data=b"{}",
                              timeout=60)
        assert reply.status_code == 200, reply.text
        # As in FC 2.0, the instance sees the service and the function apart, not the catalog's `service$function`.
        assert reply.json() == {"service": "tpl-svc", "function": "event",
                                "env": {"FC_SERVICE_NAME": "tpl-svc", "FC_FUNCTION_NAME": "event"}}
        # FC 3.0's name for the same function.
        assert requests.post(f"{process.url}/2023-03-30/functions/tpl-svc$event/invocations", data=b"{}",
                             timeout=60).status_code == 200
        web = requests.get(f"{process.url}/2016-08-15/proxy/tpl-svc/web/", timeout=60)
        assert web.status_code == 200, web.text
        assert web.content == b"fc2 web GET"
        assert process.log_path.read_text().count("event (region, service.logConfig); web (region)") == 1
    finally:
        process.stop()


PROVISIONED = """edition: 3.0.0
name: p
resources:
  warm:
    component: fc3
    props:
      functionName: tpl-warm
      runtime: python3.10
      handler: index.handler
      code: ./code
      provisionConfig:
        defaultTarget: 1
        alwaysAllocateCPU: true
        alwaysAllocateGPU: true
        scheduledActions: []
        targetTrackingPolicies: []
  aliased:
    component: fc3
    props:
      functionName: tpl-aliased
      runtime: python3.10
      handler: index.handler
      code: ./code
      provisionConfig:
        defaultTarget: 1
        qualifier: prod
"""


def test_a_declared_provision_config_keeps_instances_warm_until_the_api_overrides_it(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    project = tmp_path / "project"
    (project / "code").mkdir(parents=True)
    (project / "code" / "index.py").write_text("def handler(event, context):\n    return b'warm'\n")
    (project / "s.yaml").write_text(PROVISIONED)
    process = EmulatorProcess(tmp_path / "none", tmp_path / "fcemu.log", redis_url=redis_server.url,
                              template=str(project / "s.yaml")).start()
    client = FC3Client(openapi_models.Config(access_key_id="test-ak", access_key_secret="test-sk",
                                             endpoint=f"127.0.0.1:{process.port}", protocol="http"))

    def instances(name: str, qualifier: str = "LATEST") -> list[tuple[str, str]]:
        listed = client.list_instances(name, fc3_models.ListInstancesRequest(qualifier=qualifier)).body.instances
        return [(i.version_id, i.resource_type) for i in listed or []]

    def config(name: str, qualifier: str = "LATEST") -> fc3_models.ProvisionConfig:
        return client.get_provision_config(name, fc3_models.GetProvisionConfigRequest(qualifier=qualifier)).body

    try:
        # Kept warm from the start, with no invoke.
        wait_until(lambda: instances("tpl-warm") == [("0", "Provisioned")], timeout=60)
        assert (config("tpl-warm").default_target, config("tpl-warm").current) == (1, 1)
        # An API-put config overrides the declared one; deleting it brings the declared one back.
        client.put_provision_config("tpl-warm", fc3_models.PutProvisionConfigRequest(
            body=fc3_models.PutProvisionConfigInput(default_target=2)))
        wait_until(lambda: instances("tpl-warm") == [("0", "Provisioned")] * 2, timeout=60)
        client.delete_provision_config("tpl-warm", fc3_models.DeleteProvisionConfigRequest())
        wait_until(lambda: instances("tpl-warm") == [("0", "Provisioned")])
        with pytest.raises(ClientException) as refused:
            client.delete_provision_config("tpl-warm", fc3_models.DeleteProvisionConfigRequest())
        assert (refused.value.status_code, refused.value.code) == (400, "InvalidArgument")
        assert "manifest" in refused.value.message
        # FC 2.0's target of 0 (its way to remove a config) overrides the declared one too.
        v2 = fc2.Client(endpoint=process.url, accessKeyID="test-ak", accessKeySecret="test-sk")
        v2.put_provision_config("default", "LATEST", "tpl-warm", 0)
        wait_until(lambda: instances("tpl-warm") == [])
        assert v2.get_provision_config("default", "LATEST", "tpl-warm").data["target"] == 0

        # Declared for an alias that does not exist yet: nothing is kept until it does.
        assert config("tpl-aliased").function_arn is None  # LATEST has none
        [declared] = client.list_provision_configs(fc3_models.ListProvisionConfigsRequest(
            function_name="tpl-aliased")).body.provision_configs
        assert (declared.default_target, declared.current) == (1, 0)
        assert "alias 'prod' does not exist" in declared.current_error
        version = client.publish_function_version("tpl-aliased", fc3_models.PublishFunctionVersionRequest(
            body=fc3_models.PublishVersionInput())).body.version_id
        client.create_alias("tpl-aliased", fc3_models.CreateAliasRequest(
            body=fc3_models.CreateAliasInput(alias_name="prod", version_id=version)))
        wait_until(lambda: instances("tpl-aliased", "prod") == [(version, "Provisioned")], timeout=60)
        assert instances("tpl-aliased") == []
    finally:
        process.stop()
