"""Versions, aliases and reserved concurrency through FC 3.0's Node.js SDK (@alicloud/fc20230330, installed by npm
into a test cache: tests/support/node_sdk.py), as Python's SDK drives them: a script run by the host's `node`
publishes two versions, makes a canary alias, invokes through it and through a version (reading the version that ran
from `x-fc-invocation-service-version`), puts and gets a reserved concurrency, and is refused the deletion of a
version the alias names."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import code_saying
from tests.support.node_sdk import prepare_fc3_sdk, run_node

pytestmark = pytest.mark.docker

SCRIPT = Path(__file__).parent / "fc3_versions_sdk.cjs"


@pytest.fixture(scope="module")
def sdk() -> None:
    why_not = prepare_fc3_sdk()
    if why_not:
        pytest.skip(f"FC 3.0's Node.js SDK cannot run here: {why_not}")


@pytest.fixture()
def function(fc3_client: FC3Client) -> Iterator[str]:
    """A function whose code answers `one <event>`."""
    name = f"node-sdk-{uuid.uuid4().hex[:6]}"
    fc3_client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying("one")).decode()))))
    yield name
    fc3_client.delete_function(name)


def test_versions_aliases_and_concurrency_through_the_nodejs_sdk(sdk: None, function: str,
                                                                  emulator: EmulatorProcess) -> None:
    second_code = base64.b64encode(code_saying("two")).decode()
    ran = run_node(SCRIPT, str(emulator.port), function, second_code)
    assert ran.returncode == 0, ran.stderr[-2000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert (seen["first"], seen["second"]) == ("1", "2")
    assert seen["versions"] == ["2", "1"]  # newest first, as FC lists them
    for alias in (seen["created"], seen["alias"]):
        assert alias["aliasName"] == "prod" and alias["versionId"] == "1"
        assert alias["additionalVersionWeight"] == {"2": 0.5}
    # Through the alias, each invocation runs one of its versions, and the header says which.
    words = {"1": "one x", "2": "two x"}
    for reply in seen["throughAlias"]:
        assert reply["version"] in words and reply["body"] == words[reply["version"]]
    # Both of them, drawn half and half: 20 invocations all running one is a 1 in 500,000 chance.
    assert {reply["version"] for reply in seen["throughAlias"]} == {"1", "2"}
    assert seen["byVersion"] == {"body": "one x", "version": "1"}
    assert seen["latest"]["body"] == "two x"
    assert seen["concurrency"]["reservedConcurrency"] == 1
    assert seen["concurrency"]["functionArn"].endswith(f":functions/{function}")
    refused = seen["refusedDelete"]
    assert refused is not None and refused["statusCode"] == 409 and refused["code"] == "VersionInUse"
    assert "prod" in refused["message"]
