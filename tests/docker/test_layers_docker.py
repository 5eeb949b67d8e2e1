"""FC layers against real containers and a real `fcemu serve`: layer folders from FCEMU_LAYERS_DIR (tests/layers)
merged under /opt, the layer configured first winning a clash, on the runtimes' search paths; an unknown layer
ARN is a clear 400 on the API."""
from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v3_error, code_saying, zipped
from tests.support.redis_server import RedisServer

TESTS = Path(__file__).parents[1]
LAYER_FUNCTIONS = ("layer-python", "layer-node")


@pytest.fixture()
def layered(tmp_path: Path, own_redis: RedisServer) -> Iterator[EmulatorProcess]:
    """An emulator of the test's own serving only the layered test functions, with tests/layers as its layers."""
    functions = tmp_path / "functions"
    for name in LAYER_FUNCTIONS:
        shutil.copytree(TESTS / "functions" / name, functions / name)
    emulator = EmulatorProcess(functions, tmp_path / "fcemu.log", redis_url=own_redis.url,
                               layers_dir=str(TESTS / "layers")).start()
    yield emulator
    emulator.stop()


def _invoke(emulator: EmulatorProcess, name: str) -> dict[str, object]:
    reply = requests.post(f"{emulator.url}/2023-03-30/functions/{name}/invocations", data=b"{}", timeout=60)
    assert reply.status_code == 200, reply.text
    assert "x-fc-error-type" not in reply.headers, reply.text
    return json.loads(reply.content)


def test_python_function_imports_from_its_layers_first_layer_winning(layered: EmulatorProcess) -> None:
    seen = _invoke(layered, "layer-python")
    assert seen["layerlib"] == "layerlib from pyutil/1"
    # FC: "the file from the first-attached layer takes precedence"
    assert seen["clash"] == "clash from pyutil/1 (configured first)"
    assert seen["only_second"] == "only_second from pyclash/1"
    assert seen["tool"] == "layer-tool from pyclash/1", "/opt/bin is on PATH"
    assert seen["PYTHONPATH"] == "/opt/python"
    assert "/opt/lib" in str(seen["LD_LIBRARY_PATH"]).split(":")
    assert {"python", "bin", "fcemu"} <= set(seen["opt"]), "layers sit beside the runtime's own /opt"  # type: ignore


def test_nodejs_function_requires_a_package_from_its_layer(layered: EmulatorProcess) -> None:
    seen = _invoke(layered, "layer-node")
    assert seen == {"layerpkg": "layerpkg from nodeutil/1", "NODE_PATH": "/opt/nodejs/node_modules"}


def test_an_unknown_layer_arn_is_a_400_naming_it(layered: EmulatorProcess) -> None:
    arn = "acs:fc:cn-hangzhou:1234567890123456:layers/nosuch/versions/3"
    reply = requests.post(f"{layered.url}/2023-03-30/functions", json={
        "functionName": "with-missing-layer", "runtime": "python3.10", "handler": "main.handler",
        "code": {"zipFile": base64.b64encode(code_saying("hi")).decode()}, "layers": [arn],
    }, timeout=30)
    body = assert_v3_error(reply, 400, "InvalidArgument")
    assert arn in body["Message"]
    assert requests.get(f"{layered.url}/2023-03-30/functions/with-missing-layer", timeout=30).status_code == 404


def test_a_deployed_function_uses_a_layer(layered: EmulatorProcess) -> None:
    reply = requests.post(f"{layered.url}/2023-03-30/functions", json={
        "functionName": "deployed-layered", "runtime": "python3.10", "handler": "main.handler",
        "code": {"zipFile": base64.b64encode(_zip({"main.py": "import layerlib\n\ndef handler(event, context):\n"
                                                                "    return layerlib.WHO\n"})).decode()},
        "layers": ["acs:fc:cn-hangzhou:1234567890123456:layers/pyutil/versions/1"],
    }, timeout=60)
    assert reply.status_code == 200, reply.text
    invoked = requests.post(f"{layered.url}/2023-03-30/functions/deployed-layered/invocations", data=b"", timeout=60)
    assert invoked.content == b"layerlib from pyutil/1"


def _zip(files: dict[str, str]) -> bytes:
    return zipped(files)


def test_a_legacy_fc_function_uses_its_layers(tmp_path: Path, own_redis: RedisServer) -> None:
    """FC 2.0 functions take layers too (same ARN form): the fc component's `function.layers` resolve as fc3's."""
    project = tmp_path / "project"
    (project / "code").mkdir(parents=True)
    (project / "code" / "index.py").write_text("import layerlib\n\ndef handler(event, context):\n"
                                               "    return layerlib.WHO\n")
    (project / "s.yaml").write_text("""edition: 3.0.0
name: legacy-layers
resources:
  layered:
    component: fc
    props:
      region: cn-hangzhou
      service:
        name: legacy-svc
      function:
        name: layered
        runtime: python3.10
        handler: index.handler
        codeUri: ./code
        layers:
          - acs:fc:cn-hangzhou:1234567890123456:layers/pyutil/versions/1
""")
    emulator = EmulatorProcess(tmp_path / "none", tmp_path / "fcemu.log", redis_url=own_redis.url,
                               template=str(project / "s.yaml"), layers_dir=str(TESTS / "layers")).start()
    try:
        reply = requests.post(f"{emulator.url}/2016-08-15/services/legacy-svc/functions/layered/invocations",
                              data=b"{}", timeout=60)
        assert reply.status_code == 200, reply.text
        assert reply.content == b"layerlib from pyutil/1"
        assert "function.layers" not in emulator.log_path.read_text()  # no longer listed as not emulated
    finally:
        emulator.stop()
