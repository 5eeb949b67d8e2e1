"""Every function's pool, made on first use, and the shared parts they run on."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from emulator.catalog.loader import FunctionDefinition
from emulator.metrics.counters import Metrics
from emulator.pool import contract
from emulator.pool.concurrency import InstanceLimits
from emulator.pool.function_pool import FunctionPool
from emulator.pool.launcher import InstanceLauncher
from emulator.pool.start_times import StartTimes
from emulator.settings import Settings


class Pools:
    def __init__(self, launcher: InstanceLauncher, settings: Settings, metrics: Metrics | None = None,
                 limits: InstanceLimits | None = None) -> None:
        self._launcher = launcher
        # FC's limits (reserved concurrency, the account's), one per function across its pools.
        self.limits = limits or InstanceLimits(settings.account_instance_limit, settings.max_instances_per_function)
        self._metrics = metrics or Metrics()
        self._settings = settings
        # By function and version ("" for LATEST): a version's instances are its own, so updating LATEST drains
        # LATEST's only.
        self._pools: dict[tuple[str, str], FunctionPool] = {}
        # Pools of changed or removed functions whose instances are still finishing or being removed: shutdown
        # removes them too, and waits for the removals already under way (else it races them for the container).
        self._drained: set[FunctionPool] = set()
        self._background: set[asyncio.Task[None]] = set()
        # Kept by name, not per pool: a changed function's instances start about as fast as before.
        self.start_times = StartTimes()
        # Set by the invocation-control API (pool/invocation_controls.py), and taken by each new pool of a function:
        # the functions whose invocation is disabled, and how many instances each pool keeps warm (the provision
        # targets of the qualifiers naming its version), by function and version ("" for LATEST).
        self.disabled: set[str] = set()
        self.provisioned: dict[tuple[str, str], int] = {}

    def existing(self, name: str, version_id: str = "") -> FunctionPool | None:
        """The current pool of the function's LATEST (or of one of its versions), if one was made."""
        return self._pools.get((name, version_id))

    def of_function(self, name: str) -> list[tuple[str, FunctionPool]]:
        """The current pools of a function's LATEST and versions, with their version ids ("" for LATEST)."""
        return [(version_id, pool) for (function, version_id), pool in list(self._pools.items()) if function == name]

    def minimum(self, name: str, version_id: str = "") -> int:
        """How many instances of the function's LATEST (or of one of its versions) are kept however idle:
        pre-warmed, or provisioned."""
        # FCEMU_PREWARM_INSTANCES is LATEST's: a version invoked once keeps only what a provision config asks.
        prewarmed = 0 if version_id else self._settings.prewarm_instances
        return max(prewarmed, self.provisioned.get((name, version_id), 0))

    def set_provisioned(self, name: str, targets: dict[str, int]) -> dict[str, int]:
        """A function's provision targets by version id (those of 0 left out); returns the ones they replace."""
        previous = {version_id: self.provisioned.pop((function, version_id))
                    for function, version_id in list(self.provisioned) if function == name}
        self.provisioned.update({(name, version_id): target for version_id, target in targets.items() if target})
        return previous

    def prewarm_later(self, pool: FunctionPool) -> None:
        """Starts the pool's missing kept instances in the background (shutdown waits for it)."""
        self._spawn(pool.prewarm())

    def for_function(self, definition: FunctionDefinition) -> FunctionPool:
        pool = self._pools.get((definition.name, definition.version_id))
        if pool is None or pool.definition is not definition:
            pool = self._replace(definition)
        return pool

    def instance_states(self) -> dict[str, dict[str, int]]:
        """Per function, how many of its current instances (of every version) are idle, busy and starting (for the
        metrics)."""
        states: dict[str, dict[str, int]] = {}
        for (name, _), pool in self._pools.items():
            summed = states.setdefault(name, {})
            for state, count in pool.states().items():
                summed[state] = summed.get(state, 0) + count
        return states

    def update(self, definition: FunctionDefinition) -> None:
        """A function changed: its warm instances drain now, as FC's do on an update (their PreStop hooks run
        then), not when the next invoke happens to come."""
        pool = self._pools.get((definition.name, definition.version_id))
        if pool is not None and pool.definition is not definition:
            self._replace(definition)

    def _replace(self, definition: FunctionDefinition) -> FunctionPool:
        old = self._pools.get((definition.name, definition.version_id))
        if old is not None:
            # The definition changed (new code or limits): its warm instances must not serve again.
            self._drain(old)
        # Beyond the function's limits (self.limits), a pool's own cap: one instance under a debugger.
        max_instances: int | None = None
        # Pre-warmed, or provisioned (pool/invocation_controls.py: an alias's config keeps its version's pool warm).
        min_instances = self.minimum(definition.name, definition.version_id)
        debugging = self._launcher.debugs(definition)
        if debugging:
            # One instance, the one the debugger is attached to (its port is published once), kept warm so that an
            # idle spell does not end the debugging session.
            max_instances = min_instances = 1
        pool = FunctionPool(
            definition,
            self._launcher,
            contract.static_headers(definition, self._settings, self._launcher.role),
            limit=self.limits.for_function(definition.name),
            max_instances=max_instances,
            min_instances=min_instances,
            idle_timeout_s=self._settings.idle_timeout_s,
            on_cold_start=lambda: self._metrics.cold_start(definition.name),
            on_started=lambda seconds: self._started(definition.name, seconds),
            on_prestart_unused=lambda: self._metrics.prestart_unused(definition.name),
            debugging=debugging,
            disabled=definition.name in self.disabled,
        )
        self._pools[(definition.name, definition.version_id)] = pool
        if (definition.name not in self.disabled and self.provisioned.get((definition.name, definition.version_id))
                and old is not None):
            self.prewarm_later(pool)  # a changed function's provisioned instances, of its new code
        return pool

    def _started(self, function: str, seconds: float) -> None:
        self.start_times.record(function, seconds)
        self._metrics.instance_started(function, seconds)

    def _drain(self, pool: FunctionPool) -> None:
        self._drained = {drained for drained in self._drained if not drained.emptied}
        self._drained.add(pool)
        self.limits.for_function(pool.definition.name).leave(pool)
        self._spawn(pool.drain())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def forget(self, name: str, version_id: str = "") -> None:
        """A function (LATEST, or one of its versions) that no longer exists: its instances drain and its pool
        goes."""
        pool = self._pools.pop((name, version_id), None)
        if pool is not None:
            self._drain(pool)

    async def prewarm_debugged(self, definitions: list[FunctionDefinition]) -> None:
        """Starts the debugged functions' instances, so that a debugger can attach before the first invoke."""
        await self.prewarm([definition for definition in definitions if self._launcher.debugs(definition)])

    async def prewarm(self, definitions: list[FunctionDefinition]) -> None:
        await asyncio.gather(*(self.for_function(definition).prewarm() for definition in definitions))

    async def close(self) -> None:
        await asyncio.gather(*self._background, return_exceptions=True)
        await asyncio.gather(*(pool.retire_all() for pool in [*self._pools.values(), *self._drained]),
                             return_exceptions=True)
        self._pools.clear()
        self._drained.clear()
