"""fcemu as a user installs it: the wheel built from this checkout, installed into a new venv outside it, runs a
Serverless Devs project from the project's own folder (issue 21's first part: a complete package)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from tests.support.emulator_process import REPO, free_port
from tests.support.greeter_project import write_greeter_project

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(target)],
                   check=True, timeout=300)
    [built] = target.glob("fcemu-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv, outside the checkout, with the wheel (and its dependencies) installed: its `fcemu`."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
                   check=True, timeout=900, capture_output=True)
    return venv / "bin" / "fcemu"


def test_the_wheel_holds_what_fcemu_needs_at_run_time_and_no_build_output(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("emulator/queue/lua/common.lua", "emulator/console/static/index.html",
                   "emulator/_runtimes/build.sh", "emulator/_runtimes/python3/Dockerfile",
                   "emulator/_runtimes/python3/agent/bootstrap.py", "emulator/_runtimes/python3/agent/fc_relay.py",
                   "emulator/_runtimes/python3/builtins.txt", "emulator/_runtimes/nodejs/agent/bootstrap.js",
                   "emulator/_runtimes/nodejs/builtins.json", "emulator/_runtimes/go1/Dockerfile",
                   "emulator/_runtimes/java/Dockerfile", "emulator/_runtimes/java/start.sh"):
        assert needed in names, needed
    # The checkout's installed built-in modules (hundreds of MB) are build output, not part of the package.
    assert not [name for name in names if "/builtins/" in name]


def test_the_installed_command_runs_a_serverless_devs_project_from_its_folder(
    installed: Path, tmp_path: Path
) -> None:
    project = tmp_path / "greeter-project"
    write_greeter_project(project, "greeter-project")
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FCEMU_")}
    environment["FCEMU_REDIS_PORT"] = str(free_port())

    def fcemu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(installed), *args], cwd=project, env=environment, text=True, capture_output=True,
                              timeout=300, check=False)

    try:
        up = fcemu("up", "--no-images", "--port", str(port))
        assert up.returncode == 0 and f"fcemu is up on http://127.0.0.1:{port}" in up.stdout, up.stdout + up.stderr
        # The emulator is the installed one: the new venv's python runs it, outside the checkout.
        pid = int((project / ".fcemu" / "fcemu.pid").read_text())
        assert Path(f"/proc/{pid}/cmdline").read_bytes().startswith(str(installed.parent).encode())
        reply = requests.post(f"http://127.0.0.1:{port}/2023-03-30/functions/greeter/invocations", data=b"fc",
                              timeout=60)
        assert reply.status_code == 200 and reply.content == b"hello fc", reply.text
        invoked = fcemu("invoke", "greeter", "-e", "cli")
        assert invoked.returncode == 0 and invoked.stdout == "hello cli\n", invoked.stderr
    finally:
        down = fcemu("down")
    assert down.returncode == 0 and "fcemu stopped" in down.stdout, down.stdout + down.stderr
    assert (project / ".fcemu" / "data").is_dir()  # its state is the project's own


def test_the_installed_command_builds_the_images_from_its_packaged_recipes(installed: Path, tmp_path: Path) -> None:
    tags = {"FCEMU_PYTHON_RUNTIME_IMAGE": "fcemu/runtime-python3:wheel-test",
            "FCEMU_NODEJS_RUNTIME_IMAGE": "fcemu/runtime-nodejs:wheel-test",
            "FCEMU_GO_RUNTIME_IMAGE": "fcemu/runtime-go1:wheel-test",
            "FCEMU_JAVA_RUNTIME_IMAGE": "fcemu/runtime-java:wheel-test"}
    environment = {**os.environ, **tags, "FCEMU_SLIM_IMAGES": "1", "FCEMU_CACHE_DIR": str(tmp_path / "cache")}
    try:
        built = subprocess.run([str(installed), "images"], cwd=tmp_path, env=environment, text=True,
                               capture_output=True, timeout=600, check=False)
        assert built.returncode == 0, built.stdout + built.stderr
        assert (tmp_path / "cache" / "runtimes" / "python3" / "Dockerfile").is_file()
        for tag in tags.values():
            subprocess.run(["docker", "image", "inspect", tag], check=True, capture_output=True)
    finally:
        subprocess.run(["docker", "rmi", *tags.values()], check=False, capture_output=True)
