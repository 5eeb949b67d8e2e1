"""A function's task-mode tasks (ListAsyncTasks), a page at a time. The listing sets, one per shard scored by
startedTime, are read a window at a time from the page's cursor on (ZRANGE ... BYSCORE LIMIT) and merged; with a
status or qualifier filter, the windows' statuses and qualifiers are read in one round trip (HMGET of those
fields, pipelined); whole records only for the page. A page costs a few round trips whatever the number of tasks;
only entries a prefix, status or qualifier filter passes over add to it (their ids and those fields, never their
records)."""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from emulator.queue.models import TaskRecord
from emulator.redis_io.keys import ShardKeys, shard_of, task_member

# Listing entries read from a shard per round trip when a filter may pass over many.
WINDOW = 200

# Where a page ended: the (startedTime ms, task id) of its last task; the next page starts after it.
Cursor = tuple[int, str]


@dataclass(frozen=True)
class ListFilter:
    status: str | None = None
    prefix: str | None = None
    started_begin_ms: int | None = None
    started_end_ms: int | None = None
    descending: bool = False
    limit: int = 20
    after: Cursor | None = None
    # Only tasks invoked with this qualifier (LATEST: also those queued before fcemu kept one).
    qualifier: str | None = None

    def passes(self, status: str, qualifier: str) -> bool:
        """Whether a task of this status and recorded qualifier passes the status and qualifier filters."""
        return ((self.status is None or status == self.status)
                and (self.qualifier is None or (qualifier or "LATEST") == self.qualifier))


class _ShardReader:
    """One shard's listing from the cursor on, in the listing's order, read a window at a time. A window starts at
    the score the last one ended with, skipping the entries of that score already read (tasks started in the
    same millisecond), so no window reads the entries before it again."""

    def __init__(self, key: str, query: ListFilter) -> None:
        self.key = key
        self.descending = query.descending
        self.after = query.after
        low = query.started_begin_ms if query.started_begin_ms is not None else "-inf"
        high = query.started_end_ms if query.started_end_ms is not None else "+inf"
        first, self.end = (high, low) if self.descending else (low, high)
        # The score the next window starts at: the cursor's, unless the range begins after it.
        self.start: int | str = first
        if self.after is not None and not self._before(self.after[0], first):
            self.start = self.after[0]
        # The cursor past the range's far end: nothing of the range lies after it.
        self.exhausted = self.after is not None and self._before(self.end, self.after[0])
        self.skip = 0
        self.entries: deque[Cursor] = deque()

    def _before(self, one: int | str, other: int | str) -> bool:
        """Whether score `one` comes before `other` in the listing's order (an infinite bound never does)."""
        if isinstance(one, str) or isinstance(other, str):
            return False
        return one > other if self.descending else one < other

    def read(self, pipe: Pipeline, count: int) -> None:
        # By score, the bounds are scores ("-inf", "(5" included), which redis-py 5's types take for int indexes.
        pipe.zrange(self.key, self.start, self.end,  # type: ignore[arg-type, unused-ignore]
                    desc=self.descending, byscore=True, offset=self.skip, num=count, withscores=True)

    def take(self, rows: list[tuple[bytes, float]], count: int) -> None:
        read = [(int(score), member.decode()) for member, score in rows]
        self.exhausted = len(read) < count
        if read:
            last = read[-1][0]
            same = sum(1 for score, _ in read if score == last)
            self.skip = self.skip + same if last == self.start else same
            self.start = last
        for entry in read:
            if self.after is None or (entry < self.after if self.descending else entry > self.after):
                self.entries.append(entry)


async def _next_entries(redis: Redis, readers: list[_ShardReader], count: int, window: int) -> list[Cursor]:
    """Up to `count` next entries of the merged listing (fewer only at its end)."""
    found: list[Cursor] = []
    while len(found) < count:
        empty = [reader for reader in readers if not reader.entries and not reader.exhausted]
        if empty:
            async with redis.pipeline(transaction=False) as pipe:
                for reader in empty:
                    reader.read(pipe, window)
                replies = await pipe.execute()
            for reader, rows in zip(empty, replies):
                reader.take(rows, window)
            continue
        ready = [reader for reader in readers if reader.entries]
        if not ready:
            break
        pick = (max if readers[0].descending else min)(ready, key=lambda reader: reader.entries[0])
        found.append(pick.entries.popleft())
    return found


async def _passing(redis: Redis, function: str, shard: Callable[[str], ShardKeys], entries: list[Cursor],
                   query: ListFilter, gone: list[str]) -> list[Cursor]:
    """The entries the filters let through: the prefix on the ids, the status and qualifier read in one round
    trip. Those whose records are past their retention period are added to `gone`."""
    if query.prefix:
        entries = [entry for entry in entries if entry[1].startswith(query.prefix)]
    if not (query.status or query.qualifier) or not entries:
        return entries
    async with redis.pipeline(transaction=False) as pipe:
        for _, task_id in entries:
            pipe.hmget(shard(task_id).task(task_member(function, task_id)), ["status", "qualifier"])
        fields = await pipe.execute()
    gone += [task_id for (_, task_id), (status, _) in zip(entries, fields) if status is None]
    return [entry for entry, (status, qualifier) in zip(entries, fields)
            if status is not None and query.passes(status.decode(), (qualifier or b"").decode())]


async def _forget(redis: Redis, function: str, shard: Callable[[str], ShardKeys], task_ids: list[str]) -> None:
    """Listing entries whose records are past their retention period go too: once the page is read, since the
    readers' offsets (entries of one millisecond already read) count them."""
    if task_ids:
        async with redis.pipeline(transaction=False) as pipe:
            for task_id in task_ids:
                pipe.zrem(shard(task_id).listing(function), task_id)
            await pipe.execute()


async def list_tasks(redis: Redis, shards: list[ShardKeys], function: str, query: ListFilter
                     ) -> tuple[list[TaskRecord], Cursor | None]:
    """One page of a function's task-mode tasks by startedTime (then task id), filtered, and the cursor of the
    next page (None on the last)."""
    shard_count = len(shards)

    def shard(task_id: str) -> ShardKeys:
        return shard_of(task_member(function, task_id), shard_count)

    readers = [_ShardReader(keys.listing(function), query) for keys in shards]
    wanted = query.limit + 1  # one more than the page: is there a next one?
    filtered = bool(query.prefix or query.status or query.qualifier)
    page: list[TaskRecord] = []
    # Entries that passed the filters, in order, whose records are not read yet.
    passed: deque[Cursor] = deque()
    gone: list[str] = []
    while len(page) < wanted:
        if not passed:
            entries = await _next_entries(redis, readers, WINDOW if filtered else wanted - len(page),
                                          WINDOW if filtered else wanted)
            if not entries:
                break
            passed.extend(await _passing(redis, function, shard, entries, query, gone))
            continue
        needed = [passed.popleft() for _ in range(min(len(passed), wanted - len(page)))]
        async with redis.pipeline(transaction=False) as pipe:
            for _, task_id in needed:
                member = task_member(function, task_id)
                pipe.hgetall(shard(task_id).task(member))
                pipe.lrange(shard(task_id).events(member), 0, -1)
            replies = await pipe.execute()
        for index, (_, task_id) in enumerate(needed):
            fields, events = replies[2 * index], replies[2 * index + 1]
            if not fields:
                gone.append(task_id)
                continue
            record = TaskRecord.from_redis(fields, events)
            # Read after its status: it may have moved on since.
            if query.passes(record.status, record.qualifier):
                page.append(record)
    await _forget(redis, function, shard, gone)
    if len(page) > query.limit:
        last = page[query.limit - 1]
        return page[:query.limit], (last.created_ms, last.task_id)
    return page, None
