"""A read-only look at one function's queue, for the console: what is due, deferred, retrying and in flight."""
from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from emulator.redis_io.keys import ShardKeys, split_member

# Per list; the console shows the earliest ones, the counts say how many there are in all.
VIEW_LIMIT = 200


@dataclass(frozen=True)
class QueuedTask:
    task_id: str
    status: str
    # When it is due (queued, on the advanced clock: see clock_offset.py) or when its lease ends (in flight, on
    # Redis's clock), in ms.
    at_ms: int
    retried: int
    task_mode: bool
    instance_id: str


@dataclass(frozen=True)
class QueueSnapshot:
    # Redis's time, plus the clock's offset (`fcemu clock advance`): what due times are judged against.
    now_ms: int
    offset_ms: int
    # Due now, not yet claimed.
    due: list[QueuedTask]
    # Due later: delayed (x-fc-async-delay) or waiting for their retry backoff (status Retrying).
    deferred: list[QueuedTask]
    inflight: list[QueuedTask]
    counts: dict[str, int]


async def read_queue(redis: Redis, shards: list[ShardKeys], function: str, offset_ms: int = 0,
                     limit: int = VIEW_LIMIT) -> QueueSnapshot:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.execute_command("TIME")  # a cluster pipeline refuses pipe.time()
        for shard in shards:
            pipe.zrange(shard.due(function), 0, limit - 1, withscores=True)
            pipe.zcard(shard.due(function))
            pipe.zrange(shard.inflight, 0, -1, withscores=True)
        (seconds, micros), *replies = await pipe.execute()
    now_ms = seconds * 1000 + micros // 1000 + offset_ms
    queued: list[tuple[ShardKeys, str, int]] = []
    flying: list[tuple[ShardKeys, str, int]] = []
    total_queued = 0
    for index, shard in enumerate(shards):
        due_rows, due_count, inflight_rows = replies[index * 3:index * 3 + 3]
        total_queued += int(due_count)
        queued += [(shard, member.decode(), int(score)) for member, score in due_rows]
        # The in-flight set is shared by every function of a shard.
        flying += [(shard, member.decode(), int(score)) for member, score in inflight_rows
                   if split_member(member.decode())[0] == function]
    queued.sort(key=lambda row: row[2])
    flying.sort(key=lambda row: row[2])
    queued, flying = queued[:limit], flying[:limit]
    fields = ["status", "retried", "taskMode", "inst"]
    async with redis.pipeline(transaction=False) as pipe:
        for shard, member, _ in [*queued, *flying]:
            pipe.hmget(shard.task(member), fields)
        details = await pipe.execute()

    def view(row: tuple[ShardKeys, str, int], values: list[bytes | None]) -> QueuedTask:
        status, retried, task_mode, instance = (value.decode(errors="replace") if value else "" for value in values)
        return QueuedTask(split_member(row[1])[1], status, row[2], int(retried or 0), task_mode == "1", instance)

    queued_views = [view(row, values) for row, values in zip(queued, details)]
    flying_views = [view(row, values) for row, values in zip(flying, details[len(queued):])]
    due = [task for task in queued_views if task.at_ms <= now_ms]
    deferred = [task for task in queued_views if task.at_ms > now_ms]
    return QueueSnapshot(
        now_ms=now_ms, offset_ms=offset_ms, due=due, deferred=deferred, inflight=flying_views,
        counts={"queued": total_queued, "inflight": len(flying_views),
                "retrying": sum(1 for task in queued_views if task.status == "Retrying")},
    )
