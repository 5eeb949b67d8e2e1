"""Runs one claimed task on the pool and records how it ended; knows the fencing and retry rules."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from redis.exceptions import RedisError

from emulator.catalog.catalog import Catalog
from emulator.catalog.deployments import deployed_function_id
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.versions import LATEST, QualifierNotFound, Versions
from emulator.http_event import BadResponse, build_event, map_response, takes_http_event
from emulator.invoker import UNHANDLED, HttpRequest, InstanceSlot, InvocationResult, Invoker, platform_error
from emulator.metrics.counters import INVALID, THROTTLED, Metrics, outcome, task_kind
from emulator.pool.agent_connections import AnswerTooLarge
from emulator.pool.concurrency import Throttled
from emulator.pool.function_pool import PoolExhausted
from emulator.queue.models import ClaimedTask
from emulator.queue.store import Finished, TaskStore
from emulator.redis_io.health import is_outage, redis_health

log = logging.getLogger(__name__)

Written = TypeVar("Written")

MAX_BACKOFF_MS = 300_000
# How long a task waits that came to a dispatcher which has not loaded its function's current version yet.
NOT_LOADED_RETRY_MS = 1000


def throttled_detail(error: Throttled) -> str:
    """The detail of a throttled task's event."""
    return f"ResourceThrottled: {error}; it runs once an instance frees up, with no attempt counted"


@dataclass(frozen=True)
class RetryPolicy:
    base_delay_ms: int

    def backoff_ms(self, retried: int) -> int:
        """Exponential from the base: base, 2x, 4x... capped at five minutes."""
        doubling: int = 2**retried  # retries count from 0: a whole power of two (mypy reads int ** int as Any)
        return min(MAX_BACKOFF_MS, self.base_delay_ms * doubling)


class TaskRunner:
    def __init__(self, store: TaskStore, catalog: Catalog, invoker: Invoker, retry: RetryPolicy, *,
                 account_id: str, metrics: Metrics | None = None, versions: Versions | None = None) -> None:
        self._metrics = metrics or Metrics()
        # Resolves a task's qualifier (a version, an alias) to the version it runs; None serves LATEST only.
        self._versions = versions
        self._store = store
        self._catalog = catalog
        self._invoker = invoker
        self._retry = retry
        self._account_id = account_id  # for FC 3.0's HTTP event
        # Told the function whose task FC's limits refused (the dispatcher then holds its claims until a slot frees).
        self.on_throttled: Callable[[str], None] = lambda function: None

    async def run(self, task: ClaimedTask, slot: InstanceSlot, claim_next: int = 0) -> Finished | None:
        """Runs the task once and records the outcome, claiming up to `claim_next` due tasks of the same
        function for the slot it frees; None when another dispatcher took the task over.

        A task comes either with an empty slot (it is marked Running once an instance is acquired) or with the
        warm instance of the slot's previous task, on which the finish of that task already marked it Running.
        The slot keeps its instance only when the next task was claimed onto it.
        """
        kind = task_kind(task.kind)
        self._metrics.late(task.function, task.claimed_ms - task.due_ms)
        definition = self._catalog.get(task.function)
        if definition is None or (task.version and task.version != definition.identity):
            await self._invoker.release(slot)
            self._metrics.invoked(task.function, kind, INVALID)
            return await self._refuse(task, definition)
        versioned = await self._versioned(task, definition, slot)
        if isinstance(versioned, str):
            self._metrics.invoked(task.function, kind, INVALID)
            return await self._store.finish(task, outcome="invalid", error_message=versioned)
        definition = versioned

        async def mark_running(instance_id: str) -> bool:
            verdict = await self._surviving_outage(lambda: self._store.start(task, instance_id))
            if verdict == 0:
                log.info("task %s was taken over by another dispatcher; not running it", task.member)
            return verdict == 1

        payload, http, as_event = self._prepared(task, definition)
        try:
            result = await self._invoker.invoke(
                definition, payload, task.request_id, retry_count=task.retried, before_run=mark_running,
                http=None if as_event else http, slot=slot, task_id=task.task_id,
                qualifier="" if task.qualifier in ("", LATEST) else task.qualifier,
            )
        except (PoolExhausted, Throttled) as error:
            await self._requeue_refused(task, kind, error)
            return None
        if result is None:
            # Declined before running: stale (finish refuses it) or stop requested (finish records Stopped).
            return await self._store.finish(task, outcome="error", error_message="stopped before it ran")
        # Against the catalog as it is now: a function reloaded during the run must not get its next task
        # on an instance of the old code.
        current = self._catalog.get(task.function)
        run_on = (slot.instance.instance_id if claim_next and slot.instance and current is not None
                  and slot.serves(current) else "")
        if not run_on:
            await self._invoker.release(slot)
        finished = await self._record(task, result, http is not None, as_event, claim_next, run_on)
        if run_on and (finished is None or not finished.next_tasks):
            await self._invoker.release(slot)
        return finished

    def _prepared(self, task: ClaimedTask, definition: FunctionDefinition) -> tuple[bytes, HttpRequest | None, bool]:
        """What the function is sent: the payload, the HTTP request of an HTTP task, and whether that request goes
        as FC 3.0's HTTP event (decided now, by the function as it is: an FC 3.0 built-in runtime gets the event)."""
        http = HttpRequest.from_payload(task.payload) if task.kind == "http" else None
        if http is not None and takes_http_event(definition.manifest):
            return build_event(http, task.request_id, self._account_id), http, True
        return task.payload, http, False

    async def _requeue_refused(self, task: ClaimedTask, kind: str, error: PoolExhausted | Throttled) -> None:
        """A task no instance could take: back to its queue, due, with no attempt counted."""
        self._metrics.invoked(task.function, kind, THROTTLED)
        if isinstance(error, Throttled):
            # FC retries a throttled task without counting an attempt; here it waits, due, for a slot to free up.
            self.on_throttled(task.function)  # before the requeue's wake, or it would be claimed straight back
            await self._store.requeue(task, throttled_detail(error))
        else:
            await self._store.requeue(task, "requeued: no instance of the function was free")

    async def _versioned(self, task: ClaimedTask, definition: FunctionDefinition, slot: InstanceSlot
                         ) -> FunctionDefinition | str:
        """The definition a task runs: LATEST's, or its qualifier's version (an alias's drawn now, and recorded on
        the task); why not, when the version or alias is gone. A version runs on instances of its own: a slot
        holding one of LATEST's (claimed onto it) gives it back, and the task is marked Running again where it
        runs."""
        if self._versions is None or task.qualifier in ("", LATEST):
            return definition
        await self._invoker.release(slot)
        try:
            resolved = await self._versions.resolve(definition, task.qualifier)
        except QualifierNotFound as error:
            return str(error)
        await self._store.record_version(task, resolved.version_id)
        return resolved.definition

    async def _record(
        self, task: ClaimedTask, result: InvocationResult, is_http: bool, as_event: bool, claim_next: int,
        run_on: str,
    ) -> Finished | None:
        if as_event and result.succeeded:
            # The event's return value, mapped to the answer FC would have sent, is what gets recorded.
            try:
                answer = map_response(result.body)
            except BadResponse as error:
                message = f"BadResponse: the function's return value is not a valid HTTP response: {error}"
                return await self._store.finish(
                    task, outcome="error", return_payload=result.body, error_message=message,
                    backoff_ms=self._retry.backoff_ms(task.retried), claim_next=claim_next, run_on=run_on,
                )
            result = replace(result, status=answer.status, headers=answer.headers, body=answer.body)
        if is_http and result.succeeded:
            # An HTTP function's answer is recorded whole; a 5xx from it counts as a failure to retry.
            payload = result.http_response_record()
            failure = f"the function answered {result.status}" if result.status >= 500 else ""
            if len(payload) > self._invoker.answer_limit:
                # A binary body is recorded in base64, a third larger: the record must fit the limit too.
                failure = str(AnswerTooLarge(self._invoker.answer_limit))
                payload = platform_error(failure)
                result = replace(result, error_type=UNHANDLED)
        else:
            payload, failure = result.body, "" if result.succeeded else result.error_message
        failed = not result.succeeded or bool(failure)
        self._metrics.invoked(task.function, task_kind(task.kind), outcome(not failed, result.timed_out),
                              result.duration_ms / 1000)
        return await self._surviving_outage(lambda: self._store.finish(
            task, outcome="error" if failed else "ok", return_payload=payload, error_message=failure,
            backoff_ms=self._retry.backoff_ms(task.retried) if failed else 0, claim_next=claim_next, run_on=run_on,
        ))

    async def _surviving_outage(self, write: Callable[[], Awaitable[Written]]) -> Written:
        """A write of a task's state that meets a Redis outage is made again once Redis is back: meanwhile the
        task stays in its slot and its lease is extended again on recovery, so a task that ran is recorded
        instead of being reaped and run a second time (unless the outage outlasted its lease). Scripts are
        fenced by the attempt, so a write that did land before the connection broke is refused, not doubled."""
        health = redis_health(self._store.redis)
        while True:
            try:
                return await write()
            except RedisError as error:
                current = asyncio.current_task()
                if not is_outage(error) or (current is not None and current.cancelling()):
                    raise
                health.failed(error, "the dispatcher")
                await health.wait_until_back()

    async def _refuse(self, task: ClaimedTask, definition: FunctionDefinition | None) -> Finished | None:
        """A task for a function this process does not have as it was accepted: the function was deleted
        (perhaps another took its name), or this process has not seen a change yet. Redis says which."""
        if definition is not None:
            deployed_id = await deployed_function_id(self._store.redis, task.function)
            if task.version == (deployed_id or f"functions/{task.function}"):
                log.info("task %s is for a newer version of %s than this process has; giving it back",
                         task.member, task.function)
                # Not at once: this dispatcher would claim it straight back until its catalog catches up.
                await self._store.requeue(task, "requeued: its dispatcher had not loaded this function yet",
                                          delay_ms=NOT_LOADED_RETRY_MS)
                return None
            message = f"function '{task.function}' was deleted; the function now named so is another one"
        else:
            message = f"function '{task.function}' does not exist"
        return await self._store.finish(task, outcome="invalid", error_message=message)

    def reserve(self, definition: FunctionDefinition, count: int) -> list[InstanceSlot]:
        return self._invoker.reserve(definition, count)

    async def release(self, slot: InstanceSlot) -> None:
        await self._invoker.release(slot)

    async def stopped(self, task: ClaimedTask) -> Finished | None:
        """Records a task whose run was cancelled by a stop request (the stop flag makes it Stopped)."""
        return await self._store.finish(task, outcome="error", error_message="stopped by request")
