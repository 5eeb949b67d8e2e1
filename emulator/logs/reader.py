"""Reads kept function log lines back (the API's /_fcemu/logs): one invocation's, a task's, a function's
recent ones, and what a follower is sent before the live ones (see log_hub.py)."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from emulator.redis_io import keys
from emulator.redis_io.replies import as_bytes, reply

# Streams merged for a listing without an id (a function's, or every function's, most recent invocations).
RECENT_STREAMS = 20
# The most one answer reads of kept lines (their JSON as stored): 1,000 recent invocations of 64 KiB each, or an
# instance's 1,000 lines of up to 64 KiB, would otherwise be built whole in memory. Past it the newest lines are
# the ones kept, and the answer says lines were left out.
ANSWER_MAX_BYTES = 8 * 1024 * 1024
# Set on a plain listing (GET /_fcemu/logs) whose older lines were left out.
TRUNCATED_HEADER = "x-fcemu-logs-truncated"
# Lines read per round trip, newest first: a page may pass the budget by at most this many lines.
PAGE_LINES = 64


@dataclass
class KeptLines:
    entries: list[dict[str, Any]]
    # Older lines were left out to stay within the answer's budget.
    truncated: bool = False


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
        value = await self._redis.get(keys.log_task_key(function, task_id))
        return _text(value) if value is not None else None

    async def lines(self, wanted: LogFilter, recent: int = RECENT_STREAMS, max_bytes: int = ANSWER_MAX_BYTES
                    ) -> KeptLines:
        """The kept lines, oldest first: of one request, or of the most recent invocations (and instance
        streams) of one function or of all; the newest of them that fit in `max_bytes`."""
        matches: Callable[[dict[str, Any]], bool] = wanted.matches
        if wanted.task_id:
            request_id = await self.request_of_task(wanted.function, wanted.task_id)
            streams = [] if request_id is None else [request_id]
            matches = _every
        elif wanted.request_id:
            streams = [wanted.request_id]
        else:
            index = keys.log_function_index(wanted.function) if wanted.function else keys.LOG_RECENT_INDEX
            streams = [_text(s) for s in await self._redis.zrange(index, -recent, -1)]
        read: list[list[bytes]] = []  # newest stream first, each stream's lines newest first
        budget = max_bytes
        truncated = False
        for stream in reversed(streams):  # newest first: what the budget leaves out is the oldest
            raw, budget, complete = await self._newest(stream, budget)
            read.append(raw)
            if not complete:
                truncated = True
                break
        merged = [e for raw in reversed(read) for e in map(json.loads, reversed(raw)) if matches(e)]
        merged.sort(key=lambda entry: entry.get("timestamp", 0))
        return KeptLines(merged, truncated)

    async def _newest(self, stream_id: str, budget: int) -> tuple[list[bytes], int, bool]:
        """A stream's lines, newest first, as long as they fit in `budget` bytes: the lines, the budget left,
        and whether the whole stream fitted."""
        taken: list[bytes] = []
        key = keys.log_lines_key(stream_id)
        # By position from the start: lines appended meanwhile do not shift a page onto lines already read.
        end = await reply(self._redis.llen(key)) - 1
        while end >= 0:
            page = await reply(self._redis.lrange(key, max(0, end - PAGE_LINES + 1), end))
            for raw in reversed(page):
                if len(raw) > budget:
                    return taken, 0, False
                budget -= len(raw)
                taken.append(as_bytes(raw))
            end -= PAGE_LINES
        return taken, budget, True

    async def backlog(self, wanted: LogFilter) -> list[dict[str, Any]]:
        """What a follower of `wanted` is sent first, read once it is subscribed (no line falls between the two):
        the kept lines of the request or task it names; none when it names neither."""
        return (await self.lines(wanted)).entries if wanted.request_id or wanted.task_id else []


def not_in(backlog: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """Whether a live line is not one of the backlog's (a line kept and published while the backlog was read
    comes both ways: it is sent once)."""
    sent = {json.dumps(entry, sort_keys=True) for entry in backlog}
    return lambda entry: not sent or json.dumps(entry, sort_keys=True) not in sent


def _every(_: dict[str, Any]) -> bool:
    return True


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
