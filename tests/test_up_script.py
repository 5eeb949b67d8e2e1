"""scripts/up.sh (`make up`) against a real emulator and a real redis-server, in a temporary copy of the
checkout with its own ports, so that it cannot meet any other emulator or Redis."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from tests.support.emulator_process import REPO, free_port

# Guards against a hang, not measures of speed.
SCRIPT_TIMEOUT_S = 120
EXIT_TIMEOUT_S = 30


class Checkout:
    """A copy of scripts/ with a .venv/bin/fcemu that runs this worktree's emulator."""

    def __init__(self, root: Path, functions_dir: Path) -> None:
        self.root = root
        self.port = free_port()
        self.redis_port = free_port()
        shutil.copytree(REPO / "scripts", root / "scripts")
        fcemu = root / ".venv" / "bin" / "fcemu"
        fcemu.parent.mkdir(parents=True)
        fcemu.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m emulator "$@"\n')
        fcemu.chmod(0o755)
        self.env = {name: value for name, value in os.environ.items()
                    if name not in ("FCEMU_REDIS_URL", "FCEMU_OWNER", "FCEMU_PORT", "FCEMU_HOST")}
        self.env.update(FCEMU_REDIS_PORT=str(self.redis_port), FCEMU_FUNCTIONS_DIR=str(functions_dir))

    def up(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "scripts/up.sh", str(self.port)], check=False, cwd=self.root, env=self.env,
                              text=True, capture_output=True, timeout=SCRIPT_TIMEOUT_S)

    @property
    def pid_file(self) -> Path:
        return self.root / ".fcemu" / "fcemu.pid"

    def health(self) -> dict[str, object]:
        return dict(requests.get(f"http://127.0.0.1:{self.port}/_fcemu/health", timeout=10).json())

    def redis(self) -> redis.Redis:
        return redis.Redis(port=self.redis_port)

    def close(self) -> None:
        """What `make down` does for this copy alone (it never runs `fcemu cleanup --all`)."""
        if self.pid_file.exists():
            pid = int(self.pid_file.read_text())
            if running(pid):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGTERM)
                wait_gone(pid)
        with self.redis() as client:
            try:
                client.shutdown(nosave=True)
            except redis.ConnectionError:
                pass


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pid: int) -> None:
    """up.sh's emulator is not this process's child: there is no exit to await, so poll for it (a guard)."""
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while running(pid):
        assert time.monotonic() < deadline, f"pid {pid} did not end"
        time.sleep(0.05)


@pytest.fixture()
def checkout(tmp_path: Path, functions_dir: Path) -> Iterator[Checkout]:
    only_hello = tmp_path / "functions"
    only_hello.mkdir()
    (only_hello / "hello").symlink_to(functions_dir / "hello")
    copy = Checkout(tmp_path / "checkout", only_hello)
    yield copy
    copy.close()


def test_up_starts_once_and_starts_redis_again_under_a_running_emulator(checkout: Checkout) -> None:
    first = checkout.up()
    assert first.returncode == 0, first.stderr
    assert "redis started" in first.stdout and "fcemu is up" in first.stdout
    owner = checkout.health()["owner"]
    again = checkout.up()
    assert again.returncode == 0 and "fcemu already runs" in again.stdout
    with checkout.redis() as client:
        client.shutdown(nosave=True)
    revived = checkout.up()
    assert revived.returncode == 0, revived.stderr
    assert "redis started" in revived.stdout and "fcemu already runs" in revived.stdout
    with checkout.redis() as client:
        assert client.ping()
    assert checkout.health()["owner"] == owner


def test_up_replaces_a_dead_or_silent_emulator(checkout: Checkout) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    checkout.pid_file.parent.mkdir()
    checkout.pid_file.write_text(str(gone.pid))
    fresh = checkout.up()
    assert fresh.returncode == 0, fresh.stderr
    assert f"pid {gone.pid} is gone" in fresh.stdout and "fcemu is up" in fresh.stdout
    # One that runs but does not answer (stopped) is stopped and replaced.
    silent = int(checkout.pid_file.read_text())
    os.kill(silent, signal.SIGSTOP)
    replaced = checkout.up()
    assert replaced.returncode == 0, replaced.stderr
    assert f"fcemu (pid {silent}) runs but does not answer" in replaced.stdout
    assert "fcemu is up" in replaced.stdout
    assert not running(silent)
    assert int(checkout.pid_file.read_text()) != silent
    assert checkout.health()["status"] == "ok"


def test_up_says_why_the_emulator_did_not_start(checkout: Checkout) -> None:
    # A Redis that refuses TIME: the last step of start-up (the dispatcher's) fails.
    with (checkout.root / "scripts" / "redis.conf").open("a") as conf:
        conf.write('rename-command TIME ""\n')
    failed = checkout.up()
    assert failed.returncode == 1
    assert "fcemu failed to start (exit code 3)" in failed.stderr
    assert "fcemu could not start: ResponseError" in failed.stderr
    assert not checkout.pid_file.exists()


def test_up_passes_template_to_serve_and_reports_its_error(checkout: Checkout, tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("edition: 3.0.0\nname: p\nresources:\n  f:\n    component: fc3\n    props:\n"
                   "      functionName: ${env('FCEMU_TEST_SURELY_UNSET')}\n")
    failed = subprocess.run(["bash", "scripts/up.sh", str(checkout.port)], check=False, cwd=checkout.root,
                            env={**checkout.env, "TEMPLATE": str(bad)}, text=True, capture_output=True,
                            timeout=SCRIPT_TIMEOUT_S)
    assert failed.returncode == 1
    assert f"fcemu: {bad}, line 7: cannot resolve ${{env('FCEMU_TEST_SURELY_UNSET')}}" in failed.stderr


def test_up_passes_debug_to_serve_and_reports_its_error(checkout: Checkout) -> None:
    failed = subprocess.run(["bash", "scripts/up.sh", str(checkout.port)], check=False, cwd=checkout.root,
                            env={**checkout.env, "DEBUG": "echo,bad:x"}, text=True, capture_output=True,
                            timeout=SCRIPT_TIMEOUT_S)
    assert failed.returncode == 1
    assert "fcemu: debug entry 'bad:x' (FCEMU_DEBUG or --debug) is not 'function' or 'function:port'" in failed.stderr
