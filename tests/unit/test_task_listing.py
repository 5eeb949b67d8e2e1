"""ListAsyncTasks' reads, on a real redis-server without Docker: pages (by startedTime, then task id, across
shards and tasks started in the same millisecond) stay exact under every filter, and one page costs Redis what
the page holds, not what the function's whole listing does (measured with INFO's byte and command counters)."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from emulator.queue.listing import ListFilter
from emulator.queue.store import TaskStore
from emulator.redis_io.keys import shard_of, task_member
from tests.support.redis_server import RedisServer


def with_store(server: RedisServer, shards: int, body: Callable[[TaskStore, str], Awaitable[None]]) -> None:
    async def run() -> None:
        redis = Redis.from_url(server.url)
        store = TaskStore(redis, shards=shards, lease_ms=15_000, retention_s=600, max_lost_leases=3)
        try:
            await body(store, f"fn-{uuid.uuid4().hex[:8]}")
        finally:
            await redis.aclose()

    asyncio.run(run())


async def enqueue_all(store: TaskStore, function: str, task_ids: list[str], payload: bytes = b"{}") -> None:
    """Many at once, so that many share a millisecond (ties the listing orders by task id)."""
    for start in range(0, len(task_ids), 50):
        replies = await asyncio.gather(*(store.enqueue(
            function=function, task_id=task_id, request_id=task_id, payload=payload, delay_ms=3_600_000, max_retry=0,
            max_age_s=86_400, task_mode=True, qualifier="LATEST") for task_id in task_ids[start:start + 50]))
        assert all(reply.created for reply in replies)


async def every_page(store: TaskStore, function: str, query: ListFilter) -> list[str]:
    """The task ids of all pages, following each page's cursor; checks each page's size."""
    found: list[str] = []
    cursor = None
    while True:
        records, cursor = await store.list(function, ListFilter(**{**vars(query), "after": cursor}))
        assert len(records) <= query.limit
        found += [record.task_id for record in records]
        if cursor is None:
            return found
        assert len(records) == query.limit, "a page before the last one is full"


@pytest.mark.parametrize("shards", [1, 3])
def test_pages_follow_each_other_exactly_under_every_filter(own_redis: RedisServer, shards: int) -> None:
    async def body(store: TaskStore, function: str) -> None:
        ids = [f"{'ab'[index % 2]}{index:04d}" for index in range(230)]
        await enqueue_all(store, function, ids)
        stopped = set(ids[5::7])
        for task_id in stopped:
            await store.stop(function, task_id)
        rows = []
        for keys in store.shards:
            rows += [(int(score), member.decode())
                     for member, score in await store.redis.zrange(keys.listing(function), 0, -1, withscores=True)]
        scores = {task_id: score for score, task_id in rows}
        # Records past their retention (gone), among the first tasks of several listings below; a listing that
        # passes them removes their entries, so each listing is given them again.
        gone = {ids[10], ids[11], ids[12], ids[13], ids[100], ids[229]}
        for task_id in gone:
            member = task_member(function, task_id)
            await store.redis.delete(shard_of(member, shards).task(member), shard_of(member, shards).events(member))

        async def every_page_with_gone(query: ListFilter) -> list[str]:
            for task_id in gone:
                member = task_member(function, task_id)
                await store.redis.zadd(shard_of(member, shards).listing(function), {task_id: scores[task_id]})
            return await every_page(store, function, query)
        ordered = [task_id for _, task_id in sorted(rows) if task_id not in gone]
        middle_begin, middle_end = sorted(rows)[40][0], sorted(rows)[180][0]

        def expect(*, status: str | None = None, prefix: str = "", begin: int | None = None, end: int | None = None,
                   descending: bool = False) -> list[str]:
            chosen = [(score, task_id) for score, task_id in sorted(rows) if task_id not in gone
                      and task_id.startswith(prefix) and (begin is None or score >= begin)
                      and (end is None or score <= end)
                      and (status is None or (status == "Stopped") == (task_id in stopped))]
            return [task_id for _, task_id in (reversed(chosen) if descending else chosen)]

        assert await every_page_with_gone(ListFilter(limit=7)) == ordered
        assert await every_page_with_gone(ListFilter(limit=100, descending=True)) == ordered[::-1]
        assert await every_page_with_gone(ListFilter(limit=9, prefix="b")) == expect(prefix="b")
        assert await every_page_with_gone(ListFilter(limit=9, prefix="a", descending=True)) == \
            expect(prefix="a", descending=True)
        assert await every_page_with_gone(ListFilter(limit=4, status="Stopped", descending=True)) == \
            expect(status="Stopped", descending=True)
        assert await every_page_with_gone(ListFilter(limit=6, status="Enqueued", prefix="a")) == \
            expect(status="Enqueued", prefix="a")
        assert await every_page_with_gone(ListFilter(limit=11, started_begin_ms=middle_begin,
                                                     started_end_ms=middle_end, descending=True)) == \
            expect(begin=middle_begin, end=middle_end, descending=True)
        assert await every_page_with_gone(ListFilter(limit=1, status="Invalid")) == []
        # The entries of the records that are gone went with the listing that passed them.
        for task_id in gone:
            member = task_member(function, task_id)
            assert await store.redis.zscore(shard_of(member, shards).listing(function), task_id) is None

    with_store(own_redis, shards, body)


@pytest.mark.parametrize("status", [None, "Enqueued"])
def test_records_gone_among_tasks_of_one_millisecond_hide_no_other_task(own_redis: RedisServer,
                                                                          status: str | None) -> None:
    """A page that passes over records past their retention, among more tasks of one millisecond than a window
    reads, still lists every other task: removing their entries must not shift what the next window skips."""
    async def body(store: TaskStore, function: str) -> None:
        ids = [f"t{index:04d}" for index in range(60)]
        await enqueue_all(store, function, ids)
        # Every task started in the same millisecond (listing score and record alike): the listing orders them by id.
        for task_id in ids:
            member = task_member(function, task_id)
            keys = shard_of(member, 1)
            await store.redis.zadd(keys.listing(function), {task_id: 1_700_000_000_000})
            await store.redis.hset(keys.task(member), "created", 1_700_000_000_000)
        gone = {ids[2], ids[3], ids[9]}
        for task_id in gone:
            member = task_member(function, task_id)
            await store.redis.delete(shard_of(member, 1).task(member), shard_of(member, 1).events(member))
        expected = [task_id for task_id in ids if task_id not in gone]
        assert await every_page(store, function, ListFilter(limit=7, status=status)) == expected

    with_store(own_redis, 1, body)


async def _cost(redis: Redis, read: Callable[[], Awaitable[object]]) -> tuple[int, dict[str, int]]:
    """Bytes Redis sent, and calls per command, while `read` ran (INFO's own reply included: a few KB)."""
    before_bytes = (await redis.info("stats"))["total_net_output_bytes"]
    before = await redis.info("commandstats")
    await read()
    after = await redis.info("commandstats")
    sent = (await redis.info("stats"))["total_net_output_bytes"] - before_bytes
    calls = {name.removeprefix("cmdstat_"): stats["calls"] - before.get(name, {"calls": 0})["calls"]
             for name, stats in after.items()}
    return sent, {name: count for name, count in calls.items() if count}


def test_a_page_costs_what_it_holds_not_the_whole_listing(own_redis: RedisServer) -> None:
    async def body(store: TaskStore, function: str) -> None:
        ids = [f"task_{index:05d}" for index in range(5000)]
        await enqueue_all(store, function, ids)
        sent, calls = await _cost(store.redis, lambda: store.list(function, ListFilter(limit=20)))
        # 21 small records (one more, to know a next page exists); the 5,000 ids alone are ~150 KB.
        assert sent < 40_000, (sent, calls)
        assert calls.get("hgetall", 0) <= 21, calls

    with_store(own_redis, 1, body)


def test_a_status_filter_reads_statuses_not_whole_records(own_redis: RedisServer) -> None:
    async def body(store: TaskStore, function: str) -> None:
        ids = [f"task_{index:05d}" for index in range(2000)]
        await enqueue_all(store, function, ids, payload=b"x" * 4096)
        for task_id in ids[-3:]:
            await store.stop(function, task_id)
        records: list[object] = []

        async def read() -> None:
            page, _ = await store.list(function, ListFilter(limit=20, status="Stopped"))
            records.extend(page)

        sent, calls = await _cost(store.redis, read)
        assert [record.task_id for record in records] == ids[-3:]  # type: ignore[attr-defined]
        # Whole records (4 KB payloads) only for the page: reading each passed-over one is ~8 MB.
        assert calls.get("hgetall", 0) == 3, calls
        assert sent < 400_000, (sent, calls)

    with_store(own_redis, 1, body)
