"""The project's own Redis, when FCEMU_REDIS_URL names none: redis-server from PATH with fcemu's configuration
(redis.conf: AOF on, `appendfsync always`, loopback only), its data in the project's `.fcemu/redis/` (kept across
`fcemu down`), on a port chosen once and kept (FCEMU_REDIS_PORT, else 6390 when free, else a free one)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from emulator.project.state import ProjectState

CONFIG = Path(__file__).parent / "redis.conf"
# A large AOF takes a while to load; until then Redis answers LOADING, not PONG.
START_TIMEOUT_S = 60.0
START_POLL_S = 0.1


class RedisStartError(Exception):
    """The message says what to do."""


# The port of fcemu's Redis when it is free (`fcemu serve`'s default FCEMU_REDIS_URL names it); taken, a free one.
DEFAULT_PORT = 6390


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _url(port: int | str) -> str:
    return f"redis://127.0.0.1:{port}/0"


def _port_of(url: str) -> str:
    return url.rsplit(":", 1)[1].split("/")[0]


def answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def _is_ours(url: str, state: ProjectState) -> bool:
    """Whether the Redis answering there keeps its data in this project's folder (not another project's, which
    took the port while this one's was down)."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2, decode_responses=True) as client:
            folder = client.config_get("dir").get("dir", "")
    except (redis.RedisError, OSError):
        return False
    return Path(folder).resolve() == state.redis_folder.resolve()


def project_redis(state: ProjectState) -> tuple[str, bool]:
    """The project's Redis URL, started first when it does not answer; and whether it was started now."""
    given = os.environ.get("FCEMU_REDIS_PORT")
    url = _url(given) if given else state.read(state.redis_url_file)
    if url is not None and answers(url):
        if not _is_ours(url, state):
            if given:
                raise RedisStartError(f"another Redis answers on port {given} (FCEMU_REDIS_PORT); name a free one")
            url = None  # its port went to another project's Redis meanwhile: this one gets another
        else:
            state.write(state.redis_url_file, url)
            return url, False
    if url is None or not _bindable(int(_port_of(url))):
        url = _url(DEFAULT_PORT if _bindable(DEFAULT_PORT) else _free_port())
    server = shutil.which("redis-server")
    if server is None:
        raise RedisStartError("redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install -y "
                              "redis-server), or set FCEMU_REDIS_URL to a Redis of your own")
    port = _port_of(url)
    state.redis_folder.mkdir(parents=True, exist_ok=True)
    started = subprocess.run(
        [server, str(CONFIG), "--port", port, "--dir", str(state.redis_folder), "--daemonize", "yes",
         "--pidfile", str(state.redis_pid_file), "--logfile", str(state.redis_log_file)],
        check=False, capture_output=True, text=True)
    if started.returncode != 0:
        raise RedisStartError(f"redis-server did not start: {started.stderr.strip() or started.stdout.strip()}")
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answers(url):  # no event tells when it has loaded its AOF
        if time.monotonic() >= deadline:
            raise RedisStartError(f"redis-server did not answer on 127.0.0.1:{port} within {START_TIMEOUT_S:g} s; "
                                  f"see {state.redis_log_file}")
        time.sleep(START_POLL_S)
    state.write(state.redis_url_file, url)
    return url, True


def stop_project_redis(state: ProjectState) -> bool:
    """Shuts the project's Redis down (its AOF written out first) if fcemu started it; whether it did."""
    url = state.read(state.redis_url_file)
    if url is None or not state.redis_pid_file.exists():
        return False
    if not _is_ours(url, state):
        # Gone (a crash or a reboot left its pid file), and its port may be another project's Redis by now.
        state.redis_pid_file.unlink(missing_ok=True)
        return False
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.shutdown()
    except redis.ConnectionError:
        pass  # it closes the connection as it goes, or was gone already
    except redis.RedisError:
        return False
    state.redis_pid_file.unlink(missing_ok=True)
    return True
