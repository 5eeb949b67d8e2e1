"""Destination addresses and function-destination task ids (pure), and the deliverer's retry limit for an
unexpected error (real redis-server, the real Deliverer)."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.destinations.deliverer import Deliverer, DeliveryPolicy
from emulator.destinations.local_queues import LocalQueues
from emulator.destinations.targets import HttpTarget, Target, Unsupported, function_task_id, parse_destination
from emulator.queue.models import TaskRecord
from emulator.queue.store import TaskStore
from emulator.redis_io.keys import TASK_EVENTS_CHANNEL
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher


@pytest.mark.parametrize("url", ["http://a..b/", "http://", "http://[::1/", "https://example.com:99999/",
                                 "http://exa mple.com/", "http://" + "a" * 64 + ".com/"])
def test_a_url_that_can_never_work_is_unsupported(url: str) -> None:
    assert isinstance(parse_destination(url), Unsupported)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://[::1]:80/", "http://host.docker.internal/",
                                 "https://bücher.de/", "http://my_sink:9000/hook"])
def test_a_valid_url_is_an_http_target(url: str) -> None:
    assert parse_destination(url) == HttpTarget(url)


def test_function_task_ids_are_readable_when_unambiguous() -> None:
    assert function_task_id("echo", "t-1") == "echo_t-1"
    assert function_task_id("chain-a", "abc") == "chain-a_abc"


@pytest.mark.parametrize("first,second", [
    (("a_b", "c"), ("a", "b_c")),  # the same text once joined by '_'
    (("svc$fn", "t"), ("svc_fn", "t")),  # the same once sanitised
    (("echo", "x" * 124 + "aaaa"), ("echo", "x" * 124 + "bbbb")),  # the same once cut to 128 characters
    (("a", "b_c"), ("_a", "b_c")),
])
def test_function_task_ids_of_different_tasks_differ(first: tuple[str, str], second: tuple[str, str]) -> None:
    one, other = function_task_id(*first), function_task_id(*second)
    assert one != other
    for task_id in (one, other):
        assert len(task_id) <= 128 and task_id.replace("_", "").replace("-", "").isalnum()
        assert task_id[0].isalpha() or task_id[0] == "_"
    assert function_task_id(*first) == one, "the same source task always gets the same id"


class BrokenDeliverer(Deliverer):
    """A deliverer with a bug in sending: the error is not a DeliveryFailed."""

    async def _send(self, target: Target, task: TaskRecord) -> str:
        raise RuntimeError("a bug")


async def wake_on_each_retry(redis: Redis, deliverer: Deliverer) -> None:
    """What the dispatcher's reaper tick does for the deliverer, at once: a retry is due after its backoff."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(TASK_EVENTS_CHANNEL)
    try:
        async for message in pubsub.listen():
            if message["type"] == "message" and message["data"].startswith(b"DestinationRetrying "):
                deliverer.wake()
    finally:
        await pubsub.aclose()


def test_an_unexpected_delivery_error_is_retried_only_up_to_the_max(own_redis: RedisServer) -> None:
    redis_server = own_redis
    function = f"fn-{uuid.uuid4().hex[:8]}"
    watcher = TaskWatcher(redis_server.url)

    async def run() -> list[str]:
        redis = Redis.from_url(redis_server.url)
        store = TaskStore(redis, shards=1, lease_ms=15_000, retention_s=60, max_lost_leases=3)
        deliverer = BrokenDeliverer(
            store, Catalog({}, "default"), AsyncConfigs(redis), LocalQueues(redis),
            DeliveryPolicy(max_attempts=3, base_delay_ms=1, lease_ms=15_000, http_timeout_s=1),
            function_arn_prefix="acs:fc:cn-hangzhou:1:functions/",
        )
        try:
            await store.enqueue(function=function, task_id="t", request_id="t", payload=b"{}", delay_ms=0,
                                max_retry=0, max_age_s=3600, task_mode=True, qualifier="LATEST",
                                on_success="http://127.0.0.1:1/")
            (task,) = (await store.claim(store.shards[0], function, 1)).claimed
            await store.finish(task, outcome="ok")
            delivering = asyncio.create_task(deliverer.run())
            waking = asyncio.create_task(wake_on_each_retry(redis, deliverer))
            await asyncio.to_thread(watcher.wait_for, function, "t", "DestinationFailed", 30)
            waking.cancel()
            deliverer.close()
            await delivering
            record = await store.get(function, "t")
            assert record is not None
            return [event.status for event in record.events]
        finally:
            await redis.aclose()

    try:
        statuses = asyncio.run(run())
    finally:
        watcher.close()
    assert statuses[-3:] == ["DestinationRetrying", "DestinationRetrying", "DestinationFailed"]
