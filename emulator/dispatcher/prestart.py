"""Starts a function's instance ahead of its next due time (a deferred task, a retry, a timer's firing) when it
has no free warm one, early enough by its measured start time that the task finds the instance warm.

It plans from what the dispatcher already reads (the due index: each function's earliest due time) and from the
timers' next firings, and wakes exactly at each start time (one loop timer per function), never polling. A
pre-started instance is an ordinary idle instance of the pool: if nothing uses it (the task was stopped, or ran
on another instance), idle reclaim removes it as any other."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from redis.exceptions import RedisError

from emulator.catalog.catalog import Catalog
from emulator.metrics.counters import Metrics
from emulator.pool.pools import Pools
from emulator.queue.redis_clock import RedisClock
from emulator.queue.store import TaskStore
from emulator.redis_io.health import describe

log = logging.getLogger(__name__)

# Tasks of one function due this close after its earliest one run side by side: each needs its own slot.
BATCH_WINDOW_MS = 50


@dataclass
class _Plan:
    due_ms: int  # on the advanced clock
    offset_ms: int  # `fcemu clock advance`'s offset it was planned with
    handle: asyncio.TimerHandle


class Prestarter:
    def __init__(self, store: TaskStore, catalog: Catalog, pools: Pools, clock: RedisClock, metrics: Metrics, *,
                 margin_ms: int) -> None:
        self._store = store
        self._catalog = catalog
        self._pools = pools
        self._clock = clock
        self._metrics = metrics
        self._margin_s = margin_ms / 1000
        # Per function, its earliest due time and its shard (from the due index), and its next timer firing.
        self._queued: dict[str, tuple[int, int]] = {}
        self._timed: dict[str, int] = {}
        self._planned: dict[str, _Plan] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._failed = False  # logged once until planning works again
        self._closed = False

    def due_index(self, due: Mapping[tuple[int, str], int]) -> None:
        """The dispatcher's copy of the due index, (shard, function) -> earliest due time, as it now stands."""
        queued: dict[str, tuple[int, int]] = {}
        for (shard, function), at in due.items():
            if function not in queued or at < queued[function][0]:
                queued[function] = (at, shard)
        if queued != self._queued or self._offset_changed():
            self._queued = queued
            self._replan_safely()

    def timers(self, upcoming: Mapping[str, int]) -> None:
        """Each function's next timer firing (ms on the advanced clock), as the timer scheduler planned it."""
        if dict(upcoming) != self._timed or self._offset_changed():
            self._timed = dict(upcoming)
            self._replan_safely()

    def close(self) -> None:
        self._closed = True
        for plan in self._planned.values():
            plan.handle.cancel()
        self._planned.clear()
        for task in self._running:
            task.cancel()

    def _offset_changed(self) -> bool:
        return any(plan.offset_ms != self._store.clock.ms for plan in self._planned.values())

    def _replan_safely(self) -> None:
        # Called from the dispatch and timer loops: a fault here must cost a pre-start, never a claim or a firing.
        try:
            self._replan()
        except Exception:
            if not self._failed:
                log.exception("planning pre-starts failed; tasks run from cold meanwhile")
            self._failed = True
        else:
            self._failed = False

    def _replan(self) -> None:
        if self._closed:
            return  # the loops may still report a plan while shutting down
        targets: dict[str, tuple[int, int | None]] = {function: entry for function, entry in self._queued.items()}
        for function, at in self._timed.items():
            if function not in targets or at < targets[function][0]:
                targets[function] = (at, None)
        for function in [name for name in self._planned if name not in targets]:
            self._planned.pop(function).handle.cancel()
        now_ms, offset_ms = self._clock.virtual_now_ms(), self._store.clock.ms
        loop = asyncio.get_running_loop()
        for function, (at, shard) in targets.items():
            plan = self._planned.get(function)
            if plan is not None and plan.due_ms == at and plan.offset_ms == offset_ms:
                continue  # planned already (or started already): the same due time needs nothing more
            if plan is not None:
                plan.handle.cancel()
                del self._planned[function]
            if at <= now_ms:
                continue  # due now: the claim starts what it needs
            lead_s = self._pools.start_times.expected(function) + self._margin_s
            delay_s = max(0.0, self._clock.seconds_until_virtual(at) - lead_s)
            self._planned[function] = _Plan(at, offset_ms, loop.call_later(delay_s, self._fire, function, at, shard))

    def _fire(self, function: str, due_ms: int, shard: int | None) -> None:
        if self._closed:
            return
        task = asyncio.create_task(self._prestart(function, due_ms, shard), name=f"prestart {function}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _prestart(self, function: str, due_ms: int, shard: int | None) -> None:
        # One function's failure (Redis, Docker) is logged and skipped: its task still runs, from cold.
        try:
            definition = self._catalog.get(function)
            if definition is None:
                return  # another dispatcher's function
            pool = self._pools.for_function(definition)
            if pool.debugging:
                return  # its one instance is kept warm already
            slots = 1
            if shard is not None:
                # Over every shard: tasks due together may lie in several (FCEMU_QUEUE_SHARDS on a cluster).
                async with self._store.redis.pipeline(transaction=False) as pipe:
                    for keys in self._store.shards:
                        pipe.zcount(keys.due(function), due_ms, due_ms + BATCH_WINDOW_MS)
                    slots = sum(int(count) for count in await pipe.execute())
            slots = max(1, min(slots, pool.capacity))
            started = await pool.prestart(slots, self._clock.seconds_until_virtual(due_ms))
        except RedisError as error:
            log.warning("could not pre-start an instance of %s: Redis failed (%s)", function, describe(error))
            return
        except Exception:
            log.exception("could not pre-start an instance of %s", function)
            return
        if started:
            self._metrics.prestart(function, started)
            log.info("pre-started %d instance(s) of %s for its task(s) due in %.0f ms", started, function,
                     self._clock.seconds_until_virtual(due_ms) * 1000)
