"""Awaits task state changes through the queue's own pub/sub channel (no polling, no sleeps)."""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

import redis

from emulator.redis_io.client import ClusterUrl, is_cluster
from emulator.redis_io.keys import TASK_EVENTS_CHANNEL, member_of_events_key, task_member

FINAL = {"Succeeded", "Failed", "Stopped", "Expired", "Invalid"}


class TaskWatcher:
    """Subscribe before invoking; then wait for a task (function, task id) to reach a status."""

    def __init__(self, redis_url: str) -> None:
        # On a Redis Cluster, the channel is broadcast to every node: one node's connection hears it all.
        self._client = redis.Redis.from_url(ClusterUrl(redis_url).first_url if is_cluster(redis_url) else redis_url)
        self._pubsub = self._client.pubsub()
        self._pubsub.subscribe(TASK_EVENTS_CHANNEL)
        self._pubsub.get_message(timeout=5)  # the subscribe confirmation
        self.seen: dict[str, list[str]] = defaultdict(list)

    def _pump(self, deadline: float) -> bool:
        message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
        if message is None or message["type"] != "message":
            return False
        status, events_key = message["data"].decode().split(" ", 1)
        self.seen[member_of_events_key(events_key)].append(status)
        return True

    def wait_for(self, function: str, task_id: str, statuses: set[str] | str = FINAL, timeout: float = 60) -> str:
        wanted = {statuses} if isinstance(statuses, str) else statuses
        member = task_member(function, task_id)
        deadline = time.monotonic() + timeout
        while True:
            reached = [status for status in self.seen[member] if status in wanted]
            if reached:
                return reached[0]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{member} did not reach {wanted}; seen {self.seen[member]}")
            self._pump(deadline)

    def wait_for_count(self, statuses: set[str], count: int, timeout: float = 120) -> int:
        """Waits until `count` tasks (any) have reached one of the statuses."""
        deadline = time.monotonic() + timeout
        while True:
            reached = sum(1 for history in self.seen.values() if any(s in statuses for s in history))
            if reached >= count:
                return reached
            if time.monotonic() >= deadline:
                raise TimeoutError(f"only {reached} of {count} tasks reached {statuses}")
            self._pump(deadline)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        """Waits until `condition` (read from `seen`) holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met; seen {dict(self.seen)}")
            self._pump(deadline)

    def close(self) -> None:
        self._pubsub.close()
        self._client.close()
