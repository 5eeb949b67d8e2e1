"""FCEMU_DEBUG for a java function, end to end: a real `fcemu serve` starts its JVM with JDWP, published on a
loopback port; a JDWP client (what IntelliJ, jdb and VS Code's Java debugger speak) attaches and sees the function's
class once it is loaded. A go1 function named too runs its binary as usual, as the log says."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import docker
import requests

from tests.conftest import TEST_FUNCTIONS, owned_containers
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import v3
from tests.support.jdwp import JdwpClient
from tests.support.redis_server import RedisServer

LISTENING = re.compile(r"debugger for java-parity listening on 127\.0\.0\.1:(\d+) \(JDWP")


def test_a_debugger_attaches_to_a_java_function_over_jdwp(
    tmp_path: Path, redis_server: RedisServer, docker_client: docker.DockerClient
) -> None:
    functions = tmp_path / "functions"
    for name in ("java-parity", "go-parity"):
        shutil.copytree(TEST_FUNCTIONS / name, functions / name)
    subprocess.run(["bash", str(REPO / "scripts" / "build-functions.sh"), str(functions / "java-parity"),
                    str(functions / "go-parity")], check=True, stdout=subprocess.DEVNULL)
    emulator = EmulatorProcess(functions, tmp_path / "fcemu.log", redis_url=redis_server.url,
                               debug="java-parity:0,go-parity").start()
    try:
        emulator.wait_for_log("debugger for java-parity listening")
        [port] = LISTENING.findall(emulator.log_path.read_text())
        debugger = JdwpClient(int(port))
        try:
            assert "Java Debug Wire Protocol" in debugger.version()
            reply = requests.post(v3(emulator, "java-parity"), json={"n": 1}, timeout=60)
            assert reply.status_code == 200 and reply.json() == {"n": 1}, reply.text
            assert debugger.loaded("example.Parity") == 1  # the function's class, in the debugged JVM
        finally:
            debugger.close()
        go = requests.post(v3(emulator, "go-parity"), json={"n": 2}, timeout=60)
        assert go.status_code == 200 and go.json() == {"n": 2}, go.text
        emulator.wait_for_log("cannot run go-parity under a debugger")
    finally:
        emulator.stop()
    assert owned_containers(docker_client, emulator.owner) == []
