"""Reads kept function log lines back (the API's /_fcemu/logs): one invocation's, a task's, a function's
recent ones, and what a follower is sent before the live ones (see log_hub.py)."""
from __future__ import annotations

import json
from collections.abc import Callable
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

    async def backlog(self, wanted: LogFilter) -> list[dict[str, Any]]:
        """What a follower of `wanted` is sent first, read once it is subscribed (no line falls between the two):
        the kept lines of the request or task it names; none when it names neither."""
        return await self.lines(wanted) if wanted.request_id or wanted.task_id else []


def not_in(backlog: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """Whether a live line is not one of the backlog's (a line kept and published while the backlog was read
    comes both ways: it is sent once)."""
    sent = {json.dumps(entry, sort_keys=True) for entry in backlog}
    return lambda entry: not sent or json.dumps(entry, sort_keys=True) not in sent


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
