"""`fcemu serve`'s preflight: what is checked before the server starts (imported by `fcemu serve` alone: it
reads the settings, the functions and Redis)."""
from __future__ import annotations

import ipaddress

from emulator.catalog.loader import ManifestError
from emulator.catalog.sources import layer_source, load_sources
from emulator.settings import Settings
from emulator.startup_checks import StartupError, check_redis_now, configured_function_credentials


def preflight(settings: Settings) -> str | None:
    """Checked before the server starts, so that a bad manifest or a missing Redis is one clear line (None: all
    is well). The checks Core.start makes too are startup_checks' own, so both say them the same way."""
    try:
        keys = _access_keys(settings)
        _check_lists(settings)
        configured_function_credentials(settings)
        _check_listening(settings, keys)
        _check_functions(settings)
        check_redis_now(settings.redis_url)
    except StartupError as error:
        return str(error)
    return None


def _access_keys(settings: Settings) -> dict[str, str]:
    try:
        return settings.access_key_pairs()
    except (OSError, ValueError) as error:
        raise StartupError(f"access keys: {error}") from error


def _check_lists(settings: Settings) -> None:
    """The settings that are lists of entries: the debugged functions, the allowed host names."""
    try:
        settings.debug_ports()
        settings.allowed_host_patterns()
    except ValueError as error:
        raise StartupError(str(error)) from error


def _check_listening(settings: Settings, keys: dict[str, str]) -> None:
    """Refuses to take unsigned requests from other machines unless told to."""
    try:
        loopback = settings.host == "localhost" or ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = False
    if not keys and not loopback and not settings.allow_unauthenticated_remote:
        raise StartupError(
            f"refusing to listen on {settings.host} without access keys: set FCEMU_ACCESS_KEYS (or "
            "FCEMU_ACCESS_KEYS_FILE), or FCEMU_ALLOW_UNAUTHENTICATED_REMOTE=true to accept unsigned requests from "
            "other machines"
        )


def _check_functions(settings: Settings) -> None:
    """The functions' manifests and template load."""
    try:
        load_sources(settings)
    except ManifestError as error:
        # It may name a layer published through the API, which is on this host's disk once mirrored from Redis.
        if not _mirror_published_layers(settings):
            raise StartupError(str(error)) from error
        try:
            load_sources(settings)
        except ManifestError as again:
            raise StartupError(str(again)) from again


def _mirror_published_layers(settings: Settings) -> bool:
    """Mirrors the published layers to disk; False when Redis cannot be reached (the caller's error stands)."""
    import asyncio

    from redis.exceptions import RedisError

    from emulator.catalog.published_layers import PublishedLayers
    from emulator.redis_io.client import async_client, close_client

    async def mirror() -> None:
        client = async_client(settings.redis_url, socket_connect_timeout=3)
        try:
            await PublishedLayers(client, layer_source(settings)).mirror()
        finally:
            await close_client(client)

    try:
        asyncio.run(mirror())
    except (RedisError, OSError):
        return False
    return True
