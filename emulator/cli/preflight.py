"""`fcemu serve`'s preflight: what is checked before the server starts."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.settings import Settings


def _preflight(settings: Settings) -> str | None:
    """Checked before the server starts, so that a bad manifest or a missing Redis is one clear line."""
    import ipaddress

    import redis

    from emulator.catalog.loader import ManifestError
    from emulator.catalog.sources import load_sources
    from emulator.redis_io.client import sync_client

    try:
        keys = settings.access_key_pairs()
    except (OSError, ValueError) as error:
        return f"access keys: {error}"
    try:
        settings.debug_ports()
        settings.allowed_host_patterns()
    except ValueError as error:
        return str(error)
    try:
        settings.function_credentials()
    except (OSError, ValueError) as error:
        return f"function credentials: {error}"
    try:
        loopback = settings.host == "localhost" or ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = False
    if not keys and not loopback and not settings.allow_unauthenticated_remote:
        return (
            f"refusing to listen on {settings.host} without access keys: set FCEMU_ACCESS_KEYS (or "
            "FCEMU_ACCESS_KEYS_FILE), or FCEMU_ALLOW_UNAUTHENTICATED_REMOTE=true to accept unsigned requests from "
            "other machines"
        )
    try:
        load_sources(settings)
    except ManifestError as error:
        # It may name a layer published through the API, which is on this host's disk once mirrored from Redis.
        if not _mirror_published_layers(settings):
            return str(error)
        try:
            load_sources(settings)
        except ManifestError as again:
            return str(again)
    try:
        with sync_client(settings.redis_url, socket_connect_timeout=3) as client:
            client.ping()
    except (redis.RedisError, redis.exceptions.RedisClusterException) as error:
        return f"cannot reach Redis at {settings.redis_url} ({error}); `make up` starts one"
    except ValueError as error:  # a URL that names no Redis
        return str(error)
    return None


def _mirror_published_layers(settings: Settings) -> bool:
    """Mirrors the published layers to disk; False when Redis cannot be reached (the caller's error stands)."""
    import asyncio

    from redis.exceptions import RedisError

    from emulator.catalog.published_layers import PublishedLayers
    from emulator.redis_io.client import async_client, close_client

    async def mirror() -> None:
        client = async_client(settings.redis_url, socket_connect_timeout=3)
        try:
            await PublishedLayers(client, settings.layer_source()).mirror()
        finally:
            await close_client(client)

    try:
        asyncio.run(mirror())
    except (RedisError, OSError):
        return False
    return True
