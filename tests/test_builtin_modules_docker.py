"""FC's built-in python and Node.js modules (runtimes/python3/builtins.txt, runtimes/nodejs/builtins.json) in the
runtime images, against real containers and a
real `fcemu serve`: a function imports them without packaging them and sees FC's versions; a function that vendors
its own copy of one of them gets its own copy (the built-ins sit after the code and layers on sys.path)."""
from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer

TESTS = Path(__file__).parent
pytestmark = pytest.mark.skipif(os.environ.get("FCEMU_SLIM_IMAGES") == "1",
                                reason="FCEMU_SLIM_IMAGES=1: the runtime images are built without the built-in modules")
BUILTINS = TESTS.parent / "runtimes" / "python3" / "builtins.txt"
NODE_BUILTINS = TESTS.parent / "runtimes" / "nodejs" / "builtins.json"
FUNCTIONS = ("builtins-python", "builtins-vendored", "builtins-node", "builtins-node-vendored")
# FC's list (its python3.10 runtime), the names in builtins.txt before the dependencies' pins.
FC_LIST = ("oss2", "tablestore", "aliyun-fc2", "aliyun-python-sdk-ecs", "aliyun-python-sdk-vpc",
           "aliyun-python-sdk-rds", "aliyun-python-sdk-kms", "aliyun-mns", "aliyun-python-sdk-cdn",
           "aliyun-python-sdk-ram", "aliyun-python-sdk-sts", "aliyun-python-sdk-iot", "aliyun-log-python-sdk",
           "wand", "scrapy", "pymysql", "elasticsearch", "pillow", "pyopenssl", "redis", "requests")


def pinned() -> dict[str, str]:
    """builtins.txt's pins, by lower-case distribution name."""
    pins = {}
    for line in BUILTINS.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line.strip())
        if match:
            pins[match[1].lower()] = match[2]
    return pins


@pytest.fixture()
def served(tmp_path: Path, own_redis: RedisServer) -> Iterator[EmulatorProcess]:
    functions = tmp_path / "functions"
    for name in FUNCTIONS:
        shutil.copytree(TESTS / "functions" / name, functions / name)
    emulator = EmulatorProcess(functions, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    yield emulator
    emulator.stop()


def _invoke(emulator: EmulatorProcess, name: str) -> dict[str, object]:
    reply = requests.post(f"{emulator.url}/2023-03-30/functions/{name}/invocations", data=b"{}", timeout=90)
    assert reply.status_code == 200, reply.text
    assert "x-fc-error-type" not in reply.headers, reply.text
    return json.loads(reply.content)


def test_the_list_in_builtins_txt_is_fcs_whole_python310_list() -> None:
    assert set(FC_LIST) <= set(pinned())


def test_a_function_imports_fcs_built_in_modules_at_their_pinned_versions(served: EmulatorProcess) -> None:
    seen = _invoke(served, "builtins-python")
    pins = pinned()
    versions = {name.lower(): version for name, version in seen["versions"].items()}  # type: ignore[union-attr]
    assert versions == {name: pins[name] for name in FC_LIST}
    assert seen["modules"] == {"requests": "2.28.1", "fc2": "2.5.2", "oss2": "2.16.0", "tablestore": "5.4.1"}
    assert str(seen["requests_file"]).startswith("/opt/fcemu/builtins/")


def test_a_function_s_own_copy_of_a_built_in_module_wins(served: EmulatorProcess) -> None:
    seen = _invoke(served, "builtins-vendored")
    assert seen == {"requests": "vendored", "requests_file": "/code/requests/__init__.py", "redis": "4.4.0"}


def test_a_nodejs_function_requires_fcs_built_in_modules_at_their_pinned_versions(served: EmulatorProcess) -> None:
    seen = _invoke(served, "builtins-node")
    assert seen["versions"] == json.loads(NODE_BUILTINS.read_text())["dependencies"]
    assert seen["ossResolved"] == "/opt/fcemu/builtins/node_modules/ali-oss/lib/client.js"
    assert seen["classes"] == ["function", "function"]
    assert seen["NODE_PATH"] == "/opt/nodejs/node_modules", "the function sees its NODE_PATH as FC sets it"


def test_a_nodejs_function_s_own_copy_of_a_built_in_module_wins(served: EmulatorProcess) -> None:
    assert _invoke(served, "builtins-node-vendored") == {"ali-oss": "vendored", "co": "4.6.0"}
