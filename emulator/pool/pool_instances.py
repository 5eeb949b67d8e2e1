"""What one function's pool holds: its instances (starting, warm, draining), its limits and kept minimum, and how an
instance leaves (reclaimed when idle, retired, drained, aborted). FunctionPool (function_pool.py) decides, on top of
this, which instance serves an invoke."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from emulator.catalog.loader import FunctionDefinition
from emulator.pool.concurrency import FunctionLimit
from emulator.pool.instance import Instance, InstanceState
from emulator.pool.launcher import InstanceLauncher

log = logging.getLogger(__name__)


class PoolInstances:
    """One function's instances (of one version) and their counts, under one condition: the state FunctionPool decides
    on, and the ways an instance leaves."""

    def __init__(
        self,
        definition: FunctionDefinition,
        launcher: InstanceLauncher,
        headers: dict[str, str],
        *,
        limit: FunctionLimit,
        max_instances: int | None,
        min_instances: int,
        idle_timeout_s: float,
        on_cold_start: Callable[[], None] = lambda: None,
        on_started: Callable[[float], None] = lambda seconds: None,
        on_prestart_unused: Callable[[], None] = lambda: None,
        debugging: bool = False,
        disabled: bool = False,
    ) -> None:
        self.definition = definition
        # Its instance runs under a debugger (FCEMU_DEBUG): invokes have no timeout, a breakpoint may hold them.
        self.debugging = debugging
        # The x-fc-* headers that every request to this function's agent carries.
        self.headers = headers
        self._launcher = launcher
        # FC's limits and fcemu's default cap, shared with the function's other pools; and this pool's own cap
        # (one instance under a debugger), None for none.
        self._limit = limit
        limit.join(self)
        self._max_instances = max_instances
        self._min_instances = min_instances if max_instances is None else min(min_instances, max_instances)
        self._idle_timeout_s = idle_timeout_s
        self._instances: list[Instance] = []
        # Instances of an older definition, removed once their running invocations end.
        self._draining: list[Instance] = []
        self._drained = False
        # Invocation disabled (DisableFunctionInvocation): no invoke takes a slot, no instance starts.
        self._disabled = disabled
        self._starting = 0
        # Of those starting, the ones started ahead of a due time (prestart), and how many invokes wait for one
        # of them rather than starting an instance of their own.
        self._prestarting = 0
        self._awaiting_prestart = 0
        # Invokes waiting for a slot on an instance being started for another invoke (instanceConcurrency > 1),
        # and every invoke waiting at all (another pool's freed instance wakes them).
        self._awaiting_start = 0
        self._waiting = 0
        self._changed = asyncio.Condition()
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False
        self._on_cold_start = on_cold_start
        self._on_started = on_started
        self._on_prestart_unused = on_prestart_unused

    @property
    def capacity(self) -> int:
        """How many invokes of this function may run at once now (none while its invocation is disabled)."""
        if self._disabled:
            return 0
        capacity = self._limit.capacity(self.definition)
        if self._max_instances is None:
            return capacity
        return min(capacity, self._max_instances * self.definition.manifest.instanceConcurrency)

    @property
    def max_instances(self) -> int:
        """The most instances this pool may have now: the function's limit, or the pool's own cap if lower."""
        most, _ = self._limit.most(self.definition)
        return most if self._max_instances is None else min(most, self._max_instances)

    @property
    def instances(self) -> list[Instance]:
        return list(self._instances)

    @property
    def emptied(self) -> bool:
        """No instance left, running, draining or still being removed."""
        return not self._instances and not self._draining and not self._background and self._starting == 0

    def states(self) -> dict[str, int]:
        """How many of its instances are idle, busy (draining ones while busy) and starting now."""
        busy = sum(1 for instance in [*self._instances, *self._draining] if instance.active > 0)
        return {"idle": len(self._instances) + len(self._draining) - busy, "busy": busy, "starting": self._starting}

    def wake(self) -> None:
        """Another pool of the function freed an instance, or its limit changed: waiting invokes look again."""
        if self._waiting:
            self._spawn(self._notify_all())

    def _idle(self) -> list[Instance]:
        """Its idle instances that may go, beyond its minimum."""
        idle = [instance for instance in self._instances
                if instance.active == 0 and instance.state is InstanceState.READY]
        return idle[:max(0, len(self._instances) - self._min_instances)]

    def idle_count(self) -> int:
        return len(self._idle())

    def busy_count(self) -> int:
        return sum(1 for instance in [*self._instances, *self._draining] if instance.active > 0)

    def reclaim_idle(self) -> bool:
        """Removes one idle instance at once: another function needs the room under the account's limit, or another
        version of this one under the function's."""
        idle = self._idle()
        if not idle:
            return False
        log.info("removing idle instance %s of %s to make room under an instance limit (the account's or the function's)",
                 idle[0].instance_id, self.definition.name)
        self._retire(idle[0])
        return True

    async def _notify_all(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _launch(self) -> Instance:
        """Starts an instance already counted in the limit (`started()`); one that fails to start is not."""
        started = time.monotonic()
        try:
            instance = await self._launcher.launch(self.definition, self.headers)
        except BaseException:
            self._limit.gone()
            raise
        self._on_started(time.monotonic() - started)
        return instance

    def _retire(self, instance: Instance, *, graceful: bool = True) -> None:
        if instance.state is InstanceState.REMOVING:
            return
        self._limit.gone()
        if instance.prestarted and not instance.served:
            self._on_prestart_unused()
        if instance in self._draining:
            self._draining.remove(instance)
        instance.state = InstanceState.REMOVING
        if instance.idle_timer is not None:
            instance.idle_timer.cancel()
        if instance in self._instances:
            self._instances.remove(instance)
        if graceful:
            self._spawn(self._launcher.stop(instance, self.definition, self.headers))
        else:
            self._spawn(self._launcher.destroy(instance))

    def _reclaim_if_idle(self, instance: Instance) -> None:
        instance.idle_timer = None
        if instance.active == 0 and len(self._instances) > self._min_instances:
            log.info("reclaiming idle instance %s of %s", instance.instance_id, self.definition.name)
            self._retire(instance)
        elif instance.active == 0:
            log.info("keeping idle instance %s of %s: %d instance(s) are kept warm (pre-warmed or provisioned)",
                     instance.instance_id, self.definition.name, self._min_instances)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _room(self) -> int:
        """How many more instances this pool may start now."""
        room = self._limit.room(self.definition)
        if self._max_instances is not None:
            room = min(room, self._max_instances - len(self._instances) - self._starting)
        return room

    async def retire_all(self) -> None:
        """Removes every instance at once, running or not: for shutdown."""
        async with self._changed:
            self._closed = True
            for instance in [*self._instances, *self._draining]:
                self._retire(instance)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def drain(self) -> None:
        """Retires every instance once it is idle, for a function whose code or manifest changed: idle ones go
        now, busy ones finish their invocations first. The pool serves no new invoke after this."""
        async with self._changed:
            for instance in list(self._instances):
                if instance.active == 0:
                    self._retire(instance)
                else:
                    instance.state = InstanceState.DRAINING
                    self._instances.remove(instance)
                    self._draining.append(instance)
            self._drained = True

    @property
    def minimum(self) -> int:
        """How many instances are kept however idle (pre-warmed, provisioned)."""
        return self._min_instances

    async def set_minimum(self, count: int) -> None:
        """Keeps `count` instances (up to the pool's maximum) however idle; idle ones beyond it go now. Call
        prewarm() to start what is missing."""
        async with self._changed:
            self._min_instances = min(count, self.max_instances)
            for instance in [i for i in self._instances if i.active == 0][:max(0, len(self._instances) - count)]:
                self._retire(instance)

    async def set_disabled(self, disabled: bool) -> None:
        """Invocation disabled: no invoke takes a slot and no instance starts until it is enabled again."""
        async with self._changed:
            self._disabled = disabled
            self._changed.notify_all()

    async def abort(self, reason: str) -> int:
        """Removes every instance now, busy ones included (their invocations end as failed with `reason`), as FC's
        abortOngoingRequest does. Returns how many there were."""
        async with self._changed:
            instances = [*self._instances, *self._draining]
            for instance in instances:
                instance.abort_reason = reason
                self._retire(instance, graceful=False)
            self._changed.notify_all()
        return len(instances)
