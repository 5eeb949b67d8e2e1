"""FC 2.0's versions and aliases, which belong to a service, mapped onto fcemu's per-function ones.

A service version N is version N of each function the service held when it was published: publishing reserves an
id above the service's and each of its functions' last ones, records which functions it holds, and publishes every
function under that id. A service alias is the alias of that name of each of those functions (the same version
and weight), kept beside the service's own record. So `services/{service}.{qualifier}/functions/{f}` resolves as
FC 3.0's `functions/{f}?qualifier=` does, and an async task's qualifier means the same on both."""
from __future__ import annotations

from redis.asyncio import Redis

from emulator.catalog.aliases import AliasExists, AliasMissing, AliasRecord
from emulator.catalog.versions import NoChanges, Snapshot, VersionInUse, VersionRecord, Versions, content_of
from emulator.redis_io.keys import VERSIONS_KEY
from emulator.redis_io.lua import load_script
from emulator.timestamps import iso_utc

SERVICE_PREFIX = "service:"


def service_key(service: str) -> str:
    """The name a service's versions and aliases are kept under, beside the functions' (no function has it: a
    function name cannot hold ':')."""
    return SERVICE_PREFIX + service


class ServiceVersions:
    def __init__(self, redis: Redis, versions: Versions) -> None:
        self._versions = versions
        self._reserve = load_script(redis, __file__, "reserve_service_version")

    def of(self, service: str) -> list[tuple[str, VersionRecord]]:
        return self._versions.of(service_key(service))

    def functions_of(self, service: str, version: str) -> list[str]:
        """The functions a service version holds."""
        record = self._versions.get(service_key(service), version)
        functions = record.spec.get("functions", []) if record is not None else []
        return [name for name in functions if isinstance(name, str)]

    async def publish(self, service: str, snapshots: dict[str, Snapshot], description: str
                      ) -> tuple[str, VersionRecord]:
        """Publishes every function of the service under one new id; raises NoChanges when none changed."""
        now = iso_utc()
        names = sorted(snapshots)
        contents = {name: content_of(snapshots[name].spec, snapshots[name].code_checksum) for name in names}
        record = VersionRecord(spec={"functions": names}, content=content_of(contents, ""), description=description,
                               createdTime=now, lastModifiedTime=now)
        version = int(await self._reserve(keys=[VERSIONS_KEY],
                                          args=[service_key(service), record.model_dump_json(), record.content,
                                                *names]))
        if version == 0:
            raise NoChanges(service)
        self._versions.records.setdefault(service_key(service), {})[str(version)] = record
        for name in names:
            await self._versions.publish(name, snapshots[name], description, reserved=str(version))
        return str(version), record

    async def delete(self, service: str, version: str) -> bool:
        """Deletes a service version and its functions' versions of that id; raises VersionInUse when an alias
        (the service's, or one of a function's own) names one of them."""
        functions = self.functions_of(service, version)
        for function in functions:
            for name, alias in self._versions.aliases.of(function):
                if version in alias.versions():
                    raise VersionInUse(name)
        if not await self._versions.delete(service_key(service), version):
            return False
        for function in functions:
            await self._versions.delete(function, version)
        return True

    async def save_alias(self, service: str, name: str, record: AliasRecord, *, create: bool) -> None:
        """The service's alias, then each function's of the same name: the service's is checked (its versions
        exist; it exists or not) and raises as Aliases.save does; a function's is created or replaced."""
        aliases = self._versions.aliases
        await aliases.save(service_key(service), name, record, create=create)
        for function in self.functions_of(service, record.versionId):
            weights = {version: weight for version, weight in record.additionalVersionWeight.items()
                       if self._versions.get(function, version) is not None}
            own = record.model_copy(update={"additionalVersionWeight": weights})
            try:
                await aliases.save(function, name, own, create=False)
            except AliasMissing:
                try:
                    await aliases.save(function, name, own, create=True)
                except AliasExists:
                    await aliases.save(function, name, own, create=False)
        await self._versions.changed()

    async def delete_alias(self, service: str, name: str) -> bool:
        aliases = self._versions.aliases
        current = aliases.get(service_key(service), name)
        if current is None or not await aliases.delete(service_key(service), name):
            return False
        functions = {f for _, record in self.of(service) for f in record.spec.get("functions", [])}
        for function in sorted(functions):
            if aliases.get(function, name) is not None:
                await aliases.delete(function, name)
        await self._versions.changed()
        return True

    async def forget(self, service: str) -> int:
        """A deleted service's versions and aliases go (its functions' went with them)."""
        return await self._versions.forget(service_key(service))
