"""A FC 2.0 function outside the default service is `service$function` in fcemu's catalog (FC 3.0's name for it),
but its instance sees FC 2.0's names apart: x-fc-service-name / x-fc-function-name, FC_SERVICE_NAME /
FC_FUNCTION_NAME, context.service.name / context.function.name. Real `fcemu serve`, real nodejs and python
containers; FC 3.0 functions keep fcemu's service and their own name (tests/test_nodejs_runtime_docker.py,
tests/test_sync_invoke_docker.py)."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import zipped
from tests.support.redis_server import RedisServer

NODE_CODE = """'use strict';
exports.handler = async (event, context) => JSON.stringify({
  service: context.service.name, function: context.function.name,
  env: {FC_SERVICE_NAME: process.env.FC_SERVICE_NAME, FC_FUNCTION_NAME: process.env.FC_FUNCTION_NAME},
});
"""
PYTHON_CODE = """import json
import os


def handler(event, context):
    return json.dumps({"service": context.service.name, "function": context.function.name,
                       "env": {name: os.environ.get(name) for name in ("FC_SERVICE_NAME", "FC_FUNCTION_NAME")}})
"""


@pytest.fixture()
def emulator(tmp_path: Path, own_redis: RedisServer) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(tmp_path / "functions", tmp_path / "fcemu.log", redis_url=own_redis.url,
                              template=str(Path(__file__).parents[1] / "templates" / "python-fc2" / "s.yaml")).start()
    yield process
    process.stop()


@pytest.mark.parametrize(("runtime", "code", "handler"), [
    ("nodejs18", {"index.js": NODE_CODE}, "index.handler"),
    ("python3.10", {"main.py": PYTHON_CODE}, "main.handler"),
])
def test_a_function_created_in_a_2_0_service_sees_the_service_and_function_apart(
    emulator: EmulatorProcess, runtime: str, code: dict[str, str], handler: str
) -> None:
    api = f"{emulator.url}/2016-08-15/services"
    assert requests.post(api, json={"serviceName": "names-svc"}, timeout=30).status_code == 200
    created = requests.post(f"{api}/names-svc/functions", json={
        "functionName": "who", "runtime": runtime, "handler": handler,
        "code": {"zipFile": base64.b64encode(zipped(code)).decode()},
    }, timeout=60)
    assert created.status_code == 200, created.text
    reply = requests.post(f"{api}/names-svc/functions/who/invocations", data=b"{}", timeout=60)
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    assert json.loads(reply.content) == {"service": "names-svc", "function": "who",
                                         "env": {"FC_SERVICE_NAME": "names-svc", "FC_FUNCTION_NAME": "who"}}
    # The same function through FC 3.0's name for it: the instance is the same, so are the names it sees.
    again = requests.post(f"{emulator.url}/2023-03-30/functions/names-svc$who/invocations", data=b"{}", timeout=60)
    assert json.loads(again.content)["function"] == "who"


def test_a_function_in_the_default_service_keeps_its_names(emulator: EmulatorProcess) -> None:
    created = requests.post(f"{emulator.url}/2023-03-30/functions", json={
        "functionName": "plain-who", "runtime": "python3.10", "handler": "main.handler",
        "code": {"zipFile": base64.b64encode(zipped({"main.py": PYTHON_CODE})).decode()},
    }, timeout=60)
    assert created.status_code == 200, created.text
    reply = requests.post(f"{emulator.url}/2023-03-30/functions/plain-who/invocations", data=b"{}", timeout=60)
    assert json.loads(reply.content) == {"service": "default", "function": "plain-who",
                                         "env": {"FC_SERVICE_NAME": "default", "FC_FUNCTION_NAME": "plain-who"}}
