"""MNS queues and topics as local queues in Redis: destinations push to them, users receive from them."""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

MESSAGE_LIMIT_BYTES = 64 * 1024  # MNS's message size limit


def queue_key(kind: str, name: str) -> str:
    return f"fcemu:mns:{kind}:{name}"


# Called with the topic and the stored message right after a message is published to a topic.
TopicListener = Callable[[str, dict[str, Any]], Awaitable[Any]]


class LocalQueues:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._topic_listener: TopicListener | None = None

    def on_topic_message(self, listener: TopicListener) -> None:
        """Set by whoever runs the topic's subscribers (mns_topic triggers); set after construction because
        those need parts built later."""
        self._topic_listener = listener

    async def push(self, kind: str, name: str, body: bytes, tag: str = "") -> str:
        message_id = uuid.uuid4().hex.upper()
        message: dict[str, Any] = {
            "MessageId": message_id,
            "MessageBody": body.decode(errors="replace"),
            "MessageBodyMD5": hashlib.md5(body).hexdigest().upper(),  # noqa: S324 - MNS's own checksum
            "EnqueueTime": int(time.time() * 1000),
            "Priority": 8,
        }
        if tag:
            message["MessageTag"] = tag
        await self._redis.rpush(queue_key(kind, name), json.dumps(message))
        # The subscribers are told after the message is stored: a message that invoked a function can always
        # be read back from the topic too.
        if kind == "topic" and self._topic_listener is not None:
            await self._topic_listener(name, message)
        return message_id

    async def receive(self, kind: str, name: str, count: int, peek: bool) -> list[dict[str, Any]]:
        """Oldest first, like MNS's ReceiveMessage/PeekMessage; receiving takes the messages off the queue."""
        key = queue_key(kind, name)
        raw = await (self._redis.lrange(key, 0, count - 1) if peek else self._redis.lpop(key, count))
        now = int(time.time() * 1000)
        messages = []
        for item in raw or []:
            message = json.loads(item)
            message.update({"DequeueCount": 0 if peek else 1, "FirstDequeueTime": None if peek else now})
            if not peek:
                message["ReceiptHandle"] = base64.b64encode(message["MessageId"].encode()).decode()
            messages.append(message)
        return messages

    async def names(self) -> list[tuple[str, str, int]]:
        found = []
        async for key in self._redis.scan_iter(match="fcemu:mns:*"):
            _, _, kind, name = key.decode().split(":", 3)
            found.append((kind, name, int(await self._redis.llen(key))))
        return sorted(found)
