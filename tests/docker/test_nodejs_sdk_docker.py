"""Versions, aliases and what takes a qualifier, through FC 3.0's Node.js SDK (@alicloud/fc20230330, installed by
npm into a test cache: tests/support/node_sdk.py), as Python's SDK drives them. One script run by the host's `node`
publishes two versions, makes a canary alias, invokes through it and through a version (reading the version that ran
from `x-fc-invocation-service-version`), puts and gets a reserved concurrency, and is refused the deletion of a
version the alias names. Another puts an alias's and LATEST's async invoke configs, invokes a failing function
asynchronously through each and reads and lists the tasks by qualifier, disables and enables invocation, puts an
alias's provision config and lists the instance it keeps, and downloads a version's code."""
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
from tests.support.fc_api import code_saying, zipped
from tests.support.node_sdk import prepare_fc3_sdk, run_node

pytestmark = pytest.mark.docker

SCRIPT = Path(__file__).parent / "fc3_versions_sdk.cjs"
QUALIFIED_SCRIPT = Path(__file__).parent / "fc3_qualified_sdk.cjs"
FAILING = zipped({"main.py": "def handler(event, context):\n    raise RuntimeError('failing as asked')\n"})


@pytest.fixture(scope="module")
def sdk() -> None:
    why_not = prepare_fc3_sdk()
    if why_not:
        pytest.skip(f"FC 3.0's Node.js SDK cannot run here: {why_not}")


def _deploy(client: FC3Client, code: bytes) -> str:
    name = f"node-sdk-{uuid.uuid4().hex[:6]}"
    client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code).decode()))))
    return name


@pytest.fixture()
def function(fc3_client: FC3Client) -> Iterator[str]:
    """A function whose code answers `one <event>`."""
    name = _deploy(fc3_client, code_saying("one"))
    yield name
    fc3_client.delete_function(name)


@pytest.fixture()
def failing(fc3_client: FC3Client) -> Iterator[str]:
    """A function that always fails."""
    name = _deploy(fc3_client, FAILING)
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


def _async_through_the_alias(seen: dict) -> None:
    assert seen["configs"]["prod"]["maxAsyncRetryAttempts"] == 0
    assert seen["configs"]["latest"]["maxAsyncRetryAttempts"] == 1
    assert seen["readBack"]["maxAsyncRetryAttempts"] == 0
    assert seen["accepted"] == 202
    prod, latest = seen["prodTask"], seen["latestTask"]
    # Each task's attempts follow its qualifier's config: none retried through the alias, one through LATEST.
    assert (prod["taskId"], prod["qualifier"], prod["status"], prod["alreadyRetriedTimes"]) == (
        "through-prod", "prod", "Failed", 0)
    assert [event["status"] for event in prod["events"]].count("Retrying") == 0
    assert "failing as asked" in prod["taskErrorMessage"]
    assert (latest["qualifier"], latest["status"], latest["alreadyRetriedTimes"]) == ("LATEST", "Failed", 1)
    assert [event["status"] for event in latest["events"]].count("Retrying") == 1
    assert seen["listed"] == {"prod": ["through-prod"], "latest": ["through-latest"],
                              "all": ["through-latest", "through-prod"]}
    wrong = seen["wrongQualifier"]
    assert wrong is not None and (wrong["statusCode"], wrong["code"]) == (404, "AsyncTaskNotFound")


def test_qualified_async_invocation_control_provision_and_code_through_the_nodejs_sdk(
    sdk: None, function: str, failing: str, emulator: EmulatorProcess
) -> None:
    latest_code = base64.b64encode(code_saying("two")).decode()
    ran = run_node(QUALIFIED_SCRIPT, str(emulator.port), function, failing, latest_code)
    assert ran.returncode == 0, ran.stderr[-2000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen["versionId"] == "1"
    _async_through_the_alias(seen["async"])

    control = seen["control"]
    assert control["disabled"]["success"] is True and control["enabled"]["success"] is True
    refused = control["refused"]
    assert refused is not None and (refused["statusCode"], refused["code"]) == (412, "FunctionInvocationDisabled")
    assert "maintenance" in refused["message"]
    assert control["afterEnable"] == {"statusCode": 200, "body": "one x"}

    provision = seen["provision"]
    assert provision["put"]["defaultTarget"] == 1
    assert provision["put"]["functionArn"].endswith(f":functions/{function}")
    [kept] = provision["kept"]
    assert (kept["qualifier"], kept["versionId"], kept["resourceType"]) == ("prod", "1", "Provisioned")
    assert kept["instanceId"] and kept["status"] == "Running"
    assert (provision["got"]["defaultTarget"], provision["got"]["current"]) == (1, 1)
    assert provision["deleted"] == 204
    assert provision["afterDelete"] == {}, "no config left: GetProvisionConfig answers an empty object"

    code = seen["code"]
    assert code["code"]["url"].startswith(f"http://127.0.0.1:{emulator.port}/")
    assert code["code"]["checksum"] == code["shown"] != code["latest"]
    assert code["download"] == {"statusCode": 200, "type": "application/zip", "head": "PK\x03\x04"}
