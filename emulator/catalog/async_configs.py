"""Async invoke configs: those put through the API (kept in Redis) over the manifests' `asyncInvokeConfig`.

Every process keeps a copy in memory, so that accepting an invoke costs no Redis call for its config; a change
is published and each process re-reads it.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import AsyncInvokeConfig, DestinationConfig
from emulator.queue.task_policy import TaskPolicy
from emulator.redis_io.keys import ASYNC_CONFIGS_CHANGED_CHANNEL, ASYNC_CONFIGS_KEY
from emulator.redis_io.replies import as_bytes, reply
from emulator.redis_io.resilience import keep_running, on_each_message
from emulator.timestamps import iso_utc

log = logging.getLogger(__name__)

LATEST = "LATEST"


class AsyncConfigChanges(BaseModel):
    """The fields a PUT may set; those it leaves out keep their value, as in FC."""

    asyncTask: bool | None = None
    destinationConfig: DestinationConfig | None = None
    maxAsyncEventAgeInSeconds: int | None = Field(None, ge=1, le=604800)
    maxAsyncRetryAttempts: int | None = Field(None, ge=0, le=8)


class StoredAsyncConfig(BaseModel):
    asyncTask: bool = False
    destinationConfig: DestinationConfig | None = None
    maxAsyncEventAgeInSeconds: int = 86400
    maxAsyncRetryAttempts: int = 3
    createdTime: str
    lastModifiedTime: str

    def as_invoke_config(self) -> AsyncInvokeConfig:
        return AsyncInvokeConfig(
            asyncTask=self.asyncTask, destinationConfig=self.destinationConfig,
            maxAsyncEventAgeInSeconds=self.maxAsyncEventAgeInSeconds, maxAsyncRetryAttempts=self.maxAsyncRetryAttempts,
        )


@dataclass(frozen=True)
class ConfigEntry:
    function: str
    qualifier: str
    config: StoredAsyncConfig
    # True when it comes from the function's manifest rather than from a PUT.
    from_manifest: bool


def task_policy(definition: FunctionDefinition, config: AsyncInvokeConfig) -> TaskPolicy:
    destinations = config.destinationConfig
    return TaskPolicy(
        function=definition.name, version=definition.identity, async_task=config.asyncTask,
        max_retry=config.maxAsyncRetryAttempts, max_age_s=config.maxAsyncEventAgeInSeconds,
        on_success=destinations.onSuccess.destination if destinations and destinations.onSuccess else "",
        on_failure=destinations.onFailure.destination if destinations and destinations.onFailure else "",
    )


def _field(function: str, qualifier: str) -> str:
    return f"{function}:{qualifier}"


class AsyncConfigs:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._stored: dict[str, StoredAsyncConfig] = {}
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._reload()
        self._listener = asyncio.create_task(keep_running(
            lambda: on_each_message(self._redis, ASYNC_CONFIGS_CHANGED_CHANNEL, self._reload), "async config listener",
            self._redis,
        ))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            # Bounded: a cancellation lost inside a Redis read must not hang shutdown.
            await asyncio.wait([self._listener], timeout=5)

    async def _reload(self) -> None:
        raw = await reply(self._redis.hgetall(ASYNC_CONFIGS_KEY))
        self._stored = {as_bytes(key).decode(): StoredAsyncConfig.model_validate_json(value)
                        for key, value in raw.items()}

    def _manifest_entry(self, definition: FunctionDefinition, qualifier: str) -> StoredAsyncConfig | None:
        """The manifest's config, if it is this qualifier's."""
        config = definition.manifest.asyncInvokeConfig
        if config is None or config.qualifier != qualifier:
            return None
        changed = definition.modified_time
        return StoredAsyncConfig(**config.model_dump(exclude={"qualifier"}), createdTime=changed,
                                 lastModifiedTime=changed)

    def get(self, definition: FunctionDefinition, qualifier: str = LATEST) -> ConfigEntry | None:
        stored = self._stored.get(_field(definition.name, qualifier))
        if stored is not None:
            return ConfigEntry(definition.name, qualifier, stored, from_manifest=False)
        from_manifest = self._manifest_entry(definition, qualifier)
        if from_manifest is not None:
            return ConfigEntry(definition.name, qualifier, from_manifest, from_manifest=True)
        return None

    def effective(self, definition: FunctionDefinition, qualifier: str = LATEST) -> AsyncInvokeConfig:
        """What an async invoke through this qualifier uses now: that qualifier's own config (for LATEST the API's,
        else the manifest's), else FC's defaults. Never another qualifier's: FC keeps async configs out of versions
        and has each version and alias configured on its own, so an alias without one does not take LATEST's."""
        entry = self.get(definition, qualifier or LATEST)
        return entry.config.as_invoke_config() if entry is not None else AsyncInvokeConfig()

    def task_policy(self, definition: FunctionDefinition, qualifier: str = LATEST) -> TaskPolicy:
        """What the queue takes an async invoke through this qualifier with now: its effective config, in queue
        terms."""
        return task_policy(definition, self.effective(definition, qualifier))

    async def put(self, definition: FunctionDefinition, qualifier: str, changes: AsyncConfigChanges) -> ConfigEntry:
        current = self.get(definition, qualifier)
        now = iso_utc()
        base = current.config.model_dump() if current is not None else {"createdTime": now}
        if current is not None and current.from_manifest:
            base["createdTime"] = now
        merged = StoredAsyncConfig(**{**base, **changes.model_dump(exclude_unset=True), "lastModifiedTime": now})
        key = _field(definition.name, qualifier)
        await reply(self._redis.hset(ASYNC_CONFIGS_KEY, key, merged.model_dump_json()))
        await self._redis.publish(ASYNC_CONFIGS_CHANGED_CHANNEL, key)
        self._stored[key] = merged
        return ConfigEntry(definition.name, qualifier, merged, from_manifest=False)

    async def delete(self, definition: FunctionDefinition, qualifier: str) -> bool:
        key = _field(definition.name, qualifier)
        removed = bool(await reply(self._redis.hdel(ASYNC_CONFIGS_KEY, key)))
        await self._redis.publish(ASYNC_CONFIGS_CHANGED_CHANNEL, key)
        self._stored.pop(key, None)
        return removed

    async def forget(self, function: str) -> int:
        """Removes every config of a deleted function (all qualifiers), as FC does; returns how many."""
        fields = [key for key in await reply(self._redis.hkeys(ASYNC_CONFIGS_KEY))
                  if as_bytes(key).decode().partition(":")[0] == function]
        if not fields:
            return 0
        removed = int(await reply(self._redis.hdel(ASYNC_CONFIGS_KEY, *fields)))
        await self._redis.publish(ASYNC_CONFIGS_CHANGED_CHANNEL, function)
        for key in fields:
            self._stored.pop(as_bytes(key).decode(), None)
        return removed

    def entries(self, definitions: list[FunctionDefinition]) -> list[ConfigEntry]:
        """Every config of these functions (API-put and manifest), by function then qualifier."""
        found = []
        for definition in definitions:
            qualifiers = {key.partition(":")[2] for key in self._stored if key.partition(":")[0] == definition.name}
            manifest = definition.manifest.asyncInvokeConfig
            for qualifier in sorted(qualifiers | {manifest.qualifier if manifest else LATEST}):
                entry = self.get(definition, qualifier)
                if entry is not None:
                    found.append(entry)
        return found
