"""FC's built-in python and Node.js modules (runtimes/python3/builtins.txt and builtins-python3.12.txt,
runtimes/nodejs/builtins.json) in the runtime images, against real containers and a real `fcemu serve`: a function
imports them without packaging them (python3.10's list or python3.12's by its runtime; require() or an ES module's
import) and sees FC's versions; a function that vendors its own copy of one of them gets its own copy (the built-ins
sit after the code and layers); wand draws through the image's ImageMagick."""
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

TESTS = Path(__file__).parents[1]
pytestmark = pytest.mark.skipif(os.environ.get("FCEMU_SLIM_IMAGES") == "1",
                                reason="FCEMU_SLIM_IMAGES=1: the runtime images are built without the built-in modules")
BUILTINS = TESTS.parent / "runtimes" / "python3" / "builtins.txt"
BUILTINS_312 = TESTS.parent / "runtimes" / "python3" / "builtins-python3.12.txt"
NODE_BUILTINS = TESTS.parent / "runtimes" / "nodejs" / "builtins.json"
FUNCTIONS = ("builtins-python", "builtins-vendored", "builtins-node", "builtins-node-vendored", "builtins-python312",
             "builtins-wand", "builtins-node-esm", "builtins-node-esm-vendored")
# FC's list (its python3.10 runtime), the names in builtins.txt before the dependencies' pins.
FC_LIST = ("oss2", "tablestore", "aliyun-fc2", "aliyun-python-sdk-ecs", "aliyun-python-sdk-vpc",
           "aliyun-python-sdk-rds", "aliyun-python-sdk-kms", "aliyun-mns", "aliyun-python-sdk-cdn",
           "aliyun-python-sdk-ram", "aliyun-python-sdk-sts", "aliyun-python-sdk-iot", "aliyun-log-python-sdk",
           "wand", "scrapy", "pymysql", "elasticsearch", "pillow", "pyopenssl", "redis", "requests")
# FC's python3.12 list, the names in builtins-python3.12.txt before FC 3.0's SDK and the dependencies' pins.
FC_LIST_312 = ("oss2", "alibabacloud_ecs20140526", "alibabacloud_vpc20160428", "alibabacloud_rds20140815",
               "alibabacloud_kms20160120", "alibabacloud-mns-open20220119", "alibabacloud_cdn20180510",
               "alibabacloud_ram20150501", "alibabacloud_sts20150401", "alibabacloud_iot20180120",
               "alibabacloud_sls20201230", "wand", "scrapy", "pymysql", "elasticsearch", "pillow", "pyopenssl",
               "redis", "requests")
FC3_SDK = "alibabacloud_fc20230330"


def pinned(listing: Path = BUILTINS) -> dict[str, str]:
    """A list's pins, by lower-case distribution name."""
    pins = {}
    for line in listing.read_text().splitlines():
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


def _call(emulator: EmulatorProcess, name: str) -> bytes:
    reply = requests.post(f"{emulator.url}/2023-03-30/functions/{name}/invocations", data=b"{}", timeout=90)
    assert reply.status_code == 200, reply.text
    assert "x-fc-error-type" not in reply.headers, reply.text
    return reply.content


def _invoke(emulator: EmulatorProcess, name: str) -> dict[str, object]:
    return json.loads(_call(emulator, name))


def test_the_lists_are_fcs_whole_python310_and_python312_lists() -> None:
    assert set(FC_LIST) <= set(pinned())
    assert {*FC_LIST_312, FC3_SDK} <= set(pinned(BUILTINS_312))


def test_a_function_imports_fcs_built_in_modules_at_their_pinned_versions(served: EmulatorProcess) -> None:
    seen = _invoke(served, "builtins-python")
    pins = pinned()
    versions = {name.lower(): version for name, version in seen["versions"].items()}  # type: ignore[union-attr]
    assert versions == {name: pins[name] for name in FC_LIST}
    assert seen["modules"] == {"requests": "2.28.1", "fc2": "2.5.2", "oss2": "2.16.0", "tablestore": "5.4.1"}
    assert str(seen["requests_file"]).startswith("/opt/fcemu/builtins/python3.10/")
    assert seen["fc3"] == ["alibabacloud_fc20230330.client", pinned()[FC3_SDK]], "FC 3.0's SDK on python3.10 too"


def test_a_python312_function_imports_fcs_python312_built_in_modules(served: EmulatorProcess) -> None:
    seen = _invoke(served, "builtins-python312")
    pins = pinned(BUILTINS_312)
    versions = {name.lower(): version for name, version in seen["versions"].items()}  # type: ignore[union-attr]
    assert versions == {name: pins[name] for name in (*FC_LIST_312, FC3_SDK)}
    assert versions["requests"] == "2.32.3" != pinned()["requests"], "python3.12's own list, not python3.10's"
    assert str(seen["requests_file"]).startswith("/opt/fcemu/builtins/python3.12/")
    assert seen["client"] == "alibabacloud_fc20230330.client"


def test_wand_draws_an_image_with_the_image_s_imagemagick(served: EmulatorProcess) -> None:
    png = _call(served, "builtins-wand")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 3 and int.from_bytes(png[20:24], "big") == 2, "IHDR: 3 x 2"


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


def test_an_es_module_handler_imports_fcs_built_in_modules(served: EmulatorProcess) -> None:
    seen = _invoke(served, "builtins-node-esm")
    assert seen == {"classes": ["function", "function", "function"],
                    "ali-oss": json.loads(NODE_BUILTINS.read_text())["dependencies"]["ali-oss"]}


def test_an_es_module_handler_s_own_copy_of_a_built_in_module_wins(served: EmulatorProcess) -> None:
    assert _invoke(served, "builtins-node-esm-vendored") == {"ali-oss": "vendored", "co": "function"}
