"""The invocation-control API's effect on this process's pools.

A function whose invocation is disabled gets no slot: its pool takes no invoke and starts no instance (the
dispatchers claim none of its tasks), and its instances drain (idle ones go now, busy ones when their invocation
ends) or, disabled with abortOngoingRequest, are removed at once, their invocations failing. A provision config's
target of instances is kept warm and never reclaimed for idleness while it is configured, by the processes that
serve the API (`fcemu serve`; a separate `fcemu dispatcher` keeps none). Every process hears every change.
"""
from __future__ import annotations

import logging

from redis.asyncio import Redis

from emulator.catalog.catalog import Catalog
from emulator.catalog.invocation_restrictions import InvocationRestrictions
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.provision_configs import ProvisionConfigs, function_of
from emulator.pool.function_pool import FunctionPool
from emulator.pool.pools import Pools

log = logging.getLogger(__name__)

LATEST = "LATEST"
ABORTED = "invocation aborted: the function's invocation was disabled with abortOngoingRequest"


class InvocationControls:
    def __init__(self, redis: Redis, pools: Pools, catalog: Catalog, *, keep_warm: bool) -> None:
        self.restrictions = InvocationRestrictions(redis)
        self.provision = ProvisionConfigs(redis)
        self._pools = pools
        self._catalog = catalog
        self._keep_warm = keep_warm
        # Changes are applied once the functions are loaded (apply_all); until then they are only stored.
        self._applying = False
        self.restrictions.on_change(self._restrictions_changed)
        self.provision.on_change(self._provision_changed)

    async def start(self) -> None:
        await self.restrictions.start()
        await self.provision.start()

    async def close(self) -> None:
        await self.provision.close()
        await self.restrictions.close()

    def pool(self, definition: FunctionDefinition, qualifier: str) -> FunctionPool | None:
        """The pool of a function's qualifier, if one was made here: the one place a qualifier meets the pools
        (fcemu serves LATEST alone, so every qualifier that reaches here is LATEST)."""
        return self._pools.existing(definition.name)

    def kept_warm(self, definition: FunctionDefinition, qualifier: str) -> tuple[int, str]:
        """How many instances of a provision config's target are up here, and why not all, if not."""
        pool = self.pool(definition, qualifier)
        target = self.provision.target(definition.name, qualifier)
        current = min(target, len(pool.instances)) if pool is not None else 0
        if not self._keep_warm:
            return current, "this process serves no API, so it keeps no instances warm"
        if self.restrictions.disabled(definition.name):
            return current, "the function's invocation is disabled"
        if pool is not None and target > pool.max_instances:
            return current, f"fcemu keeps at most {pool.max_instances} instances of this function"
        return current, ""

    async def apply_all(self) -> None:
        """Once the functions are loaded: every function's restriction and kept instances, as stored."""
        self._applying = True
        for name in self._catalog.names():
            await self._apply(name, abort=False)

    async def forget(self, function: str) -> None:
        """A deleted function's restriction and provision configs go with it."""
        await self.restrictions.forget(function)
        await self.provision.forget(function)

    async def _restrictions_changed(self, functions: set[str]) -> None:
        for name in functions:
            restriction = self.restrictions.get(name)
            await self._apply(name, abort=restriction is not None and restriction.abortOngoingRequest)

    async def _provision_changed(self, fields: set[str]) -> None:
        for name in {function_of(field) for field in fields}:
            await self._apply(name, abort=False)

    async def _apply(self, name: str, abort: bool) -> None:
        if not self._applying:
            return
        pools = self._pools
        target = self.provision.target(name, LATEST) if self._keep_warm else 0
        if target:
            pools.provisioned[name] = target
        else:
            pools.provisioned.pop(name, None)
        pool = pools.existing(name)
        if self.restrictions.disabled(name):
            pools.disabled.add(name)
            if pool is not None:
                await pool.set_disabled(True)
                if abort:
                    log.info("invocation of %s disabled: %d instance(s) removed at once", name, await pool.abort(ABORTED))
                pools.forget(name)  # its instances drain; a new pool, disabled, is made when asked for
            return
        pools.disabled.discard(name)
        if pool is not None:
            await pool.set_disabled(False)
        definition = self._catalog.get(name)
        if definition is None:
            return
        if target:
            pool = pools.for_function(definition)
        if pool is None or pool.debugging:
            return
        if pool.minimum != pools.minimum(name):
            await pool.set_minimum(pools.minimum(name))
        if pool.minimum:
            pools.prewarm_later(pool)
