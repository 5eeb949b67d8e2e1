"""Where a project's emulator keeps its state: `.fcemu/` in the project's folder. The files other commands read
to find the project's emulator and Redis (their addresses) are written here, once each."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

STATE_FOLDER = ".fcemu"


@dataclass(frozen=True)
class ProjectState:
    root: Path

    @classmethod
    def here(cls) -> ProjectState:
        return cls(Path.cwd().resolve())

    @property
    def folder(self) -> Path:
        return self.root / STATE_FOLDER

    @property
    def pid_file(self) -> Path:
        return self.folder / "fcemu.pid"

    @property
    def log_file(self) -> Path:
        return self.folder / "fcemu.log"

    @property
    def url_file(self) -> Path:
        """The running emulator's URL, as a client on this machine reaches it."""
        return self.folder / "fcemu.url"

    @property
    def owner_file(self) -> Path:
        """The container owner label the running emulator was started with (its containers are removed by it)."""
        return self.folder / "fcemu.owner"

    @property
    def redis_folder(self) -> Path:
        return self.folder / "redis"

    @property
    def redis_pid_file(self) -> Path:
        return self.folder / "redis.pid"

    @property
    def redis_url_file(self) -> Path:
        return self.folder / "redis.url"

    @property
    def redis_log_file(self) -> Path:
        return self.folder / "redis.log"

    @property
    def owner(self) -> str:
        """The container owner label of this project's emulator: its own, so `fcemu down` removes only its
        containers, and the next start removes what a crash left."""
        return "project-" + hashlib.sha256(str(self.root).encode()).hexdigest()[:12]

    def read(self, path: Path) -> str | None:
        try:
            return path.read_text().strip() or None
        except OSError:
            return None

    def write(self, path: Path, value: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(value + "\n")
        temporary.replace(path)

    def pid(self) -> int | None:
        value = self.read(self.pid_file)
        return int(value) if value and value.isdigit() else None

    def apply_to_environment(self) -> None:
        """Points this process's settings at the project's emulator and Redis when run in its folder and nothing
        else says where they are (FCEMU_PORT, FCEMU_REDIS_URL): `fcemu logs`, `clock`, `task`, `mns` then find it."""
        url = self.read(self.url_file)
        if url and "FCEMU_PORT" not in os.environ and "FCEMU_HOST" not in os.environ:
            host, _, port = url.removeprefix("http://").rpartition(":")
            os.environ["FCEMU_HOST"], os.environ["FCEMU_PORT"] = host.strip("[]"), port
        redis_url = self.read(self.redis_url_file)
        if redis_url and "FCEMU_REDIS_URL" not in os.environ:
            os.environ["FCEMU_REDIS_URL"] = redis_url
