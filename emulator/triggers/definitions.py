"""Triggers of functions: those in manifests and those created through the API (kept in Redis, each process
holding a copy that a pub/sub message refreshes)."""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from emulator.catalog.catalog import Catalog
from emulator.catalog.trigger_config import TriggerError, check_trigger
from emulator.redis_io.keys import TRIGGERS_CHANGED_CHANNEL, TRIGGERS_KEY
from emulator.redis_io.replies import as_bytes, reply
from emulator.redis_io.resilience import keep_running, on_each_message
from emulator.timestamps import iso_utc

log = logging.getLogger(__name__)



class StoredTrigger(BaseModel):
    functionName: str
    triggerName: str
    triggerType: str
    triggerConfig: dict[str, Any]
    description: str = ""
    qualifier: str = "LATEST"
    triggerId: str
    createdTime: str
    lastModifiedTime: str


@dataclass(frozen=True)
class TriggerEntry:
    trigger: StoredTrigger
    from_manifest: bool


def config_from(value: Any) -> dict[str, Any]:
    """FC 3.0 sends triggerConfig as a JSON string, FC 2.0 as an object."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as error:
            raise TriggerError(f"triggerConfig is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise TriggerError("triggerConfig must be an object")
    return value


class Triggers:
    def __init__(self, redis: Redis, catalog: Catalog) -> None:
        self._redis = redis
        self._catalog = catalog
        self._stored: dict[str, StoredTrigger] = {}
        self._unreadable: dict[str, bytes] = {}
        self._listener: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()

    async def start(self) -> None:
        await self._reload()
        self._listener = asyncio.create_task(keep_running(
            lambda: on_each_message(self._redis, TRIGGERS_CHANGED_CHANNEL, self._reload), "trigger listener",
            self._redis,
        ))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait([self._listener], timeout=5)

    async def _reload(self) -> None:
        raw = await reply(self._redis.hgetall(TRIGGERS_KEY))
        stored: dict[str, StoredTrigger] = {}
        unreadable: dict[str, bytes] = {}
        for field, value in raw.items():
            key = as_bytes(field).decode(errors="replace")
            try:
                stored[key] = StoredTrigger.model_validate_json(value)
            except ValidationError as error:
                # One bad entry (written by hand, or by an older fcemu) must not hide the others nor stop
                # start-up; logged once for as long as it stays as it is.
                unreadable[key] = as_bytes(value)
                if self._unreadable.get(key) != value:
                    log.error("trigger %s in Redis hash %s is unreadable and ignored (%d error(s), first: %s); "
                              "remove it with HDEL", key, TRIGGERS_KEY, error.error_count(),
                              error.errors()[0]["msg"])
        self._stored = stored
        self._unreadable = unreadable
        self.changed.set()

    def entries(self, function: str | None = None) -> list[TriggerEntry]:
        found = []
        for definition in self._catalog.all():
            if function is not None and definition.name != function:
                continue
            stamp = definition.modified_time
            for trigger in definition.manifest.triggers:
                found.append(TriggerEntry(StoredTrigger(
                    functionName=definition.name, triggerName=trigger.triggerName, triggerType=trigger.triggerType,
                    triggerConfig=trigger.triggerConfig, description=trigger.description,
                    qualifier=trigger.qualifier, triggerId=f"{definition.name}/{trigger.triggerName}",
                    createdTime=stamp, lastModifiedTime=stamp,
                ), from_manifest=True))
        for stored in self._stored.values():
            if function is None or stored.functionName == function:
                found.append(TriggerEntry(stored, from_manifest=False))
        return sorted(found, key=lambda entry: (entry.trigger.functionName, entry.trigger.triggerName))

    def get(self, function: str, name: str) -> TriggerEntry | None:
        for entry in self.entries(function):
            if entry.trigger.triggerName == name:
                return entry
        return None

    async def save(self, function: str, name: str, trigger_type: str, config: dict[str, Any], description: str,
                   *, create: bool, qualifier: str = "LATEST") -> StoredTrigger:
        """`qualifier`: what the trigger invokes (LATEST, a version id or an alias), checked by the caller."""
        current = self._stored.get(f"{function}/{name}")
        now = iso_utc()
        trigger = StoredTrigger(
            functionName=function, triggerName=name, triggerType=trigger_type,
            triggerConfig=check_trigger(trigger_type, config), description=description, qualifier=qualifier,
            triggerId=current.triggerId if current else str(uuid.uuid4()),
            createdTime=current.createdTime if current else now, lastModifiedTime=now,
        )
        key = f"{function}/{name}"
        if create:
            if not await reply(self._redis.hsetnx(TRIGGERS_KEY, key, trigger.model_dump_json())):
                raise FileExistsError(key)
        else:
            await reply(self._redis.hset(TRIGGERS_KEY, key, trigger.model_dump_json()))
        self._stored[key] = trigger
        await self._redis.publish(TRIGGERS_CHANGED_CHANNEL, key)
        self.changed.set()
        return trigger

    async def delete(self, function: str, name: str) -> bool:
        key = f"{function}/{name}"
        removed = bool(await reply(self._redis.hdel(TRIGGERS_KEY, key)))
        self._stored.pop(key, None)
        await self._redis.publish(TRIGGERS_CHANGED_CHANNEL, key)
        self.changed.set()
        return removed

    async def forget(self, function: str) -> int:
        """Removes every trigger created through the API for a deleted function, as FC does; returns how many."""
        # By the field name (`<function>/<trigger>`), not the stored JSON: an unreadable entry of another function
        # must not stop this cleanup, and one of this function's goes with it.
        prefix = f"{function}/".encode()
        keys = [key for key in await reply(self._redis.hkeys(TRIGGERS_KEY)) if as_bytes(key).startswith(prefix)]
        if not keys:
            return 0
        removed = int(await reply(self._redis.hdel(TRIGGERS_KEY, *keys)))
        for key in keys:
            self._stored.pop(as_bytes(key).decode(errors="replace"), None)
        await self._redis.publish(TRIGGERS_CHANGED_CHANNEL, function)
        self.changed.set()
        return removed
