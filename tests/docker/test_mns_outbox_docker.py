"""MNS topic publishes on a real redis-server: once a publish is answered, its subscribers have been told; a
publisher that stops between storing the message and telling them leaves it in the topic's outbox, which another
process (or the same one started again) drains. With the real emulator: a message left so before it starts
invokes the subscribed function once it is up."""
from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from emulator.destinations.local_queues import LocalQueues
from emulator.redis_io.keys import mns_key, mns_outbox_key
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher


class Subscribers:
    """Records what a process's topic listener was told; fails while `failing` is set, as Redis going away
    mid-notify does."""

    def __init__(self) -> None:
        self.told: list[tuple[str, str]] = []
        self.failing = False

    async def __call__(self, topic: str, message: dict[str, Any]) -> int:
        if self.failing:
            raise RedisConnectionError("Redis went away")
        self.told.append((topic, message["MessageId"]))
        return 1


def run(server: RedisServer, body: Any) -> None:
    async def main() -> None:
        redis = Redis.from_url(server.url)
        try:
            await body(redis)
        finally:
            await redis.aclose()

    asyncio.run(main())


async def _on_topic(redis: Redis, topic: str) -> list[str]:
    return [json.loads(item)["MessageId"] for item in await redis.lrange(mns_key("topic", topic), 0, -1)]


def test_an_answered_publish_has_told_every_subscriber(own_redis: RedisServer) -> None:
    async def body(redis: Redis) -> None:
        queues, subscribers = LocalQueues(redis), Subscribers()
        queues.on_topic_message(subscribers)
        message_id = await queues.push("topic", "orders", b"hello")
        assert subscribers.told == [("orders", message_id)]
        assert await _on_topic(redis, "orders") == [message_id]
        assert await redis.hlen(mns_outbox_key("orders")) == 0

    run(own_redis, body)


def test_a_message_stored_by_a_publisher_that_stopped_reaches_its_subscribers(own_redis: RedisServer) -> None:
    async def body(redis: Redis) -> None:
        # What a publisher that died after storing the message leaves: the message, not told to anyone.
        stopped = LocalQueues(redis)
        message = {"MessageId": uuid.uuid4().hex.upper(), "MessageBody": "left", "MessageBodyMD5": "x",
                   "EnqueueTime": 1, "Priority": 8}
        await stopped.store_topic_message("orders", message)
        other, subscribers = LocalQueues(redis), Subscribers()
        other.on_topic_message(subscribers)
        assert await other.drain_outboxes() == 1
        assert subscribers.told == [("orders", message["MessageId"])]
        assert await _on_topic(redis, "orders") == [message["MessageId"]], "stored once, not again"
        assert await other.drain_outboxes() == 0, "told once"

    run(own_redis, body)


def test_a_publish_whose_notification_failed_is_told_later(own_redis: RedisServer) -> None:
    async def body(redis: Redis) -> None:
        queues, subscribers = LocalQueues(redis), Subscribers()
        queues.on_topic_message(subscribers)
        subscribers.failing = True
        with pytest.raises(RedisConnectionError):
            await queues.push("topic", "orders", b"hello")  # not answered: the client sees an error
        (message_id,) = await _on_topic(redis, "orders")
        subscribers.failing = False
        assert await queues.drain_outboxes() == 1
        assert subscribers.told == [("orders", message_id)]

    run(own_redis, body)


def test_a_topic_name_with_a_brace_is_refused(own_redis: RedisServer) -> None:
    async def body(redis: Redis) -> None:
        with pytest.raises(ValueError, match="brace"):
            await LocalQueues(redis).push("topic", "a}b", b"hello")

    run(own_redis, body)


def test_the_emulator_tells_subscribers_of_a_message_left_before_it_started(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer
) -> None:
    message_id = uuid.uuid4().hex.upper()

    async def leave(redis: Redis) -> None:
        await LocalQueues(redis).store_topic_message("mns-fanout", {
            "MessageId": message_id, "MessageBody": "left behind", "MessageBodyMD5": "x", "EnqueueTime": 1,
            "Priority": 8})

    run(own_redis, leave)
    watcher = TaskWatcher(own_redis.url)
    process = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    try:
        assert watcher.wait_for("mns-subscriber", f"mns-stream-{message_id}", timeout=60) == "Succeeded"
        assert watcher.wait_for("mns-subscriber", f"mns-json-{message_id}", timeout=60) == "Succeeded"
    finally:
        process.stop()
        watcher.close()
