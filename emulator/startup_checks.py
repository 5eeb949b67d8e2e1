"""The checks of start-up that `Core.start` and `fcemu serve`'s preflight share: each raises StartupError with one
line that says what is wrong and what to do, so that both say it the same way."""
from __future__ import annotations

import os

from redis.asyncio import Redis
from redis.exceptions import RedisClusterException, RedisError

from emulator.credentials import FunctionCredentials
from emulator.pool.engine import remote_engine_host
from emulator.redis_io.client import sync_client
from emulator.settings import Settings


class StartupError(Exception):
    """A part the emulator needs is missing; the message says which and what to do."""


def configured_function_credentials(settings: Settings) -> FunctionCredentials | None:
    """The credentials configured for functions with a role (None: none are); read once, now, so that a bad
    file fails the start."""
    try:
        return settings.function_credentials()
    except (OSError, ValueError) as error:
        raise StartupError(f"function credentials: {error}") from error


def check_engine_host(settings: Settings) -> None:
    """Refuses an engine on another machine unless its containers' bridge addresses are reached instead."""
    remote = remote_engine_host(os.environ.get("DOCKER_HOST", ""))
    if remote is not None and settings.instance_address != "bridge":
        # Instances publish their ports on 127.0.0.1 of the engine's host: unreachable from here.
        raise StartupError(
            f"DOCKER_HOST names the engine of another machine ({remote}): its instances publish their ports on "
            "that machine's 127.0.0.1, out of this process's reach; run this process (one dispatcher per engine) "
            "on the engine's host, or set FCEMU_INSTANCE_ADDRESS=bridge if this host routes to its containers' "
            "bridge addresses"
        )


async def check_redis(redis: Redis, url: str) -> None:
    """Pings the client's Redis."""
    try:
        await redis.ping()
    except (RedisError, RedisClusterException) as error:  # the latter: no node of a cluster answers
        raise StartupError(_unreachable(url, error)) from error


def check_redis_now(url: str) -> None:
    """Pings the URL's Redis with a client of its own, blocking (at most 3 s to connect)."""
    try:
        with sync_client(url, socket_connect_timeout=3) as client:
            client.ping()
    except (RedisError, RedisClusterException) as error:
        raise StartupError(_unreachable(url, error)) from error
    except ValueError as error:  # a URL that names no Redis
        raise StartupError(str(error)) from error


def _unreachable(url: str, error: Exception) -> str:
    return f"cannot reach Redis at {url} ({error}); `make up` starts one"
