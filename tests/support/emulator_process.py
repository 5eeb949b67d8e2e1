"""Runs `fcemu serve` as a real process for tests, on a free port, with its own container owner label."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What `fcemu serve` and `fcemu dispatcher` print once they take work.
READY_LINES = ("Uvicorn running on", "fcemu dispatcher running")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gather_functions(target: Path, *sources: Path) -> Path:
    """Copies function folders from several places into one functions folder."""
    target.mkdir(parents=True, exist_ok=True)
    for source in sources:
        for folder in source.iterdir():
            if folder.is_dir():
                shutil.copytree(folder, target / folder.name, dirs_exist_ok=True)
    return target


# The owner a process prints in its ready line ("fcemu ready with functions: ... (owner X)").
OWNER_IN_LOG = re.compile(r"\(owner ([^)\s]+)\)")


class EmulatorProcess:
    def __init__(self, functions_dir: Path, log_path: Path, *, redis_url: str, owner: str | None = None,
                 unique_owner: bool = False, command: str = "serve", environment: dict[str, str] | None = None,
                 **settings: str) -> None:
        """`owner` (FCEMU_OWNER) defaults to a random test owner; with `unique_owner` none is set and the process
        picks its own, read from its log once it is ready. `environment` adds other variables (DOCKER_HOST)."""
        self.port = free_port()
        self.owner = "" if unique_owner else owner or f"test-{uuid.uuid4().hex[:10]}"
        self._command = command
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._env = {
            **{name: value for name, value in os.environ.items() if name != "FCEMU_OWNER"},
            "FCEMU_PORT": str(self.port),
            "FCEMU_FUNCTIONS_DIR": str(functions_dir),
            "FCEMU_REDIS_URL": redis_url,
            "FCEMU_DATA_DIR": str(log_path.parent / f"data-{self.owner or uuid.uuid4().hex[:10]}"),
            # The test functions that name layers find them here (tests/functions/layer-*).
            "FCEMU_LAYERS_DIR": str(REPO / "tests" / "layers"),
            **{f"FCEMU_{name.upper()}": value for name, value in settings.items()},
            **(environment or {}),
        }
        if self.owner:
            self._env["FCEMU_OWNER"] = self.owner
        if command == "dispatcher" and self.owner:
            self.owner = f"{self.owner}-dispatcher"  # the label `fcemu dispatcher` gives its containers
        self._process: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._lines: list[str] = []
        self._new_line = threading.Condition()
        self._pump: threading.Thread | None = None

    def launch(self) -> EmulatorProcess:
        """Starts the process without waiting for it to be ready."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "emulator", self._command], cwd=REPO, env=self._env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._pump = threading.Thread(target=self._copy_output, daemon=True)
        self._pump.start()
        return self

    def start(self, timeout: float = 60) -> EmulatorProcess:
        self.launch()
        assert self._process is not None
        if not self._ready.wait(timeout) or self._process.poll() is not None:
            self.stop()
            raise RuntimeError(f"fcemu did not start; its log:\n{self.log_path.read_text()}")
        return self

    def _copy_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        with self.log_path.open("a") as log:
            for line in self._process.stdout:
                log.write(line)
                log.flush()
                owner = OWNER_IN_LOG.search(line)
                if owner is not None:
                    self.owner = owner.group(1)
                with self._new_line:
                    self._lines.append(line)
                    self._new_line.notify_all()
                if any(ready in line for ready in READY_LINES):
                    self._ready.set()
        self._ready.set()

    def wait_for_log(self, text: str, after: int = 0, timeout: float = 30) -> int:
        """Waits until a line printed after line number `after` contains `text`; returns the next line number."""
        with self._new_line:
            found = self._new_line.wait_for(
                lambda: any(text in line for line in self._lines[after:]), timeout=timeout
            )
            if not found:
                raise TimeoutError(f"'{text}' did not appear in the emulator's log")
            return len(self._lines)

    @property
    def log_lines(self) -> int:
        with self._new_line:
            return len(self._lines)

    def wait_exit(self, timeout: float) -> int:
        """Waits for the process to end on its own; returns its exit code (a timeout is a guard, not a delay)."""
        assert self._process is not None
        code = self._process.wait(timeout)
        if self._pump is not None:
            self._pump.join(5)
        return code

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait: the emulator removes its containers on the way out."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._pump is not None:
            self._pump.join(5)
        return self._process.returncode

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
