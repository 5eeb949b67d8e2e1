"""A real redis-server process for tests, on a free port, with AOF on in its own folder."""
from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import redis

from tests.support.emulator_process import free_port

READY_LINE = "Ready to accept connections"


class RedisServer:
    def __init__(self, folder: Path, port: int | None = None, appendfsync: str = "always",
                 extra_args: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._appendfsync = appendfsync
        self._extra_args = extra_args
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", self._appendfsync, "--save", "",
             "--maxmemory-policy", "noeviction", "--hz", "100", *self._extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self._process is not None and self._process.stdout is not None
            with (self.folder / "redis.log").open("a") as log:
                for line in self._process.stdout:
                    log.write(line)
                    log.flush()
                    if READY_LINE in line:
                        ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout) or self._process.poll() is not None:
            raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()}")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        """SHUTDOWN: Redis writes out its AOF before it exits."""
        if self._process is None or self._process.poll() is not None:
            return
        try:
            with self.client() as client:
                client.shutdown()
        except redis.ConnectionError:
            pass
        self._process.wait(30)

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
