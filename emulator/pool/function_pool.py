"""Decides which instance serves an invoke of one function: reuse a warm one, start one, or wait (what the pool
holds, and how an instance leaves it, is pool_instances.py)."""
from __future__ import annotations

import asyncio
import logging
import math

from emulator.pool.concurrency import Verdict
from emulator.pool.instance import Instance, InstanceState
from emulator.pool.pool_instances import PoolInstances

log = logging.getLogger(__name__)


class PoolExhausted(Exception):
    """No instance slot became free in time under fcemu's own cap (429 ResourceExhausted); FC's limits refuse at
    once instead (pool/concurrency.py's Throttled)."""


class FunctionPool(PoolInstances):
    """Decides which instance serves an invoke: a warm one with a free slot, a new one within the limits, or a wait
    for one; and starts instances ahead of time (pre-start, pre-warm)."""

    async def acquire(self, wait_timeout_s: float) -> Instance:
        """A slot on a ready instance; starts a new instance only when none is free and the cap allows."""
        try:
            async with asyncio.timeout(wait_timeout_s):
                return await self._acquire()
        except TimeoutError as error:
            raise PoolExhausted(
                f"function '{self.definition.name}' has no free instance ({self._limit.instances} instance(s) of "
                f"concurrency {self.definition.manifest.instanceConcurrency} busy)"
            ) from error

    async def _acquire(self) -> Instance:
        async with self._changed:
            while True:
                if self._disabled:
                    # Let in between the route's check and here: it waits for an enable (or its wait timeout).
                    await self._changed.wait()
                    continue
                instance = self._free_instance()
                if instance is not None and not self._limit.admits_warm(self.definition):
                    raise self._limit.error(self.definition)
                if instance is not None:
                    instance.take_slot()
                    return instance
                if self._prestarting > self._awaiting_prestart:
                    # An instance started ahead of this invoke's due time is nearer ready than a new one.
                    self._awaiting_prestart += 1
                    try:
                        await self._wait()
                    finally:
                        self._awaiting_prestart -= 1
                    continue
                verdict = self._verdict()
                if verdict is Verdict.START:
                    break
                if verdict is Verdict.THROTTLED:
                    if not self._spare_on_starting():
                        raise self._limit.error(self.definition)
                    self._awaiting_start += 1
                    try:
                        await self._wait()
                    finally:
                        self._awaiting_start -= 1
                    continue
                await self._wait()
            self._starting += 1
            self._limit.started()
        # Started outside the lock so that other invokes can take slots freed meanwhile.
        try:
            instance = await self._launch()
        finally:
            async with self._changed:
                self._starting -= 1
                self._changed.notify_all()
        self._on_cold_start()
        async with self._changed:
            instance.take_slot()
            if self._drained:
                # The function changed while this instance started: it serves this one invoke, then goes.
                instance.state = InstanceState.DRAINING
                self._draining.append(instance)
            else:
                self._instances.append(instance)
            return instance

    def _verdict(self) -> Verdict:
        if self._max_instances is not None and len(self._instances) + self._starting >= self._max_instances:
            return Verdict.WAIT
        return self._limit.verdict(self.definition, make_room=True)

    def _spare_on_starting(self) -> bool:
        """Whether an instance being started for another invoke will have a slot left for one more waiting."""
        spare = (self._starting - self._prestarting) * (self.definition.manifest.instanceConcurrency - 1)
        return spare > self._awaiting_start

    async def _wait(self) -> None:
        self._waiting += 1
        try:
            await self._changed.wait()
        finally:
            self._waiting -= 1

    async def prestart(self, slots: int, needed_in_s: float) -> int:
        """Makes sure `slots` invokes due in `needed_in_s` find a free slot on a warm instance: the idle ones are
        kept at least until then, and what is missing is started now, up to the instance limit. A started one
        joins the pool idle; unused, idle reclaim removes it `idle_timeout_s` after the due time. Returns how
        many were started."""
        loop = asyncio.get_running_loop()
        keep_until = loop.time() + needed_in_s
        concurrency = self.definition.manifest.instanceConcurrency
        async with self._changed:
            if self._drained or self._closed or self._disabled:
                return 0
            # Instances being pre-started count as free, less those an invoke already waits for.
            free = max(0, self._prestarting - self._awaiting_prestart) * concurrency
            for instance in self._instances:
                if not instance.has_free_slot:
                    continue
                free += instance.capacity - instance.active
                timer = instance.idle_timer
                if timer is not None and timer.when() < keep_until + self._idle_timeout_s:
                    timer.cancel()
                    instance.idle_timer = loop.call_at(keep_until + self._idle_timeout_s, self._reclaim_if_idle,
                                                       instance)
            missing = min(self._room(), math.ceil(max(0, slots - free) / concurrency))
            if missing <= 0:
                return 0
            self._starting += missing
            for _ in range(missing):
                self._limit.started()
            self._prestarting += missing
        results: list[Instance | BaseException] = []
        try:
            results = await asyncio.gather(*(self._launch() for _ in range(missing)), return_exceptions=True)
        finally:
            # In one step with the count: an invoke waiting for these must find them, not start its own.
            async with self._changed:
                self._starting -= missing
                self._prestarting -= missing
                self._adopt_prestarted(results, keep_until)
                self._changed.notify_all()
        return sum(1 for result in results if isinstance(result, Instance))

    def _adopt_prestarted(self, results: list[Instance | BaseException], keep_until: float) -> None:
        loop = asyncio.get_running_loop()
        for result in results:
            if not isinstance(result, Instance):
                log.warning("pre-starting an instance of %s failed: %s", self.definition.name, result)
                continue
            result.prestarted = True
            if self._drained or self._closed:
                self._limit.gone()
                self._spawn(self._launcher.stop(result, self.definition, self.headers))
                continue
            self._instances.append(result)
            result.idle_timer = loop.call_at(max(keep_until, loop.time()) + self._idle_timeout_s,
                                             self._reclaim_if_idle, result)

    def take_free(self, count: int) -> list[Instance]:
        """Up to `count` slots on warm instances that have room now, without waiting or starting any: for work
        that is cheaper to assign to an instance before it is claimed (the dispatcher's claims)."""
        taken: list[Instance] = []
        while len(taken) < count:
            instance = self._free_instance()
            if instance is None or not self._limit.admits_warm(self.definition):
                break
            instance.take_slot()
            taken.append(instance)
        return taken

    def _free_instance(self) -> Instance | None:
        # The busiest instance with room first, so that spare instances go idle and can be reclaimed.
        best: Instance | None = None
        for instance in self._instances:
            if instance.has_free_slot and (best is None or instance.active > best.active):
                best = instance
        return best

    async def release(self, instance: Instance) -> None:
        async with self._changed:
            instance.give_slot()
            if instance.active == 0 and instance.state is InstanceState.READY:
                instance.idle_timer = asyncio.get_running_loop().call_later(
                    self._idle_timeout_s, self._reclaim_if_idle, instance
                )
            elif instance.active == 0 and instance.state is InstanceState.DRAINING:
                self._retire(instance)
            self._changed.notify()
            self._limit.freed()

    async def discard(self, instance: Instance) -> None:
        """Takes a broken instance (timed out, crashed, stopped) out of service and removes its container, without
        its PreStop hook: its agent is gone, or still busy with the invocation that broke it."""
        async with self._changed:
            instance.give_slot()
            self._retire(instance, graceful=False)
            self._changed.notify_all()

    async def prewarm(self) -> None:
        """Starts instances up to the pool's minimum; they are never reclaimed for idleness."""
        async with self._changed:
            # Counted under the lock: two calls at once start what is missing once.
            missing = min(self._room(), self._min_instances - len(self._instances) - self._starting)
            if missing <= 0 or self._disabled or self._drained or self._closed:
                return
            self._starting += missing
            for _ in range(missing):
                self._limit.started()
        try:
            started = await asyncio.gather(
                *(self._launch() for _ in range(missing)),
                return_exceptions=True,
            )
        finally:
            async with self._changed:
                self._starting -= missing
                for result in started:
                    if isinstance(result, Instance) and (self._drained or self._closed):
                        # Drained (updated, disabled, deleted) or closed while it started: it goes again at once.
                        self._limit.gone()
                        self._spawn(self._launcher.stop(result, self.definition, self.headers))
                    elif isinstance(result, Instance):
                        self._instances.append(result)
                    else:
                        log.warning("pre-warming %s failed: %s", self.definition.name, result)
                self._changed.notify_all()
