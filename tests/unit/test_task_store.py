"""The queue's scripts on a real redis-server, without Docker: claiming onto held instances and stop requests
that meet a task between two dispatcher steps."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import BlockingConnectionPool, Redis

from emulator.queue.listing import ListFilter
from emulator.queue.store import MAX_UNFINISHED_MS, StopOutcome, TaskStore
from emulator.redis_io.keys import task_member
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


class RoundTrips:
    """Counts the commands a client sends (each one round trip), by name; they still go to the real Redis."""

    def __init__(self, redis: Redis) -> None:
        self.sent: dict[str, int] = {}
        send = redis.execute_command

        async def counted(*args: object, **options: object) -> object:
            name = str(args[0]).lower()
            self.sent[name] = self.sent.get(name, 0) + 1
            return await send(*args, **options)

        redis.execute_command = counted  # type: ignore[method-assign]

    def take(self) -> dict[str, int]:
        sent, self.sent = self.sent, {}
        return sent


def test_claims_and_finishes_in_steady_state_cost_one_round_trip(redis_server: RedisServer) -> None:
    """A claim script may touch only the keys it names, so it is told its candidates: kept from the last claim's
    reply, or named by a wake. Only a function never seen before is read first."""
    async def body(store: TaskStore, function: str) -> None:
        for task_id in ("a", "b", "c"):
            await enqueue(store, function, task_id)
        trips = RoundTrips(store.redis)
        (first,) = (await store.claim(store.shards[0], function, 1)).claimed
        assert trips.take() == {"zrange": 1, "evalsha": 1}, "first sight of the function: read, then claim"
        await store.finish(first, outcome="ok")  # (loads the finish script: not steady state)
        trips.take()
        (second,) = (await store.claim(store.shards[0], function, 1)).claimed
        finished = await store.finish(second, outcome="ok", claim_next=1)
        assert finished is not None and [task.task_id for task in finished.next_tasks] == ["c"]
        assert trips.take() == {"evalsha": 2}
        await enqueue(store, function, "d")
        store.note_due(task_member(function, "d"))  # as the dispatcher does with the wake that names it
        trips.take()
        assert [task.task_id for task in (await store.claim(store.shards[0], function, 1)).claimed] == ["d"]
        assert trips.take() == {"evalsha": 1}
        assert first.task_id == "a" and second.task_id == "b"

    with_store(redis_server, body)


def test_a_claim_with_stale_candidates_still_claims_what_is_due(redis_server: RedisServer) -> None:
    """Another dispatcher took the tasks this one expected, and a task came that no wake named to it: the
    script claims none of the stale ones, and the claim goes again with the due set's own first members."""
    async def body(store: TaskStore, function: str) -> None:
        other = TaskStore(store.redis, shards=1, lease_ms=15_000, retention_s=60, max_lost_leases=3)
        for task_id in ("a", "b", "c"):
            await enqueue(store, function, task_id)
        assert [t.task_id for t in (await store.claim(store.shards[0], function, 1)).claimed] == ["a"]
        assert [t.task_id for t in (await other.claim(other.shards[0], function, 5)).claimed] == ["b", "c"]
        await enqueue(store, function, "d")
        assert store.upcoming.get(0, function) == [task_member(function, "b"), task_member(function, "c")]
        assert [t.task_id for t in (await store.claim(store.shards[0], function, 1)).claimed] == ["d"]
        assert await statuses(store, function, "b") == ["Enqueued", "Dequeued"], "claimed once only"

    with_store(redis_server, body)


def test_the_reaper_gives_back_expired_leases_only(redis_server: RedisServer) -> None:
    async def body(store: TaskStore, function: str) -> None:
        expired = TaskStore(store.redis, shards=1, lease_ms=0, retention_s=60, max_lost_leases=3)
        await enqueue(store, function, "lost")
        await enqueue(store, function, "held")
        (lost,) = (await expired.claim(expired.shards[0], function, 1)).claimed
        (held,) = (await store.claim(store.shards[0], function, 1)).claimed
        assert await store.reap(store.shards[0]) == 1
        assert await statuses(store, function, lost.task_id) == [
            "Enqueued", "Dequeued", "Enqueued"]
        assert await statuses(store, function, held.task_id) == ["Enqueued", "Dequeued"]
        (again,) = (await store.claim(store.shards[0], function, 1)).claimed
        assert again.task_id == lost.task_id and again.attempt == 2

    with_store(redis_server, body)


def test_reads_on_another_client_answer_while_the_queues_pool_is_all_taken(redis_server: RedisServer) -> None:
    """The API reads tasks through the store's reads on a pool of its own (Core.task_reads): readers wait there,
    never on the connections the queue runs on, nor does the queue wait on them."""
    async def run() -> None:
        queue = Redis.from_pool(BlockingConnectionPool.from_url(redis_server.url, max_connections=1, timeout=30))
        api = Redis.from_url(redis_server.url)
        store = TaskStore(queue, shards=2, lease_ms=15_000, retention_s=60, max_lost_leases=3)
        function = f"fn-{uuid.uuid4().hex[:8]}"
        try:
            await enqueue(store, function, "t")
            reads = store.reads_on(api)
            # The queue's only connection, taken until the test lets it go.
            held = asyncio.create_task(queue.blpop([f"test:held:{function}"], timeout=30))
            while not any(client.get("cmd") == "blpop" for client in await api.client_list()):
                await asyncio.sleep(0.02)  # a command's start has no event of its own to await
            async with asyncio.timeout(10):
                record = await reads.get(function, "t")
                records, _ = await reads.list(function, ListFilter(limit=10))
            assert record is not None and record.task_id == "t"
            assert [record.task_id for record in records] == ["t"]
            await api.lpush(f"test:held:{function}", "go")
            await held
        finally:
            await queue.aclose()
            await api.aclose()

    asyncio.run(run())
