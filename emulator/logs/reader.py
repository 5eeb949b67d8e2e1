"""Reads kept function log lines back (the API's /_fcemu/logs): one invocation's, a task's, a function's
recent ones, and the live ones."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from emulator.logs import keys

# Streams merged for a listing without an id (a function's, or every function's, most recent invocations).
RECENT_STREAMS = 20


@dataclass(frozen=True)
class LogFilter:
    function: str = ""
    request_id: str = ""
    task_id: str = ""

    def matches(self, entry: dict[str, Any]) -> bool:
        return ((not self.function or entry.get("functionName") == self.function)
                and (not self.request_id or entry.get("requestId") == self.request_id)
                and (not self.task_id or entry.get("taskId") == self.task_id))


class LogReader:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def request_of_task(self, function: str, task_id: str) -> str | None:
        value = await self._redis.get(keys.task_key(function, task_id))
        return _text(value) if value is not None else None

    async def lines(self, wanted: LogFilter, recent: int = RECENT_STREAMS) -> list[dict[str, Any]]:
        """The kept lines, oldest first: of one request, or of the most recent invocations (and instance
        streams) of one function or of all."""
        if wanted.task_id:
            request_id = await self.request_of_task(wanted.function, wanted.task_id)
            if request_id is None:
                return []
            return await self._stream(request_id)
        if wanted.request_id:
            return [e for e in await self._stream(wanted.request_id) if wanted.matches(e)]
        index = keys.function_index(wanted.function) if wanted.function else keys.RECENT_INDEX
        streams = [_text(s) for s in await self._redis.zrange(index, -recent, -1)]
        merged = [e for stream in streams for e in await self._stream(stream) if wanted.matches(e)]
        merged.sort(key=lambda entry: entry.get("timestamp", 0))
        return merged

    async def _stream(self, stream_id: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in await self._redis.lrange(keys.lines_key(stream_id), 0, -1)]

    async def follow(self, wanted: LogFilter, idle_s: float = 15.0) -> AsyncIterator[dict[str, Any] | None]:
        """Kept lines of the wanted invocations as they come, after those kept before (when an id is given),
        until the caller stops iterating; None once subscribed (from then on no line is missed) and after every
        `idle_s` without a line, for the caller to check on its client and keep its connection alive."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(keys.LOG_CHANNEL)
        try:
            yield None
            # Subscribed first, then read: no line falls between the two; one in both is sent once.
            backlog = await self.lines(wanted) if wanted.request_id or wanted.task_id else []
            sent = {json.dumps(entry, sort_keys=True) for entry in backlog}
            for entry in backlog:
                yield entry
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=idle_s)
                if message is None:
                    yield None
                    continue
                try:
                    entry = json.loads(message["data"])
                except (ValueError, TypeError):
                    continue  # not ours: one bad message must not end the follow
                if not isinstance(entry, dict) or not wanted.matches(entry):
                    continue
                if sent and json.dumps(entry, sort_keys=True) in sent:
                    continue
                yield entry
        finally:
            await pubsub.aclose()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
