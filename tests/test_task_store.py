"""The queue's scripts on a real redis-server, without Docker: claiming onto held instances and stop requests
that meet a task between two dispatcher steps."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from emulator.queue.store import MAX_UNFINISHED_MS, StopOutcome, TaskStore
from tests.support.redis_server import RedisServer


def with_store(redis_server: RedisServer, body: Callable[[TaskStore, str], Awaitable[None]]) -> None:
    async def run() -> None:
        redis = Redis.from_url(redis_server.url)
        store = TaskStore(redis, shards=1, lease_ms=15_000, retention_s=60, max_lost_leases=3)
        try:
            await body(store, f"fn-{uuid.uuid4().hex[:8]}")
        finally:
            await redis.aclose()

    asyncio.run(run())


async def enqueue(store: TaskStore, function: str, task_id: str) -> None:
    accepted = await store.enqueue(function=function, task_id=task_id, request_id=task_id, payload=b"{}",
                                   delay_ms=0, max_retry=0, max_age_s=3600, task_mode=True, qualifier="LATEST")
    assert accepted.created


async def statuses(store: TaskStore, function: str, task_id: str) -> list[str]:
    record = await store.get(function, task_id)
    assert record is not None
    return [event.status for event in record.events]


def test_a_claim_marks_tasks_running_on_the_instances_it_names(redis_server: RedisServer) -> None:
    async def body(store: TaskStore, function: str) -> None:
        for task_id in ("a", "b", "c"):
            await enqueue(store, function, task_id)
        batch = await store.claim(store.shards[0], function, 3, ["instance-1", "instance-2"])
        assert [task.task_id for task in batch.claimed] == ["a", "b", "c"]
        assert await statuses(store, function, "a") == ["Enqueued", "Dequeued", "Running"]
        assert await statuses(store, function, "b") == ["Enqueued", "Dequeued", "Running"]
        assert await statuses(store, function, "c") == ["Enqueued", "Dequeued"]
        record = await store.get(function, "b")
        assert record is not None and record.instance_id == "instance-2"

    with_store(redis_server, body)


def test_a_task_asked_to_stop_and_given_back_never_runs(redis_server: RedisServer) -> None:
    async def body(store: TaskStore, function: str) -> None:
        await enqueue(store, function, "t")
        (task,) = (await store.claim(store.shards[0], function, 1)).claimed
        assert await store.stop(function, "t") is StopOutcome.STOPPING
        assert await store.requeue(task)  # its dispatcher shut down before it could stop it
        assert await statuses(store, function, "t") == ["Enqueued", "Dequeued", "Stopping", "Stopped"]
        assert (await store.claim(store.shards[0], function, 1, ["instance-1"])).claimed == []

    with_store(redis_server, body)


@pytest.mark.parametrize("run_on", ["", "instance-1"])
def test_a_finish_hands_the_next_task_to_the_freed_slot(redis_server: RedisServer, run_on: str) -> None:
    async def body(store: TaskStore, function: str) -> None:
        await enqueue(store, function, "first")
        (first,) = (await store.claim(store.shards[0], function, 1, ["instance-1"])).claimed
        await enqueue(store, function, "second")
        finished = await store.finish(first, outcome="ok", return_payload=b"done", claim_next=1, run_on=run_on)
        assert finished is not None and finished.status == "Succeeded"
        assert [task.task_id for task in finished.next_tasks] == ["second"]
        expected = ["Enqueued", "Dequeued", "Running"] if run_on else ["Enqueued", "Dequeued"]
        assert await statuses(store, function, "second") == expected

    with_store(redis_server, body)


def test_an_enqueue_trims_listing_entries_older_than_any_task_record(redis_server: RedisServer) -> None:
    async def body(store: TaskStore, function: str) -> None:
        listing = store.shards[0].listing(function)
        seconds, micros = await store.redis.time()
        now_ms = seconds * 1000 + micros // 1000
        horizon_ms = 60 * 1000 + MAX_UNFINISHED_MS  # the store's retention is 60 s
        await store.redis.zadd(listing, {"ancient": now_ms - horizon_ms - 60_000,
                                         "recent": now_ms - horizon_ms + 60_000})
        await enqueue(store, function, "new")
        assert await store.redis.zrange(listing, 0, -1) == [b"recent", b"new"]

    with_store(redis_server, body)
