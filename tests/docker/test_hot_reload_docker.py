"""Editing code under the functions folder takes effect without a restart."""
from __future__ import annotations

import shutil
from pathlib import Path

import docker
import requests

from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import v3
from tests.support.redis_server import RedisServer
from tests.support.waits import wait_until_gone


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


def test_edits_to_a_template_its_env_and_its_code_folder_are_picked_up(tmp_path: Path, redis_server: RedisServer
                                                                       ) -> None:
    project = tmp_path / "project"
    shutil.copytree(Path(__file__).parents[1] / "templates" / "python-folder", project)
    emulator = EmulatorProcess(tmp_path / "none", tmp_path / "fcemu.log", redis_url=redis_server.url,
                               template=str(project / "s.yaml"), dispatcher_enabled="false").start()
    try:
        assert requests.post(v3(emulator, "tpl-greeter"), data=b"{}", timeout=30).json()["greeting"] == \
            "hello from .env"
        mark = emulator.log_lines
        (project / ".env").write_text("TEMPLATE_GREETING=edited .env\n")
        mark = emulator.wait_for_log("reloaded functions: tpl-greeter", after=mark)
        assert requests.post(v3(emulator, "tpl-greeter"), data=b"{}", timeout=30).json()["greeting"] == "edited .env"

        template = project / "s.yaml"
        template.write_text(template.read_text().replace("handler: index.echo", "handler: index.handler"))
        mark = emulator.wait_for_log("reloaded functions: tpl-echo", after=mark)
        assert requests.post(v3(emulator, "tpl-echo"), data=b"{}", timeout=30).json()["function"] == "tpl-echo"

        code = project / "code" / "index.py"
        code.write_text(code.read_text().replace('"function": context.function.name',
                                                 '"function": "edited " + context.function.name'))
        emulator.wait_for_log("reloaded functions: ", after=mark)
        assert requests.post(v3(emulator, "tpl-echo"), data=b"{}", timeout=30).json()["function"] == \
            "edited tpl-echo"
    finally:
        emulator.stop()


def test_an_edit_to_an_extended_parent_template_is_picked_up(tmp_path: Path, redis_server: RedisServer) -> None:
    project = tmp_path / "project"
    shutil.copytree(Path(__file__).parents[1] / "templates" / "python-folder", project)
    # The served template only extends the example; the example is the parent being edited.
    (project / "s.child.yaml").write_text("extend: s.yaml\n")
    emulator = EmulatorProcess(tmp_path / "none", tmp_path / "fcemu.log", redis_url=redis_server.url,
                               template=str(project / "s.child.yaml"), dispatcher_enabled="false").start()
    try:
        assert requests.post(v3(emulator, "tpl-echo"), data=b"ping", timeout=30).content == b"ping"
        mark = emulator.log_lines
        parent = project / "s.yaml"
        parent.write_text(parent.read_text().replace("handler: index.echo", "handler: index.handler"))
        emulator.wait_for_log("reloaded functions: tpl-echo", after=mark)
        assert requests.post(v3(emulator, "tpl-echo"), data=b"{}", timeout=30).json()["function"] == "tpl-echo"
    finally:
        emulator.stop()
