"""Redis key names. Every key of one task carries its shard's hash tag, so each script stays in one slot of a
Redis Cluster and the same scripts run unchanged on a single Redis."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

PREFIX = "fcemu"
WAKE_CHANNEL = f"{PREFIX}:wake"
STOP_CHANNEL = f"{PREFIX}:stop"
# Published by common.lua when a finished task has a destination to deliver to (the message is the shard tag).
DELIVER_CHANNEL = f"{PREFIX}:deliver"
# Published by the scripts (common.lua) on every task state change: "<status> <events key>".
TASK_EVENTS_CHANNEL = f"{PREFIX}:task-events"


def member_of_events_key(events_key: str) -> str:
    return events_key.split(":events:", 1)[1]


def task_member(function: str, task_id: str) -> str:
    """A task's name inside the queue's sets: unique per function, as FC's task ids are."""
    return f"{function}/{task_id}"


def split_member(member: str) -> tuple[str, str]:
    function, _, task_id = member.partition("/")
    return function, task_id


@dataclass(frozen=True)
class ShardKeys:
    shard: int

    @property
    def tag(self) -> str:
        return f"{PREFIX}:{{s{self.shard}}}"

    @property
    def task_prefix(self) -> str:
        return f"{self.tag}:task:"

    @property
    def events_prefix(self) -> str:
        return f"{self.tag}:events:"

    @property
    def due_prefix(self) -> str:
        return f"{self.tag}:due:"

    @property
    def retrying_prefix(self) -> str:
        """Per function, its due tasks waiting out a retry's backoff (a subset of its due set, for metrics)."""
        return f"{self.tag}:retrying:"

    @property
    def due_index(self) -> str:
        """Functions with due entries, scored by each one's earliest due time (ms)."""
        return f"{self.tag}:due-functions"

    @property
    def deliveries(self) -> str:
        """Finished tasks whose record is owed to a destination, scored by when to try (ms)."""
        return f"{self.tag}:deliveries"

    @property
    def inflight(self) -> str:
        """Claimed tasks, scored by their lease deadline (ms)."""
        return f"{self.tag}:inflight"

    def task(self, member: str) -> str:
        return self.task_prefix + member

    def events(self, member: str) -> str:
        return self.events_prefix + member

    def due(self, function: str) -> str:
        return self.due_prefix + function

    def retrying(self, function: str) -> str:
        return self.retrying_prefix + function

    def listing(self, function: str) -> str:
        """A function's task-mode tasks by startedTime, for GetAsyncTask listings."""
        return f"{self.tag}:tasks-of:{function}"


def shard_of(member: str, shards: int) -> ShardKeys:
    return ShardKeys(zlib.crc32(member.encode()) % shards)
