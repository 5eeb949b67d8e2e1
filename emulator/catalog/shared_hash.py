"""A Redis hash of JSON records that every process mirrors in memory: read without a Redis call, changed in Redis
and announced on a channel, on which every process re-reads it (the invocation restrictions, the provision
configs). A listener is told which fields changed, whether here or in another process."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from pydantic import BaseModel
from redis.asyncio import Redis

from emulator.redis_io.replies import as_bytes, reply
from emulator.redis_io.resilience import keep_running, on_each_message

Record = TypeVar("Record", bound=BaseModel)

Listener = Callable[[set[str]], Awaitable[None]]


class SharedHash(Generic[Record]):
    def __init__(self, redis: Redis, key: str, channel: str, model: type[Record]) -> None:
        self._redis = redis
        self._key = key
        self._channel = channel
        self._model = model
        self._stored: dict[str, Record] = {}
        # One change of the mirror at a time: a re-read begun before a write must not land after it.
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []
        self._subscription: asyncio.Task[None] | None = None

    def on_change(self, listener: Listener) -> None:
        """`listener` is awaited with the fields whose record changed (added, replaced or removed)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        await self._reload()
        self._subscription = asyncio.create_task(keep_running(
            lambda: on_each_message(self._redis, self._channel, self._reload), f"{self._key} listener", self._redis,
        ))

    async def close(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            # Bounded: a cancellation lost inside a Redis read must not hang shutdown.
            await asyncio.wait([self._subscription], timeout=5)

    def get(self, field: str) -> Record | None:
        return self._stored.get(field)

    def items(self) -> dict[str, Record]:
        return dict(self._stored)

    async def _reload(self) -> None:
        async with self._lock:
            raw = await reply(self._redis.hgetall(self._key))
            stored = {as_bytes(key).decode(): self._model.model_validate_json(value) for key, value in raw.items()}
            await self._replace(stored)

    async def _replace(self, stored: dict[str, Record]) -> None:
        before, self._stored = self._stored, stored
        changed = {field for field in before.keys() | stored.keys() if before.get(field) != stored.get(field)}
        if changed:
            for listener in self._listeners:
                await listener(changed)

    async def put(self, field: str, record: Record) -> None:
        async with self._lock:
            await reply(self._redis.hset(self._key, field, record.model_dump_json()))
            await self._redis.publish(self._channel, field)
            await self._replace({**self._stored, field: record})

    async def delete(self, *fields: str) -> int:
        """Removes these fields' records; returns how many there were."""
        if not fields:
            return 0
        async with self._lock:
            removed = int(await reply(self._redis.hdel(self._key, *fields)))
            await self._redis.publish(self._channel, fields[0])
            await self._replace({field: record for field, record in self._stored.items() if field not in fields})
        return removed
