"""Editing code under the functions folder takes effect without a restart."""
from __future__ import annotations

import shutil
from pathlib import Path

import docker
import requests

from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.test_pool_docker import wait_until_gone
from tests.test_sync_invoke_docker import v3


def test_edited_code_is_picked_up_and_the_old_instance_retired(
    tmp_path: Path, redis_server: RedisServer, docker_client: docker.DockerClient
) -> None:
    functions = tmp_path / "functions"
    shutil.copytree(REPO / "functions" / "hello", functions / "hello")
    emulator = EmulatorProcess(functions, tmp_path / "fcemu.log", redis_url=redis_server.url,
                               dispatcher_enabled="false").start()
    try:
        before = requests.post(v3(emulator, "hello"), data=b'{"name": "v1"}', timeout=30)
        assert before.content == b"hello v1"
        mark = emulator.log_lines
        code = functions / "hello" / "index.py"
        code.write_text(code.read_text().replace('f"hello {name}"', 'f"howdy {name}"'))
        mark = emulator.wait_for_log("reloaded functions: hello", after=mark)
        after = requests.post(v3(emulator, "hello"), data=b'{"name": "v2"}', timeout=30)
        assert after.content == b"howdy v2"
        assert after.headers["x-fc-instance-id"] != before.headers["x-fc-instance-id"]
        wait_until_gone(docker_client, before.headers["x-fc-instance-id"])

        manifest = functions / "hello" / "function.yaml"
        good = manifest.read_text()
        manifest.write_text(good.replace("memorySize: 128", "memorySize: 100"))
        emulator.wait_for_log("functions not reloaded, the running ones stay", after=mark)
        still = requests.post(v3(emulator, "hello"), data=b'{"name": "v3"}', timeout=30)
        assert still.content == b"howdy v3"
        assert still.headers["x-fc-instance-id"] == after.headers["x-fc-instance-id"]
    finally:
        emulator.stop()
