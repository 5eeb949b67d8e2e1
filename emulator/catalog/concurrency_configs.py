"""Reserved concurrency: what PutConcurrencyConfig stored (in Redis) over a manifest's `concurrencyConfig`.

FC's `reservedConcurrency` is per function (no qualifier) and counts instances. Every process keeps a copy in
memory, so that a pool asks no Redis call before starting an instance; a change is published, each process
re-reads the hash and tells its listeners (its pools' limits and its dispatcher).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from emulator.catalog.loader import FunctionDefinition
from emulator.redis_io.keys import CONCURRENCY_CONFIGS_CHANGED_CHANNEL, CONCURRENCY_CONFIGS_KEY
from emulator.redis_io.replies import as_bytes, reply
from emulator.redis_io.resilience import keep_running, on_each_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConcurrencyEntry:
    function: str
    reserved_concurrency: int
    # True when it comes from the function's manifest (`concurrencyConfig`) rather than from a PUT.
    from_manifest: bool


class ConcurrencyConfigs:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._stored: dict[str, int] = {}
        self._listener: asyncio.Task[None] | None = None
        self._on_change: list[Callable[[], None]] = []

    def on_change(self, callback: Callable[[], None]) -> None:
        """`callback` runs (in the event loop, synchronously) whenever any function's config may have changed."""
        self._on_change.append(callback)

    async def start(self) -> None:
        await self._reload()
        self._listener = asyncio.create_task(keep_running(
            lambda: on_each_message(self._redis, CONCURRENCY_CONFIGS_CHANGED_CHANNEL, self._reload),
            "concurrency config listener", self._redis,
        ))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            # Bounded: a cancellation lost inside a Redis read must not hang shutdown.
            await asyncio.wait([self._listener], timeout=5)

    async def _reload(self) -> None:
        raw = await reply(self._redis.hgetall(CONCURRENCY_CONFIGS_KEY))
        self._stored = {as_bytes(key).decode(): int(value) for key, value in raw.items()}
        self._changed()

    def _changed(self) -> None:
        for callback in self._on_change:
            try:
                callback()
            except Exception:
                log.exception("a concurrency config listener failed")

    def reserved(self, definition: FunctionDefinition) -> int | None:
        """The function's reserved concurrency now (most instances): the API's, else the manifest's, else None."""
        stored = self._stored.get(definition.name)
        return stored if stored is not None else definition.manifest.max_instances

    def get(self, definition: FunctionDefinition) -> ConcurrencyEntry | None:
        stored = self._stored.get(definition.name)
        if stored is not None:
            return ConcurrencyEntry(definition.name, stored, from_manifest=False)
        from_manifest = definition.manifest.max_instances
        return None if from_manifest is None else ConcurrencyEntry(definition.name, from_manifest, from_manifest=True)

    async def put(self, definition: FunctionDefinition, reserved_concurrency: int) -> ConcurrencyEntry:
        await reply(self._redis.hset(CONCURRENCY_CONFIGS_KEY, definition.name, str(reserved_concurrency)))
        await self._redis.publish(CONCURRENCY_CONFIGS_CHANGED_CHANNEL, definition.name)
        self._stored[definition.name] = reserved_concurrency
        self._changed()
        return ConcurrencyEntry(definition.name, reserved_concurrency, from_manifest=False)

    async def delete(self, function: str) -> bool:
        """Removes the API's config of a function (its manifest's, if any, applies again); False if it had none."""
        removed = bool(await reply(self._redis.hdel(CONCURRENCY_CONFIGS_KEY, function)))
        await self._redis.publish(CONCURRENCY_CONFIGS_CHANGED_CHANNEL, function)
        self._stored.pop(function, None)
        self._changed()
        return removed

    def entries(self, definitions: list[FunctionDefinition]) -> list[ConcurrencyEntry]:
        """The configs of these functions that have one (API-put or manifest), in the order given."""
        return [entry for entry in map(self.get, definitions) if entry is not None]
