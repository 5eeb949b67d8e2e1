"""Delivers finished tasks' records to their destinations, at least once, with retries and backoff.

Deliveries wait in Redis (a sorted set per shard, scored by when to try); a claim hides one for a lease, so a
dispatcher that dies mid-delivery leaves it to another. A delivery never touches the invocation itself: its
outcome is only the task's destinationStatus and events.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from redis.exceptions import RedisError

from emulator.arns import qualified_name
from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.destinations.local_queues import MESSAGE_LIMIT_BYTES, LocalQueues
from emulator.destinations.record import destination_record
from emulator.destinations.targets import (
    FunctionTarget,
    HttpTarget,
    QueueTarget,
    Target,
    Unsupported,
    function_task_id,
    parse_destination,
    target_type,
)
from emulator.metrics.counters import Metrics
from emulator.queue.models import TaskRecord
from emulator.queue.redis_clock import RedisClock
from emulator.queue.store import TaskStore
from emulator.queue.submit import submit_invocation
from emulator.redis_io.health import describe, is_outage, redis_health
from emulator.redis_io.resilience import wait_for_event

log = logging.getLogger(__name__)

FUNCTION_RECORD_LIMIT_BYTES = 128 * 1024  # FC's limit for a function destination's event
CLAIM_BATCH = 50
MAX_BACKOFF_MS = 300_000


class DeliveryFailed(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int
    base_delay_ms: int
    lease_ms: int
    http_timeout_s: float

    def backoff_ms(self, attempt: int) -> int:
        doubling: int = 2 ** (attempt - 1)  # attempts count from 1: a whole power of two (mypy reads int ** int as Any)
        return min(MAX_BACKOFF_MS, self.base_delay_ms * doubling)


class Deliverer:
    def __init__(
        self, store: TaskStore, catalog: Catalog, async_configs: AsyncConfigs, queues: LocalQueues,
        policy: DeliveryPolicy, *, function_arn_prefix: str, metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._store = store
        self._catalog = catalog
        self._async_configs = async_configs
        self._queues = queues
        self._policy = policy
        self._function_arn_prefix = function_arn_prefix
        self._clock = RedisClock()
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._closing = False

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        """Ends run() at its next turn (it is also cancelled; this is the way out if that cancel is lost)."""
        self._closing = True
        self._wake.set()

    async def run(self) -> None:
        """Claims due deliveries, then sleeps until the next one is due or a finish wakes it."""
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._policy.http_timeout_s))
        try:
            while not self._closing:
                self._wake.clear()
                earliest: int | None = None
                for shard in self._store.shards:
                    batch = await self._store.claim_deliveries(shard, CLAIM_BATCH, self._policy.lease_ms)
                    self._clock.observe(batch.redis_now_ms)
                    for member, attempt in batch.claimed:
                        delivery = asyncio.create_task(self._deliver_unless_redis_fails(member, attempt))
                        self._inflight.add(delivery)
                        delivery.add_done_callback(self._inflight.discard)
                    if batch.next_due_ms is not None:
                        earliest = batch.next_due_ms if earliest is None else min(earliest, batch.next_due_ms)
                await wait_for_event(self._wake, None if earliest is None else self._clock.seconds_until(earliest))
        finally:
            for delivery in list(self._inflight):
                delivery.cancel()
            await asyncio.gather(*self._inflight, return_exceptions=True)
            await self._http.close()

    async def _deliver_unless_redis_fails(self, member: str, attempt: int) -> None:
        """A Redis error leaves the delivery claimed: its lease runs out and it is tried again."""
        try:
            await self._deliver(member, attempt)
        except RedisError as error:
            if is_outage(error):
                redis_health(self._store.redis).failed(error, "the deliverer")
            else:
                log.warning("delivery of %s left for a retry: Redis refused it (%s)", member, describe(error))

    async def _deliver(self, member: str, attempt: int) -> None:
        task = await self._store.get_member(member)
        if task is None:
            return
        destination = task.on_success if task.status == "Succeeded" else task.on_failure
        target = parse_destination(destination)
        kind = "success" if task.status == "Succeeded" else "failure"
        try:
            detail = await self._send(target, task)
        except DeliveryFailed as error:
            if error.permanent or attempt >= self._policy.max_attempts:
                log.warning("destination %s of %s failed for good: %s", destination, member, error)
                await self._done(member, task, target, kind, attempt, "fail", f"{destination}: {error}")
            else:
                await self._done(member, task, target, kind, attempt, "retry", f"{destination}: {error}",
                                 self._policy.backoff_ms(attempt))
        except RedisError:
            raise  # Redis's failure, not the destination's
        except Exception as error:  # a bug must not drop the delivery: retry it like a failed one, as often
            log.exception("delivering %s to %s", member, destination)
            if attempt >= self._policy.max_attempts:
                await self._done(member, task, target, kind, attempt, "fail", f"{destination}: {error!r}")
            else:
                await self._done(member, task, target, kind, attempt, "retry", f"{destination}: {error!r}",
                                 self._policy.backoff_ms(attempt))
        else:
            await self._done(member, task, target, kind, attempt, "ok", detail)

    async def _done(self, member: str, task: TaskRecord, target: Target, kind: str, attempt: int, result: str,
                    detail: str, backoff_ms: int = 0) -> None:
        """Counts the attempt, then records its result: counted first, so that whoever sees the recorded
        event (a test, the console) sees the count too."""
        self._metrics.delivered(task.function, kind, target_type(target), result)
        await self._store.delivery_done(member, attempt, result, detail, backoff_ms)

    async def _send(self, target: Target, task: TaskRecord) -> str:
        record = destination_record(task, self._function_arn_prefix + qualified_name(task.function, task.qualifier))
        if isinstance(target, Unsupported):
            raise DeliveryFailed(target.reason, permanent=True)
        if isinstance(target, QueueTarget):
            if len(record) > MESSAGE_LIMIT_BYTES:
                raise DeliveryFailed(
                    f"record of {len(record)} bytes exceeds MNS's message limit of 64 KB ({MESSAGE_LIMIT_BYTES} bytes)",
                    permanent=True,
                )
            message_id = await self._queues.push(target.kind, target.name, record)
            return f"message {message_id} sent to {target.kind} {target.name}"
        if isinstance(target, HttpTarget):
            return await self._post(target.url, record)
        return await self._invoke(target, task, record)

    async def _post(self, url: str, record: bytes) -> str:
        assert self._http is not None
        try:
            async with self._http.post(url, data=record, headers={"Content-Type": "application/json"}) as reply:
                # Only the status counts: the endpoint's body is never read (its size is the endpoint's to choose),
                # so the connection is closed rather than kept.
                if 200 <= reply.status < 300:
                    return f"POST {url}: {reply.status}"
                raise DeliveryFailed(f"POST {url} answered {reply.status}", permanent=False)
        except aiohttp.InvalidURL as error:  # one the parser let through; no retry makes it valid
            raise DeliveryFailed(f"POST {url} failed: not a valid URL ({error})", permanent=True) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"POST {url} failed: {error or type(error).__name__}", permanent=False) from error

    async def _invoke(self, target: FunctionTarget, task: TaskRecord, record: bytes) -> str:
        if len(record) > FUNCTION_RECORD_LIMIT_BYTES:
            raise DeliveryFailed(
                f"record of {len(record)} bytes exceeds FC's limit of 128 KB ({FUNCTION_RECORD_LIMIT_BYTES} bytes) "
                "for a function destination's event", permanent=True,
            )
        definition = (
            self._catalog.get(target.function) if target.service is None
            else self._catalog.get_in_service(target.service, target.function)
        )
        if definition is None:
            raise DeliveryFailed(f"function '{target.function}' does not exist", permanent=False)
        # Through the ARN's qualifier, under its config; one the function lacks ends the task Invalid when it runs.
        qualifier = target.qualifier or "LATEST"
        policy = self._async_configs.task_policy(definition, qualifier)
        task_id = function_task_id(task.function, task.task_id)
        accepted = await submit_invocation(
            self._store, policy, task_id=task_id, request_id=task_id, payload=record, delay_ms=0,
            task_mode=policy.async_task, qualifier=qualifier,
        )
        state = "invoked" if accepted.created else "already invoked"
        return f"function {definition.name} {state} asynchronously as task {task_id}"
