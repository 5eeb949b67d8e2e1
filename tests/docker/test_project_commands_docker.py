"""`fcemu up`, `down`, `status` and `invoke`, run in a project's folder against real emulators, real
redis-servers and real containers: each project in a temporary folder of its own, with its own ports, so that it
meets no other emulator or Redis."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import redis
import requests

from tests.support.emulator_process import REPO, free_port
from tests.support.greeter_project import write_greeter_project
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.docker

# Guards against a hang, not measures of speed.
COMMAND_TIMEOUT_S = 120


class Project:
    """A Serverless Devs project in a folder of its own, driven by this checkout's `fcemu` commands."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        write_greeter_project(root, name)
        self.port = free_port()
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("FCEMU_")}
        self.env.update(PYTHONPATH=str(REPO), FCEMU_REDIS_PORT=str(free_port()))

    def fcemu(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "emulator", *args], cwd=self.root, env={**self.env, **(env or {})},
                              text=True, capture_output=True, timeout=COMMAND_TIMEOUT_S, input=stdin, check=False)

    def up(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.fcemu("up", "--no-images", "--port", str(self.port), *args, env=env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.root / ".fcemu" / "fcemu.pid"

    def pid(self) -> int:
        return int(self.pid_file.read_text())

    def redis_port(self) -> int:
        return int(self.env["FCEMU_REDIS_PORT"])

    def health(self) -> dict[str, object]:
        return dict(requests.get(f"{self.url}/_fcemu/health", timeout=10).json())


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def containers_of(owner: str) -> list[str]:
    client = docker.from_env()
    try:
        return [item.id for item in client.containers.list(all=True, sparse=True, filters={"label": f"fcemu.owner={owner}"})]
    finally:
        client.close()


@pytest.fixture()
def project(tmp_path: Path) -> Iterator[Project]:
    made = Project(tmp_path / "project", "first")
    yield made
    made.fcemu("down")


def test_up_starts_once_says_where_and_starts_redis_again_under_a_running_emulator(project: Project) -> None:
    first = project.up()
    assert first.returncode == 0, first.stderr
    assert "redis started" in first.stdout and f"fcemu is up on {project.url}" in first.stdout
    assert f"console: {project.url}/_fcemu/console/" in first.stdout and ".fcemu/fcemu.log" in first.stdout
    owner = project.health()["owner"]
    again = project.up()
    assert again.returncode == 0 and "fcemu already runs" in again.stdout
    with redis.Redis(port=project.redis_port()) as client:
        client.shutdown(nosave=True)
    revived = project.up()
    assert revived.returncode == 0, revived.stderr
    assert "redis started" in revived.stdout and "fcemu already runs" in revived.stdout
    assert project.health()["owner"] == owner
    status = project.fcemu("status")
    assert status.returncode == 0 and f"on {project.url}" in status.stdout, status.stdout


def test_up_replaces_a_dead_or_silent_emulator(project: Project) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    project.pid_file.parent.mkdir()
    project.pid_file.write_text(str(gone.pid))
    fresh = project.up()
    assert fresh.returncode == 0, fresh.stderr
    assert f"pid {gone.pid} is gone" in fresh.stdout and "fcemu is up" in fresh.stdout
    # One that runs but does not answer (stopped) is stopped and replaced.
    silent = project.pid()
    os.kill(silent, signal.SIGSTOP)
    replaced = project.up()
    assert replaced.returncode == 0, replaced.stderr
    assert f"fcemu (pid {silent}) runs but does not answer" in replaced.stdout and "fcemu is up" in replaced.stdout
    assert not running(silent)
    assert project.pid() != silent and project.health()["status"] == "ok"


def test_up_says_why_the_emulator_did_not_start(project: Project, tmp_path: Path) -> None:
    # A Redis that refuses TIME: the last step of start-up (the dispatcher's) fails.
    refusing = RedisServer(tmp_path / "redis", extra_args=("--rename-command", "TIME", "")).start()
    try:
        failed = project.up(env={"FCEMU_REDIS_URL": refusing.url})
    finally:
        refusing.stop()
    assert failed.returncode == 1
    assert "fcemu failed to start (exit code 3)" in failed.stderr
    assert "fcemu could not start: ResponseError" in failed.stderr
    assert not project.pid_file.exists()


def test_up_passes_template_and_debug_to_serve_and_reports_their_errors(project: Project, tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("edition: 3.0.0\nname: p\nresources:\n  f:\n    component: fc3\n    props:\n"
                   "      functionName: ${env('FCEMU_TEST_SURELY_UNSET')}\n")
    failed = project.up("--template", str(bad))
    assert failed.returncode == 1
    assert f"fcemu: {bad}, line 7: cannot resolve ${{env('FCEMU_TEST_SURELY_UNSET')}}" in failed.stderr
    failed = project.up("--debug", "greeter,bad:x")
    assert failed.returncode == 1
    assert "fcemu: debug entry 'bad:x' (FCEMU_DEBUG or --debug) is not 'function' or 'function:port'" in failed.stderr


def test_up_refuses_a_port_another_emulator_answers_on(project: Project, tmp_path: Path) -> None:
    assert project.up().returncode == 0
    other = Project(tmp_path / "other", "other")
    other.port = project.port
    try:
        refused = other.up()
        assert refused.returncode == 1 and "another fcemu already answers" in refused.stderr, refused.stderr
    finally:
        other.fcemu("down")


def test_invoke_sync_async_and_from_stdin(project: Project) -> None:
    assert project.up().returncode == 0
    reply = project.fcemu("invoke", "greeter", "-e", "ada")
    assert reply.returncode == 0 and reply.stdout == "hello ada\n", reply.stderr
    assert "greeting ada" in reply.stderr  # the log tail
    piped = project.fcemu("invoke", "greeter", "-", stdin="lin")
    assert piped.returncode == 0 and piped.stdout == "hello lin\n"
    failed = project.fcemu("invoke", "greeter", "-e", "fail")
    assert failed.returncode == 1 and "asked to fail" in failed.stdout + failed.stderr
    unknown = project.fcemu("invoke", "nope", "-e", "x")
    assert unknown.returncode == 2 and "FunctionNotFound" in unknown.stderr
    waited = project.fcemu("invoke", "greeter", "--async", "--delay", "1", "--wait", "-e", "later")
    assert waited.returncode == 0, waited.stderr
    assert "greeting later" in waited.stdout and ": Succeeded" in waited.stderr
    failing = project.fcemu("invoke", "greeter", "--async", "--wait", "-e", "fail")
    assert failing.returncode == 1 and ": Failed" in failing.stderr, failing.stderr
    accepted = project.fcemu("invoke", "greeter", "--async", "--task-id", "t_cli_1", "-e", "x")
    assert accepted.returncode == 0 and "task t_cli_1" in accepted.stdout
    waited = project.fcemu("invoke", "greeter", "--async", "--task-id", "t_cli_2", "--wait", "-e", "named")
    assert waited.returncode == 0 and "greeting named" in waited.stdout and "t_cli_2: Succeeded" in waited.stderr
    # Other commands find the project's emulator from its folder, without FCEMU_PORT.
    logs = project.fcemu("logs", "greeter")
    assert logs.returncode == 0 and "greeting ada" in logs.stdout, logs.stderr


def test_two_projects_run_side_by_side_and_go_down_alone(project: Project, tmp_path: Path) -> None:
    other = Project(tmp_path / "second", "second")
    try:
        for each in (project, other):
            assert each.up().returncode == 0
            assert each.fcemu("invoke", "greeter", "-e", each.root.name).stdout == f"hello {each.root.name}\n"
        owners = [str(each.health()["owner"]) for each in (project, other)]
        assert owners[0] != owners[1] and all(containers_of(owner) for owner in owners)
        pids = [each.pid() for each in (project, other)]
        down = project.fcemu("down")
        assert down.returncode == 0 and "fcemu stopped" in down.stdout and "redis stopped" in down.stdout
        assert not running(pids[0]) and not containers_of(owners[0])
        assert not listens(project.port) and not listens(project.redis_port())
        # The other one serves on.
        assert other.fcemu("invoke", "greeter", "-e", "still").stdout == "hello still\n"
        assert other.fcemu("down").returncode == 0
        assert not running(pids[1]) and not containers_of(owners[1])
        assert not listens(other.port) and not listens(other.redis_port())
        assert project.fcemu("status").returncode == 3
    finally:
        other.fcemu("down")


def test_up_refuses_a_folder_that_holds_no_project(tmp_path: Path) -> None:
    empty = Project(tmp_path / "empty", "empty")
    (empty.root / "s.yaml").unlink()
    refused = empty.up()
    assert refused.returncode == 2 and "no s.yaml or functions/" in refused.stderr, refused.stderr
    assert not (empty.root / ".fcemu").exists()  # nothing started: no Redis, no state
