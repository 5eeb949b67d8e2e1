"""The task store: every change of a task's state is one Lua script call; reads are plain commands."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from redis.asyncio import Redis

from emulator.queue.clock_offset import ClockOffset
from emulator.queue.listing import Cursor, ListFilter, list_tasks
from emulator.queue.models import ClaimBatch, ClaimedTask, TaskRecord
from emulator.queue.scripts import QueueScripts
from emulator.queue.upcoming import UpcomingTasks
from emulator.redis_io.keys import STOP_CHANNEL, WAKE_CHANNEL, ShardKeys, shard_of, split_member, task_member
from emulator.redis_io.replies import zrange_members

REAP_BATCH = 500
# The longest a task can stay unfinished: FC's largest maxAsyncEventAgeInSeconds (7 days) plus its largest
# function timeout (1 day) for the last run. Its record is kept for the retention period after it ends, so a
# listing entry older than both can point at no record any more.
MAX_UNFINISHED_MS = (604_800 + 86_400) * 1000


class StopOutcome(str, enum.Enum):
    STOPPED = "Stopped"
    STOPPING = "Stopping"
    NOT_FOUND = "NotFound"
    COMPLETED = "Completed"


@dataclass(frozen=True)
class Enqueued:
    created: bool
    now_ms: int = 0
    due_ms: int = 0


@dataclass(frozen=True)
class DeliveryBatch:
    redis_now_ms: int
    next_due_ms: int | None
    # (task member, delivery attempt: the fencing token of delivery_done)
    claimed: list[tuple[str, int]]


@dataclass(frozen=True)
class FunctionDepth:
    """One function's queue, summed over the shards (see lua/depth.lua)."""

    due: int = 0  # first attempts due now
    deferred: int = 0  # first attempts due later
    retrying: int = 0  # waiting out a retry's backoff, or due again after it
    in_flight: int = 0  # claimed by a dispatcher (dequeued or running)
    oldest_due_age_ms: int = 0  # how long the earliest due task has waited past its due time; 0 if none is due


@dataclass(frozen=True)
class Finished:
    status: str
    # Claimed for the slot the finished task freed (same function), when the caller asked for it.
    next_tasks: list[ClaimedTask]
    expired: list[str]
    redis_now_ms: int


def _claimed(function: str, rows: list[list[bytes]], now_ms: int) -> list[ClaimedTask]:
    return [
        ClaimedTask(
            member=member.decode(), function=function, task_id=task_id.decode(), attempt=int(attempt),
            retried=int(retried), request_id=request_id.decode(), payload=payload, kind=kind.decode(),
            version=version.decode(), due_ms=int(float(due)), claimed_ms=now_ms, qualifier=b"".join(rest).decode(),
        )
        for member, attempt, retried, request_id, payload, task_id, kind, version, due, *rest in rows
    ]


class TaskReads:
    """A task's record and a function's listing, read on the client it is given: the store's own reads go through
    the queue's pool, the API's through a pool of its own (Core.task_reads), so that a burst of readers waits
    there. Plain commands and pipelines only, which a cluster client routes by key like any other."""

    def __init__(self, redis: Redis, shards: list[ShardKeys]) -> None:
        self.redis = redis
        self.shards = shards

    async def get(self, function: str, task_id: str) -> TaskRecord | None:
        member = task_member(function, task_id)
        keys = shard_of(member, len(self.shards))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.task(member))
            pipe.lrange(keys.events(member), 0, -1)
            fields, events = await pipe.execute()
        if not fields:
            return None
        return TaskRecord.from_redis(fields, events)

    async def list(self, function: str, query: ListFilter) -> tuple[list[TaskRecord], Cursor | None]:
        """A function's task-mode tasks by startedTime, filtered, a page; returns it and the next page's cursor."""
        return await list_tasks(self.redis, self.shards, function, query)


class TaskStore:
    def __init__(self, redis: Redis, *, shards: int, lease_ms: int, retention_s: int, max_lost_leases: int) -> None:
        self.redis = redis
        self._scripts = QueueScripts(redis)
        self.shards = [ShardKeys(index) for index in range(shards)]
        self._lease_ms = lease_ms
        self._retention_s = retention_s
        self._max_lost_leases = max_lost_leases
        # Passed into every script that reads the time (see clock_offset.py).
        self.clock = ClockOffset(redis)
        self.upcoming = UpcomingTasks()
        self._reads = TaskReads(redis, self.shards)

    def reads_on(self, redis: Redis) -> TaskReads:
        """The store's reads on another client (of the same Redis)."""
        return TaskReads(redis, self.shards)

    def _shard(self, member: str) -> ShardKeys:
        return shard_of(member, len(self.shards))

    def note_due(self, member: str) -> None:
        """A wake named this task (its function's earliest due one now): a candidate for the next claim."""
        function, _ = split_member(member)
        self.upcoming.announce(self._shard(member).shard, function, member)

    @staticmethod
    def _task_keys(shard: ShardKeys, members: list[str]) -> list[str]:
        """The {task, events} key pairs the scripts take for their candidates."""
        return [key for member in members for key in (shard.task(member), shard.events(member))]

    async def _candidates(self, shard: ShardKeys, function: str, count: int) -> list[str]:
        members = self.upcoming.get(shard.shard, function)
        if members is None:
            # Not seen yet by this process: read once; from then on each claim's reply keeps the list.
            members = [m.decode() for m in zrange_members(await self.redis.zrange(shard.due(function), 0, count - 1))]
        return members

    async def enqueue(
        self, *, function: str, task_id: str, request_id: str, payload: bytes, delay_ms: int, max_retry: int,
        max_age_s: int, task_mode: bool, qualifier: str, on_success: str = "", on_failure: str = "", kind: str = "",
        version: str = "", note: str = "",
    ) -> Enqueued:
        """`version`: the identity of the function the task is for (see ClaimedTask.version); `note`: the
        detail of its first event."""
        member = task_member(function, task_id)
        keys = self._shard(member)
        reply = await self._scripts.enqueue(
            keys=[keys.task(member), keys.events(member), keys.due(function), keys.due_index, keys.listing(function)],
            args=[member, function, task_id, request_id, payload, delay_ms, max_retry, max_age_s * 1000,
                  "1" if task_mode else "0", qualifier, WAKE_CHANNEL, on_success, on_failure, kind, version,
                  self._retention_s * 1000 + MAX_UNFINISHED_MS, self.clock.ms, note],
        )
        if not reply[0]:
            return Enqueued(created=False)
        return Enqueued(created=True, now_ms=int(reply[1]), due_ms=int(reply[2]))

    async def due_index(self) -> tuple[int, list[tuple[int, str, int]]]:
        """Redis's time (ms) and, of every shard, the functions with due entries and the earliest due time of
        each, as (shard, function, due): one round trip, so that a dispatcher re-reads Redis's clock with every
        read of the index at no extra cost."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.execute_command("TIME")  # a cluster pipeline refuses pipe.time()
            for shard in self.shards:
                pipe.zrange(shard.due_index, 0, -1, withscores=True)
            (seconds, micros), *indexes = await pipe.execute()
        due = [(shard.shard, name.decode(), int(score))
               for shard, rows in zip(self.shards, indexes) for name, score in rows]
        return seconds * 1000 + micros // 1000, due

    async def depth(self) -> dict[str, FunctionDepth]:
        """Every function's queue depth, read in two round trips (the due index, then a read-only script per shard
        naming the keys it reads, pipelined): for a metrics scrape, at a cost bounded by the number of queued
        functions and of claimed tasks."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for shard in self.shards:
                pipe.zrange(shard.due_index, 0, -1)
            indexes = await pipe.execute()
        async with self.redis.pipeline(transaction=False) as pipe:
            for shard, names in zip(self.shards, indexes):
                functions = [name.decode() for name in names]
                keys = [key for function in functions for key in (shard.due(function), shard.retrying(function))]
                # EVAL, not EVALSHA: a pipeline cannot load a script on NOSCRIPT halfway through.
                pipe.execute_command("EVAL", self._scripts.depth.source, 1 + len(keys), shard.inflight, *keys,
                                     self.clock.ms, *functions)
            replies = await pipe.execute()
        found: dict[str, FunctionDepth] = {}
        for _, queued, in_flight in replies:
            for name, due, deferred, retrying, oldest in queued:
                seen = found.get(name.decode(), FunctionDepth())
                found[name.decode()] = FunctionDepth(
                    seen.due + int(due), seen.deferred + int(deferred), seen.retrying + int(retrying),
                    seen.in_flight, max(seen.oldest_due_age_ms, int(oldest)))
            for name, count in in_flight:
                seen = found.get(name.decode(), FunctionDepth())
                found[name.decode()] = FunctionDepth(seen.due, seen.deferred, seen.retrying,
                                                     seen.in_flight + int(count), seen.oldest_due_age_ms)
        return found

    async def claim(self, shard: ShardKeys, function: str, max_count: int, run_on: list[str] | None = None
                    ) -> ClaimBatch:
        """Up to `max_count` due tasks of a function; the first ones are marked Running on the instances named
        in `run_on` (held by the caller for them), the rest are Dequeued."""
        instances = run_on or []
        # As many as the next claim may take: a backlog is claimed a whole batch per call.
        upcoming_count = max(self.upcoming.limit, max_count)
        for _ in range(2):
            members = await self._candidates(shard, function, upcoming_count)
            now, next_due, claimed, expired, upcoming, more = await self._scripts.claim(
                keys=[shard.due(function), shard.due_index, shard.inflight, shard.retrying(function), shard.deliveries,
                      *self._task_keys(shard, members)],
                args=[function, max_count, self._lease_ms, self._retention_s, self.clock.ms, upcoming_count,
                      len(instances), *instances, *members],
            )
            self.upcoming.replace(shard.shard, function, [member.decode() for member in upcoming])
            if claimed or expired or not int(more):
                break
            # The candidates were stale (another dispatcher claimed them) while others are due: once more, with
            # the function's due set as the reply gave it.
        next_due_ms = int(next_due) if int(next_due) >= 0 else None
        return ClaimBatch(int(now), next_due_ms, _claimed(function, claimed, int(now)),
                          [member.decode() for member in expired])

    async def start(self, task: ClaimedTask, instance_id: str) -> int:
        """1: run it; 0: this dispatcher no longer holds it; -1: a stop was requested."""
        keys = self._shard(task.member)
        return int(await self._scripts.start(
            keys=[keys.task(task.member), keys.events(task.member), keys.inflight],
            args=[task.member, task.attempt, instance_id, self._lease_ms, self.clock.ms],
        ))

    async def record_version(self, task: ClaimedTask, version_id: str) -> bool:
        """Notes the version a task invoked with a version or an alias runs (GetAsyncTask's versionId)."""
        return bool(await self._scripts.record_version([self._shard(task.member).task(task.member)],
                                                       [task.attempt, version_id]))

    async def heartbeat(self, tasks: list[ClaimedTask], deadline_ms: int) -> None:
        """Pushes the lease deadline of running tasks forward (never backward, never re-adding a lost one)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for task in tasks:
                pipe.zadd(self._shard(task.member).inflight, {task.member: deadline_ms}, xx=True, gt=True)
            await pipe.execute()

    async def finish(
        self, task: ClaimedTask, *, outcome: str, return_payload: bytes = b"", error_message: str = "",
        backoff_ms: int = 0, claim_next: int = 0, run_on: str = "",
    ) -> Finished | None:
        """The task's new status, and up to `claim_next` due tasks of the same function claimed for the freed
        slot (already Running on instance `run_on` when one is given); None if this dispatcher no longer held
        the task (its result is dropped, nothing is claimed)."""
        keys = self._shard(task.member)
        members = (self.upcoming.get(keys.shard, task.function) or []) if claim_next else []
        reply = await self._scripts.finish(
            keys=[keys.task(task.member), keys.events(task.member), keys.inflight, keys.due(task.function),
                  keys.due_index, keys.retrying(task.function), keys.deliveries, *self._task_keys(keys, members)],
            args=[task.member, task.attempt, outcome, return_payload, error_message, backoff_ms, self._retention_s,
                  task.function, WAKE_CHANNEL, claim_next, self._lease_ms, run_on, self.clock.ms,
                  self.upcoming.limit, *members],
        )
        if not reply[0]:
            return None
        _, status, claimed, expired, now, upcoming, more = reply
        finished = Finished(status.decode(), _claimed(task.function, claimed, int(now)),
                            [m.decode() for m in expired], int(now))
        if claim_next:
            self.upcoming.replace(keys.shard, task.function, [member.decode() for member in upcoming])
            if not claimed and not expired and int(more):
                # Its candidates were stale or unknown while tasks are due: claimed for the slot as a claim does.
                batch = await self.claim(keys, task.function, claim_next, [run_on] if run_on else None)
                finished = Finished(finished.status, batch.claimed, batch.expired, batch.redis_now_ms)
        return finished

    async def requeue(self, task: ClaimedTask, why: str = "requeued: its dispatcher shut down", delay_ms: int = 0
                      ) -> bool:
        keys = self._shard(task.member)
        return bool(await self._scripts.requeue(
            keys=[keys.task(task.member), keys.events(task.member), keys.inflight, keys.due(task.function),
                  keys.due_index, keys.retrying(task.function), keys.deliveries],
            args=[task.member, task.attempt, task.function, WAKE_CHANNEL, self._retention_s, why, delay_ms,
                  self.clock.ms],
        ))

    async def _now_and_first(self, key: str, count: int) -> tuple[int, list[tuple[str, int]]]:
        """Redis's time (ms) and the first `count` members of a sorted set with their scores, in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.execute_command("TIME")  # a cluster pipeline refuses pipe.time()
            pipe.zrange(key, 0, count - 1, withscores=True)
            (seconds, micros), rows = await pipe.execute()
        return seconds * 1000 + micros // 1000, [(member.decode(), int(score)) for member, score in rows]

    async def reap(self, shard: ShardKeys) -> int:
        """Gives back the tasks whose lease expired: read first (the script must name their keys), checked again."""
        now, rows = await self._now_and_first(shard.inflight, REAP_BATCH)
        members = [member for member, deadline in rows if deadline <= now]
        if not members:
            return 0
        keys = []
        for member in members:
            function, _ = split_member(member)
            keys += [shard.task(member), shard.events(member), shard.due(function), shard.retrying(function)]
        return int(await self._scripts.reap(
            keys=[shard.inflight, shard.due_index, shard.deliveries, *keys],
            args=[self._retention_s, WAKE_CHANNEL, self._max_lost_leases, self.clock.ms, *members],
        ))

    async def delete_function(self, function: str) -> tuple[int, int]:
        """Ends a deleted function's tasks in every shard: queued ones end Invalid, claimed or running ones are
        stopped. Returns (ended, stopping)."""
        ended = stopping = 0
        self.upcoming.forget(function)
        for shard in self.shards:
            in_flight: list[str] | None = None
            while True:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.zrange(shard.due(function), 0, REAP_BATCH - 1)
                    pipe.zrange(shard.inflight, 0, -1)
                    due_rows, inflight_rows = await pipe.execute()
                queued = [member.decode() for member in due_rows]
                if in_flight is None:  # the claimed ones are stopped once; the queued ones, batch by batch
                    in_flight = [m.decode() for m in inflight_rows if split_member(m.decode())[0] == function]
                    batch = queued + in_flight
                else:
                    batch = queued
                reply = await self._scripts.delete_function(
                    keys=[shard.due(function), shard.due_index, shard.inflight, shard.retrying(function),
                          shard.deliveries, *self._task_keys(shard, batch)],
                    args=[function, self._retention_s, STOP_CHANNEL, f"function '{function}' was deleted",
                          self.clock.ms, len(queued), *batch],
                )
                ended += int(reply[0])
                stopping += int(reply[1])
                if len(queued) < REAP_BATCH:
                    break
        return ended, stopping

    async def expire_orphans(self, shard: ShardKeys, function: str) -> int:
        """Expires the due tasks of a function this process cannot run that are older than their max age."""
        members = [m.decode() for m in zrange_members(await self.redis.zrange(shard.due(function), 0, REAP_BATCH - 1))]
        return int(await self._scripts.expire_orphans(
            keys=[shard.due(function), shard.due_index, shard.retrying(function), shard.deliveries,
                  *self._task_keys(shard, members)],
            args=[function, self._retention_s, self.clock.ms, *members],
        ))

    async def claim_deliveries(self, shard: ShardKeys, max_count: int, lease_ms: int) -> DeliveryBatch:
        redis_now, rows = await self._now_and_first(shard.deliveries, max_count)
        members = [member for member, at in rows if at <= redis_now]
        if not members:
            return DeliveryBatch(redis_now, rows[0][1] if rows else None, [])
        now, first, claimed = await self._scripts.claim_deliveries(
            keys=[shard.deliveries, *(shard.task(member) for member in members)],
            args=[max_count, lease_ms, *members],
        )
        return DeliveryBatch(
            redis_now_ms=int(now),
            next_due_ms=int(first) if int(first) >= 0 else None,
            claimed=[(member.decode(), int(attempt)) for member, attempt in claimed],
        )

    async def delivery_done(
        self, member: str, attempt: int, outcome: str, detail: str, backoff_ms: int = 0
    ) -> bool:
        """outcome: "ok" (delivered), "retry" (try again after backoff_ms) or "fail" (given up)."""
        keys = self._shard(member)
        return bool(await self._scripts.delivery_done(
            keys=[keys.deliveries, keys.task(member), keys.events(member)],
            args=[member, attempt, outcome, detail, backoff_ms, self.clock.ms],
        ))

    async def get_member(self, member: str) -> TaskRecord | None:
        function, task_id = split_member(member)
        return await self.get(function, task_id)

    async def stop(self, function: str, task_id: str) -> StopOutcome:
        member = task_member(function, task_id)
        keys = self._shard(member)
        reply = await self._scripts.stop(
            keys=[keys.task(member), keys.events(member), keys.due(function), keys.due_index, keys.retrying(function),
                  keys.deliveries],
            args=[member, function, self._retention_s, STOP_CHANNEL, self.clock.ms],
        )
        return StopOutcome(reply.decode())

    async def run_now(self, function: str, task_id: str) -> str:
        """Makes a waiting task (deferred, or in a retry's backoff) due now. 'Scheduled', 'NotFound', or the
        status of a task that is not waiting."""
        member = task_member(function, task_id)
        keys = self._shard(member)
        reply = await self._scripts.run_now(
            keys=[keys.task(member), keys.events(member), keys.due(function), keys.due_index, keys.retrying(function)],
            args=[member, function, WAKE_CHANNEL, self.clock.ms],
        )
        return str(reply.decode())

    async def get(self, function: str, task_id: str) -> TaskRecord | None:
        return await self._reads.get(function, task_id)

    async def list(self, function: str, query: ListFilter) -> tuple[list[TaskRecord], Cursor | None]:
        """A function's task-mode tasks by startedTime, filtered, a page; returns it and the next page's cursor."""
        return await self._reads.list(function, query)
