"""The invocation-control API's effect on this process's pools.

A function whose invocation is disabled gets no slot: its pool takes no invoke and starts no instance (the
dispatchers claim none of its tasks), and its instances drain (idle ones go now, busy ones when their invocation
ends) or, disabled with abortOngoingRequest, are removed at once, their invocations failing. A provision config's
target of instances is kept warm and never reclaimed for idleness while it is configured, by the processes that
serve the API (`fcemu serve`; a separate `fcemu dispatcher` keeps none). Every process hears every change.

A provision config is LATEST's or an alias's (FC: "The function alias or LATEST"); its instances are kept in the
pool of the version the alias names (its main version: the canary's share starts on demand), and the targets of
the qualifiers naming one version add up. When an alias is switched to another version, its instances follow:
the old version's pool lowers its kept minimum (its idle instances beyond it go at once, making room under the
function's limits) and then the new version's pool starts its own. An alias that goes keeps nothing (its config
stays, and applies again if an alias of that name comes back).
"""
from __future__ import annotations

import logging

from redis.asyncio import Redis

from emulator.catalog.catalog import Catalog
from emulator.catalog.invocation_restrictions import InvocationRestrictions
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.provision_configs import ProvisionConfigs, StoredProvisionConfig, function_of
from emulator.catalog.versions import QualifierNotFound, Versions
from emulator.pool.function_pool import FunctionPool
from emulator.pool.pools import Pools

log = logging.getLogger(__name__)

LATEST = "LATEST"
ABORTED = "invocation aborted: the function's invocation was disabled with abortOngoingRequest"


class InvocationControls:
    def __init__(self, redis: Redis, pools: Pools, catalog: Catalog, versions: Versions, *, keep_warm: bool) -> None:
        self.restrictions = InvocationRestrictions(redis)
        self.provision = ProvisionConfigs(redis, self._declared)
        self._pools = pools
        self._catalog = catalog
        self._versions = versions
        self._keep_warm = keep_warm
        # Changes are applied once the functions are loaded (apply_all); until then they are only stored.
        self._applying = False
        self.restrictions.on_change(self._restrictions_changed)
        self.provision.on_change(self._provision_changed)
        versions.on_change(self._versions_changed)

    async def start(self) -> None:
        await self.restrictions.start()
        await self.provision.start()

    async def close(self) -> None:
        await self.provision.close()
        await self.restrictions.close()

    def _declared(self, function: str) -> tuple[str, StoredProvisionConfig] | None:
        """The provision config the function's manifest declares (an fc3 s.yaml's), with its qualifier."""
        definition = self._catalog.get(function)
        if definition is None or definition.manifest.provisionConfig is None:
            return None
        declared = definition.manifest.provisionConfig
        return declared.qualifier, declared.stored(definition.modified_time)

    async def functions_changed(self, functions: list[str]) -> None:
        """Functions reloaded (their manifests may declare another provision config): their kept instances follow."""
        for name in functions:
            if self._catalog.get(name) is not None:
                await self._apply(name, abort=False)

    def version_of(self, function: str, qualifier: str) -> str | None:
        """The version id whose pool serves a qualifier ("" for LATEST; an alias's main version), or None for an
        alias that does not exist (now)."""
        if qualifier in ("", LATEST):
            return ""
        if qualifier.isascii() and qualifier.isdigit():
            return qualifier
        alias = self._versions.aliases.get(function, qualifier)
        return alias.versionId if alias is not None else None

    def pool(self, definition: FunctionDefinition, qualifier: str) -> FunctionPool | None:
        """The pool of a function's qualifier, if one was made here: the one place a qualifier meets the pools."""
        version_id = self.version_of(definition.name, qualifier)
        return self._pools.existing(definition.name, version_id) if version_id is not None else None

    def provisioned(self, definition: FunctionDefinition, qualifier: str) -> int:
        """How many instances of the qualifier's pool are kept warm for provision configs here (every qualifier
        naming its version counted)."""
        version_id = self.version_of(definition.name, qualifier)
        return self._pools.provisioned.get((definition.name, version_id), 0) if version_id is not None else 0

    def kept_warm(self, definition: FunctionDefinition, qualifier: str) -> tuple[int, str]:
        """How many instances of a provision config's target are up here, and why not all, if not."""
        if self.version_of(definition.name, qualifier) is None:
            return 0, f"alias '{qualifier}' does not exist (any more): no instance is kept for it"
        pool = self.pool(definition, qualifier)
        target = self.provision.target(definition.name, qualifier)
        current = min(target, len(pool.instances)) if pool is not None else 0
        if not self._keep_warm:
            return current, "this process serves no API, so it keeps no instances warm"
        if self.restrictions.disabled(definition.name):
            return current, "the function's invocation is disabled"
        if pool is not None and self.provisioned(definition, qualifier) > pool.max_instances:
            return current, f"fcemu keeps at most {pool.max_instances} instances of this function"
        return current, ""

    def targets(self, function: str) -> dict[str, int]:
        """The function's provision targets by the version id each keeps warm ("" for LATEST), added up."""
        targets: dict[str, int] = {}
        for _, qualifier, config in self.provision.entries([function]):
            version_id = self.version_of(function, qualifier)
            if version_id is not None:
                targets[version_id] = targets.get(version_id, 0) + config.defaultTarget
        return targets

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

    async def _versions_changed(self) -> None:
        """An alias may have been switched, made or removed: the functions with an alias's config follow it."""
        for name, qualifier, _ in self.provision.entries(self._catalog.names()):
            if qualifier != LATEST:
                await self._apply(name, abort=False)

    async def _apply(self, name: str, abort: bool) -> None:
        if not self._applying:
            return
        pools = self._pools
        targets = self.targets(name) if self._keep_warm else {}
        previous = pools.set_provisioned(name, targets)
        if self.restrictions.disabled(name):
            pools.disabled.add(name)
            for version_id, pool in pools.of_function(name):
                await pool.set_disabled(True)
                if abort:
                    log.info("invocation of %s disabled: %d instance(s) removed at once", name,
                             await pool.abort(ABORTED))
                pools.forget(name, version_id)  # its instances drain; a new pool, disabled, is made when asked for
            return
        pools.disabled.discard(name)
        for _, pool in pools.of_function(name):
            await pool.set_disabled(False)
        # Lowered targets first: their idle instances go at once, making room under the function's limits for
        # those of the raised ones (an alias switched to another version).
        changed = sorted({*previous, *targets}, key=lambda version: targets.get(version, 0) >= previous.get(version, 0))
        for version_id in changed:
            await self._keep(name, version_id)
        if "" not in changed:
            await self._keep(name, "")  # LATEST's pool, re-enabled

    async def _keep(self, name: str, version_id: str) -> None:
        """Sets the kept minimum of a function's pool of one version (made if it is to keep instances), and starts
        what is missing."""
        pools = self._pools
        pool = pools.existing(name, version_id)
        if pools.provisioned.get((name, version_id)):
            definition = await self._definition(name, version_id)
            if definition is not None:
                pool = pools.for_function(definition)
        if pool is None or pool.debugging:
            return
        if pool.minimum != pools.minimum(name, version_id):
            await pool.set_minimum(pools.minimum(name, version_id))
        if pool.minimum:
            pools.prewarm_later(pool)

    async def _definition(self, name: str, version_id: str) -> FunctionDefinition | None:
        if not version_id:
            return self._catalog.get(name)
        try:
            return await self._versions.definition(name, version_id)
        except QualifierNotFound as error:
            log.warning("provisioned instances of %s not started: %s", name, error)
            return None
