"""Awaits function log lines through the channel the emulator publishes each kept line on (no polling)."""
from __future__ import annotations

import json
import time
from typing import Any

import redis

from emulator.redis_io.client import ClusterUrl, is_cluster
from emulator.redis_io.keys import LOG_CHANNEL


class LogWatcher:
    """Subscribe before invoking; then wait for a request's End line (its lines are all kept by then)."""

    def __init__(self, redis_url: str) -> None:
        # On a Redis Cluster, the channel is broadcast to every node: one node's connection hears it all.
        self._client = redis.Redis.from_url(ClusterUrl(redis_url).first_url if is_cluster(redis_url) else redis_url)
        self._pubsub = self._client.pubsub()
        self._pubsub.subscribe(LOG_CHANNEL)
        self._pubsub.get_message(timeout=5)  # the subscribe confirmation
        self.seen: list[dict[str, Any]] = []

    def wait_for(self, request_id: str | None, prefix: str, timeout: float = 60) -> dict[str, Any]:
        """The first line of that request (of any, with None) that starts with `prefix`."""
        deadline = time.monotonic() + timeout
        while True:
            for entry in self.seen:
                if request_id in (None, entry["requestId"]) and entry["message"].startswith(prefix):
                    return entry
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no line starting {prefix!r} of {request_id}")
            message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is not None and message["type"] == "message":
                self.seen.append(json.loads(message["data"]))

    def wait_for_end(self, request_id: str, timeout: float = 60) -> dict[str, Any]:
        return self.wait_for(request_id, "FC Invoke End RequestId: ", timeout)

    def close(self) -> None:
        self._pubsub.close()
        self._client.close()
