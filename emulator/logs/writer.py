"""Writes kept log lines to Redis, in one thread of its own, fed by the instances' log threads: lines that come
while a write is under way go together in the next one, so a busy emulator makes few large writes, not many
small ones. Never raises: a slow or absent Redis costs lines (said once in the emulator's log), never an
invocation."""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from redis.exceptions import RedisError

from emulator.redis_io import keys
from emulator.redis_io.client import subscriber_count, sync_client
from emulator.redis_io.replies import sync_reply, zrange_members

log = logging.getLogger(__name__)

# Streams kept per index; older ones also leave it once past the retention.
INDEX_LIMIT = 10_000
# Lines of an instance that belong to no request (start-up output, lines between invocations).
INSTANCE_LINES_LIMIT = 1000
REDIS_TIMEOUT_S = 2.0
# Lines waiting for the writer; beyond this they are dropped (Redis too slow to keep up), said once.
PENDING_LIMIT = 100_000
# The indexes are trimmed at most this often, not on every write.
TRIM_INTERVAL_S = 1.0
# Writes start at most this often: each costs this process's CPU (and the event loop the GIL) whatever its size,
# so lines of many invocations go in one; follow mode sees a line at most this much later.
FLUSH_INTERVAL_S = 0.05


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
        return self.request_id or keys.LOG_INSTANCE_PREFIX + self.instance_id


class LogWriter:
    """`put` is thread-safe and never blocks; the writer thread does the Redis calls."""

    def __init__(self, redis_url: str, retention_s: int) -> None:
        self._client = sync_client(redis_url, socket_timeout=REDIS_TIMEOUT_S,
                                            socket_connect_timeout=REDIS_TIMEOUT_S)
        self._retention_s = retention_s
        self._failing = False
        self._overflowing = False
        self._pending: deque[tuple[list[LogEntry], dict[str, tuple[str, str]]]] = deque()
        self._pending_lines = 0
        self._wake = threading.Condition()
        self._closed = False
        self._last_trim = 0.0
        self._thread = threading.Thread(target=self._run, name="function-logs-writer", daemon=True)
        self._thread.start()

    def put(self, entries: list[LogEntry], tasks: dict[str, tuple[str, str]]) -> None:
        with self._wake:
            if self._pending_lines + len(entries) > PENDING_LIMIT:
                if not self._overflowing:
                    self._overflowing = True
                    log.warning("function log lines are dropped: Redis does not keep up with them")
                return
            self._pending.append((entries, tasks))
            self._pending_lines += len(entries)
            self._wake.notify()

    def _run(self) -> None:
        last_flush = 0.0
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
            wait = last_flush + FLUSH_INTERVAL_S - time.monotonic()
            if wait > 0 and not self._closed:
                time.sleep(wait)  # pacing, not synchronisation: more lines join this write meanwhile
            last_flush = time.monotonic()
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                if not self._pending:
                    return  # closed, and everything written
                batch = list(self._pending)
                self._pending.clear()
                self._pending_lines = 0
                self._overflowing = False
            entries = [entry for part, _ in batch for entry in part]
            tasks = {request: task for _, part in batch for request, task in part.items()}
            try:
                self.write(entries, tasks)
            except Exception:  # the writer must outlive any one batch
                log.exception("could not write a batch of function log lines; skipping it")

    def write(self, entries: list[LogEntry], tasks: dict[str, tuple[str, str]]) -> None:
        """Appends the entries to their streams; `tasks` maps new async tasks (function, task id) to their
        request id."""
        if not entries and not tasks:
            return
        ttl = self._retention_s
        now = time.monotonic()
        pipe = self._client.pipeline(transaction=False)
        # One command per stream, not per line: the writer shares Redis (and the machine's cores) with the queue.
        lines: dict[str, list[str]] = {}
        firsts: dict[str, LogEntry] = {}
        for entry in entries:
            lines.setdefault(entry.stream_id, []).append(entry.to_json())
            firsts.setdefault(entry.stream_id, entry)
        try:
            followed = self._followed()
        except RedisError as error:
            self._report(error)
            return
        indexes: set[str] = set()
        for stream_id, data in lines.items():
            first = firsts[stream_id]
            key = keys.log_lines_key(stream_id)
            pipe.rpush(key, *data)
            if followed:
                for line in data:
                    pipe.execute_command("PUBLISH", keys.LOG_CHANNEL, line)  # a cluster pipeline refuses publish()
            if not first.request_id:
                pipe.ltrim(key, -INSTANCE_LINES_LIMIT, -1)
            pipe.expire(key, ttl)
            for index in (keys.log_function_index(first.function), keys.LOG_RECENT_INDEX):
                # NX: a stream is placed by its first line, so the index lists invocations in the order they began.
                pipe.zadd(index, {stream_id: first.timestamp_ms}, nx=True)
                indexes.add(index)
        for index in indexes:
            pipe.expire(index, ttl)
        streams = firsts
        for request_id, (function, task_id) in tasks.items():
            pipe.set(keys.log_task_key(function, task_id), request_id, ex=ttl)
        trim = bool(streams) and now - self._last_trim >= TRIM_INTERVAL_S
        if trim:
            self._last_trim = now
            newest = max(entry.timestamp_ms for entry in entries)
            for index in {keys.log_function_index(e.function) for e in streams.values()} | {keys.LOG_RECENT_INDEX}:
                pipe.zremrangebyscore(index, "-inf", newest - ttl * 1000)
            for index in {keys.log_function_index(e.function) for e in streams.values()}:
                pipe.zremrangebyrank(index, 0, -INDEX_LIMIT - 1)
        try:
            pipe.execute()
            if trim:
                self._drop_oldest()
        except RedisError as error:
            self._report(error)
            return
        self._report(None)

    def _followed(self) -> bool:
        """Whether anyone follows the lines now (`fcemu logs -f`, a console): without a follower, publishing each
        line would cost Redis for nothing. One question per batch (at most one per FLUSH_INTERVAL_S), asked
        before the batch's lines are published: a follower subscribed by then gets them all."""
        return subscriber_count(self._client, keys.LOG_CHANNEL) > 0

    def _drop_oldest(self) -> None:
        """Bounds what all kept logs take in Redis, whatever the retention: past the INDEX_LIMIT most recent
        invocations (of every function), the oldest go with their lines, not only from the indexes."""
        oldest = zrange_members(sync_reply(self._client.zrange(keys.LOG_RECENT_INDEX, 0, -INDEX_LIMIT - 1)))
        if not oldest:
            return
        pipe = self._client.pipeline(transaction=False)
        for member in oldest:
            pipe.delete(keys.log_lines_key(member.decode() if isinstance(member, bytes) else member))
        pipe.zrem(keys.LOG_RECENT_INDEX, *oldest)
        pipe.execute()

    def _report(self, error: RedisError | None) -> None:
        if error is not None and not self._failing:
            self._failing = True
            log.warning("function log lines are dropped while Redis does not take them (%s)", error)
        elif error is None and self._failing:
            self._failing = False
            log.info("function log lines are kept again")

    def close(self) -> None:
        """Writes what is pending, then stops."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=REDIS_TIMEOUT_S * 2)
        self._client.close()
