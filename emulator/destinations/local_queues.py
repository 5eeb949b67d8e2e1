"""MNS queues and topics as local queues in Redis: destinations push to them, users receive from them.

A message published to a topic is stored, in the same script, in the topic's outbox: it stays there until every
subscriber's invocation is enqueued. The publisher does that before it answers; a process that died in between
leaves the message in the outbox, which every process drains at start-up and every OUTBOX_SWEEP_S (at least
once: a subscriber's task id is the trigger and the message id, so a message notified twice runs it once)."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis

from emulator.redis_io.keys import MNS_OUTBOX_TOPICS_KEY, MNS_PREFIX, mns_key, mns_outbox_key
from emulator.redis_io.lua import load_script
from emulator.redis_io.replies import reply
from emulator.redis_io.resilience import keep_running

log = logging.getLogger(__name__)

MESSAGE_LIMIT_BYTES = 64 * 1024  # MNS's message size limit
TAG_LIMIT = 16  # MNS's limit on a MessageTag's length
BATCH_LIMIT = 16  # MNS's most messages in one batch (sent, received or peeked)
# How often every process drains the outboxes that publishers left behind (the publisher drains its own at once).
OUTBOX_SWEEP_S = 10.0


def valid_name(name: str) -> bool:
    """MNS names have no braces; fcemu relies on that for the outbox's hash slot (see keys.mns_outbox_key)."""
    return bool(name) and "{" not in name and "}" not in name


# Called with the topic and the stored message right after a message is published to a topic.
TopicListener = Callable[[str, dict[str, Any]], Awaitable[Any]]


class LocalQueues:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._topic_listener: TopicListener | None = None
        self._publish = load_script(redis, __file__, "publish_to_topic")
        self._sweeper: asyncio.Task[None] | None = None

    def on_topic_message(self, listener: TopicListener) -> None:
        """Set by whoever runs the topic's subscribers (mns_topic triggers); set after construction because
        those need parts built later."""
        self._topic_listener = listener

    async def push(self, kind: str, name: str, body: bytes, tag: str = "") -> str:
        message_id = uuid.uuid4().hex.upper()
        message: dict[str, Any] = {
            "MessageId": message_id,
            "MessageBody": body.decode(errors="replace"),
            "MessageBodyMD5": hashlib.md5(body, usedforsecurity=False).hexdigest().upper(),  # MNS's own checksum
            "EnqueueTime": int(time.time() * 1000),
            "Priority": 8,
        }
        if tag:
            message["MessageTag"] = tag
        if not valid_name(name):
            raise ValueError(f"{kind} name '{name}' has a brace, which MNS names never have")
        if kind != "topic":
            await reply(self._redis.rpush(mns_key(kind, name), json.dumps(message)))
            return message_id
        await self.store_topic_message(name, message)
        # The subscribers are told after the message is stored (a message that invoked a function can always be
        # read back from the topic too), and before the publish is answered: once answered, every subscriber's
        # task exists. A process that dies in between leaves the message in the outbox for the others.
        await self._drain(name, message_id, message)
        return message_id

    async def store_topic_message(self, topic: str, message: dict[str, Any]) -> None:
        """The message on the topic and in its outbox, atomically; its subscribers are not told yet."""
        await reply(self._redis.sadd(MNS_OUTBOX_TOPICS_KEY, topic))  # first: a message in an outbox is always found
        await self._publish(keys=[mns_key("topic", topic), mns_outbox_key(topic)],
                            args=[message["MessageId"], json.dumps(message)])

    async def _drain(self, topic: str, message_id: str, message: dict[str, Any]) -> bool:
        if self._topic_listener is None:
            return False  # another process, which runs the subscribers, drains it
        await self._topic_listener(topic, message)
        await reply(self._redis.hdel(mns_outbox_key(topic), message_id))
        return True

    async def drain_outboxes(self) -> int:
        """Tells the subscribers of every message a publisher stored without (a process that died in between);
        returns how many messages it drained. One message's undecodable record is logged and dropped."""
        drained = 0
        for raw_topic in await reply(self._redis.smembers(MNS_OUTBOX_TOPICS_KEY)):
            topic = raw_topic.decode() if isinstance(raw_topic, bytes) else str(raw_topic)
            pending = await reply(self._redis.hgetall(mns_outbox_key(topic)))
            for raw_id, raw_message in pending.items():
                message_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
                try:
                    message = json.loads(raw_message)
                except ValueError:
                    log.error("dropped an unreadable message %s from the outbox of topic %s", message_id, topic)
                    await reply(self._redis.hdel(mns_outbox_key(topic), message_id))
                    continue
                if await self._drain(topic, message_id, message):
                    log.info("told the subscribers of topic %s about message %s, found in its outbox", topic,
                             message_id)
                    drained += 1
        return drained

    async def start(self) -> None:
        """Drains what publishers left now, then every OUTBOX_SWEEP_S (a backstop: publishers drain their own)."""
        await self.drain_outboxes()
        self._sweeper = asyncio.create_task(keep_running(self._sweep, "mns outbox", self._redis), name="mns outbox")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(OUTBOX_SWEEP_S)
            await self.drain_outboxes()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def receive(self, kind: str, name: str, count: int, peek: bool) -> list[dict[str, Any]]:
        """Oldest first, like MNS's ReceiveMessage/PeekMessage; receiving takes the messages off the queue."""
        key = mns_key(kind, name)
        raw = await (reply(self._redis.lrange(key, 0, count - 1) if peek else self._redis.lpop(key, count)))
        now = int(time.time() * 1000)
        messages = []
        for item in cast("list[bytes] | None", raw) or []:  # LPOP with a count answers a list, as LRANGE does
            message = json.loads(item)
            message.update({"DequeueCount": 0 if peek else 1, "FirstDequeueTime": None if peek else now})
            if not peek:
                message["ReceiptHandle"] = base64.b64encode(message["MessageId"].encode()).decode()
            messages.append(message)
        return messages

    async def holds(self, kind: str, name: str) -> bool:
        """Whether the queue or topic holds any message (a local queue exists in Redis only while it does)."""
        return valid_name(name) and bool(await self._redis.exists(mns_key(kind, name)))

    async def names(self) -> list[tuple[str, str, int]]:
        found = []
        async for key in self._redis.scan_iter(match=MNS_PREFIX + "*"):
            _, _, kind, name = key.decode().split(":", 3)
            found.append((kind, name, int(await reply(self._redis.llen(key)))))
        return sorted(found)
