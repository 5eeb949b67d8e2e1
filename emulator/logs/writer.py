"""Writes kept log lines to Redis from the instances' log threads. Never raises: a slow or absent Redis costs
lines (said once in the emulator's log), never an invocation."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

import redis
from redis.exceptions import RedisError

from emulator.logs import keys

log = logging.getLogger(__name__)

# Streams kept per index; older ones also leave it once past the retention.
INDEX_LIMIT = 10_000
# Lines of an instance that belong to no request (start-up output, lines between invocations).
INSTANCE_LINES_LIMIT = 1000
REDIS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class LogEntry:
    timestamp_ms: int
    function: str
    request_id: str  # "" for an instance's line that belongs to no request
    task_id: str
    instance_id: str
    message: str

    def to_json(self) -> str:
        return json.dumps({
            "timestamp": self.timestamp_ms, "functionName": self.function, "requestId": self.request_id,
            "taskId": self.task_id, "instanceId": self.instance_id, "message": self.message,
        })

    @property
    def stream_id(self) -> str:
        return self.request_id or keys.INSTANCE_PREFIX + self.instance_id


class LogWriter:
    """Thread-safe (a blocking client with its own pool): every instance's log thread writes through it."""

    def __init__(self, redis_url: str, retention_s: int) -> None:
        self._client = redis.Redis.from_url(redis_url, socket_timeout=REDIS_TIMEOUT_S,
                                            socket_connect_timeout=REDIS_TIMEOUT_S)
        self._retention_s = retention_s
        self._failing = False
        self._lock = threading.Lock()

    def write(self, entries: list[LogEntry], tasks: dict[str, tuple[str, str]]) -> None:
        """Appends the entries to their streams; `tasks` maps new async tasks (function, task id) to their
        request id."""
        if not entries and not tasks:
            return
        ttl = self._retention_s
        pipe = self._client.pipeline(transaction=False)
        streams: dict[str, LogEntry] = {}
        for entry in entries:
            data = entry.to_json()
            pipe.rpush(keys.lines_key(entry.stream_id), data)
            pipe.publish(keys.LOG_CHANNEL, data)
            streams.setdefault(entry.stream_id, entry)
        for stream_id, first in streams.items():
            key = keys.lines_key(stream_id)
            if not first.request_id:
                pipe.ltrim(key, -INSTANCE_LINES_LIMIT, -1)
            pipe.expire(key, ttl)
            for index in (keys.function_index(first.function), keys.RECENT_INDEX):
                # NX: a stream is placed by its first line, so the index lists invocations in the order they began.
                pipe.zadd(index, {stream_id: first.timestamp_ms}, nx=True)
        for request_id, (function, task_id) in tasks.items():
            pipe.set(keys.task_key(function, task_id), request_id, ex=ttl)
        if streams:
            newest = max(entry.timestamp_ms for entry in entries)
            for index in {keys.function_index(e.function) for e in streams.values()} | {keys.RECENT_INDEX}:
                pipe.zremrangebyscore(index, "-inf", newest - ttl * 1000)
                pipe.zremrangebyrank(index, 0, -INDEX_LIMIT - 1)
                pipe.expire(index, ttl)
        try:
            pipe.execute()
        except RedisError as error:
            self._report(error)
            return
        self._report(None)

    def _report(self, error: RedisError | None) -> None:
        with self._lock:
            if error is not None and not self._failing:
                self._failing = True
                log.warning("function log lines are dropped while Redis does not take them (%s)", error)
            elif error is None and self._failing:
                self._failing = False
                log.info("function log lines are kept again")

    def close(self) -> None:
        self._client.close()
