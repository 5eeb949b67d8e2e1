"""Published versions of functions (FC's PublishFunctionVersion...): an immutable snapshot of a function's
configuration and code (not its triggers or async configs, as in FC), kept in Redis beside the deployed functions
so that a version keeps its code zip alive. Each version runs as a definition of its own, unpacked here once under
the data folder, with a pool of its own: updating LATEST never changes what a version runs.

The qualifier of an invocation (LATEST, a version id or an alias) is resolved here, for the API and the
dispatcher alike; an alias's version is drawn per invocation."""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from emulator.catalog.aliases import LATEST, Aliases
from emulator.catalog.code_archive import CodeError, checksum, unpack, zip_folder
from emulator.catalog.layers import LayerSource
from emulator.catalog.loader import FunctionDefinition, ManifestError, load_manifest
from emulator.redis_io.keys import ALIASES_KEY, CODE_PREFIX, FUNCTIONS_KEY, VERSIONS_CHANGED_CHANNEL, VERSIONS_KEY
from emulator.redis_io.lua import load_script
from emulator.redis_io.resilience import keep_running, on_each_message
from emulator.timestamps import iso_utc

log = logging.getLogger(__name__)

# Not part of a version (FC: triggers and async configs belong to the function, per qualifier).
NOT_VERSIONED = ("triggers", "asyncInvokeConfig", "provisionConfig")


class VersionRecord(BaseModel):
    """What Redis holds for one version (its id is in the field's name). An FC 2.0 service's version (kept under
    `service:<name>`, see service_versions.py) has no code, and its spec names its functions: `{"functions": [...]}`."""

    spec: dict[str, Any]
    codeChecksum: str = ""
    codeSize: int = 0
    # The function it was published from (a deployed function's functionId; "" for one from files).
    functionId: str = ""
    # A digest of spec and code: publishing what the newest version holds already is refused.
    content: str
    description: str = ""
    createdTime: str
    lastModifiedTime: str


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """LATEST as it is, to publish: its configuration, and its code zip unless the code store holds it already."""

    spec: dict[str, Any]
    code_checksum: str
    code_size: int
    function_id: str
    code: bytes | None = None


@dataclasses.dataclass(frozen=True)
class Resolved:
    """What one invocation runs: the definition of its version (LATEST's own) and that version's id."""

    definition: FunctionDefinition
    version_id: str


class NoChanges(Exception):
    """Nothing changed since the newest version (FC's VersionPublishError)."""


class CodeGone(Exception):
    """The function's code went while publishing (another update landed): publish again."""


class VersionInUse(Exception):
    """An alias names the version; the message is the alias."""


class QualifierNotFound(Exception):
    """No such version or alias: `code` is FC's (VersionNotFound, AliasNotFound)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def spec_of_files(definition: FunctionDefinition) -> dict[str, Any]:
    """The configuration of a function from files, as a deployed function's spec holds it."""
    return definition.manifest.model_dump(mode="json", exclude_none=True, exclude=set(NOT_VERSIONED))


async def snapshot_of_files(definition: FunctionDefinition) -> Snapshot:
    """A function from files: its code folder zipped (the same files make the same zip)."""
    code = await asyncio.to_thread(zip_folder, definition.code_dir)
    return Snapshot(spec_of_files(definition), checksum(code), len(code), definition.function_id, code)


def content_of(spec: dict[str, Any], code_checksum: str) -> str:
    """A digest of a version's configuration and code: publishing the newest version's again is refused."""
    kept = {key: value for key, value in spec.items() if key not in NOT_VERSIONED}
    return hashlib.sha256(json.dumps([kept, code_checksum], sort_keys=True).encode()).hexdigest()


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


class Versions:
    """Every function's versions and aliases as Redis holds them, with this process's copy (re-read on every change
    message, so that resolving a qualifier costs no round trip), and the definitions of the versions run here."""

    def __init__(self, redis: Redis, data_dir: Path, layers: LayerSource | None = None) -> None:
        self._redis = redis
        self._layers = layers
        self._root = data_dir / "versions"
        self.aliases = Aliases(redis)
        # Function -> version id -> record.
        self.records: dict[str, dict[str, VersionRecord]] = {}
        self._definitions: dict[tuple[str, str], FunctionDefinition] = {}
        self._loading = asyncio.Lock()
        # Counts this process's writes, so that a reload that read Redis before one does not undo it.
        self._writes = 0
        self._on_removed: Callable[[str, str], None] = lambda function, version: None
        self._listeners: list[Callable[[], Awaitable[None]]] = []
        self._publish = load_script(redis, __file__, "publish_version")
        self._delete = load_script(redis, __file__, "delete_version", prelude="code_references")
        self._forget = load_script(redis, __file__, "forget_versions", prelude="code_references")
        self._listener: asyncio.Task[None] | None = None

    async def start(self, on_removed: Callable[[str, str], None]) -> None:
        """Reads what is stored, and again on every change message; `on_removed` is told of each version that
        went (its pool drains)."""
        self._on_removed = on_removed
        await self.reload()
        self._listener = asyncio.create_task(keep_running(
            lambda: on_each_message(self._redis, VERSIONS_CHANGED_CHANNEL, self.reload), "versions listener",
            self._redis,
        ))

    def on_change(self, listener: Callable[[], Awaitable[None]]) -> None:
        """`listener` is awaited after every reload (a version or an alias changed, in any process; this one's copy
        is read by then): the provision configs follow their aliases so."""
        self._listeners.append(listener)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait([self._listener], timeout=5)

    async def reload(self) -> None:
        while True:
            writes = self._writes
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(VERSIONS_KEY)
                pipe.hgetall(ALIASES_KEY)
                versions, aliases = await pipe.execute()
            if writes == self._writes:
                break
        records: dict[str, dict[str, VersionRecord]] = {}
        for key, value in versions.items():
            function, slash, version = _text(key).partition("/")
            if not slash:
                continue  # the function's counter
            try:
                records.setdefault(function, {})[version] = VersionRecord.model_validate_json(value)
            except ValidationError:
                log.warning("skipping version %s of %s: its stored record cannot be read", version, function)
        self.records = records
        self.aliases.load({_text(key): value for key, value in aliases.items()})
        for function, version in list(self._definitions):
            if version not in records.get(function, {}):
                self._dropped(function, version)
        for listener in self._listeners:
            try:
                await listener()
            except Exception:
                log.exception("a versions listener failed")

    async def changed(self) -> None:
        """Tells every process (this one's copy is up to date) that a version or an alias changed."""
        self._writes += 1
        await self._redis.publish(VERSIONS_CHANGED_CHANNEL, "1")

    def _dropped(self, function: str, version: str) -> None:
        """A version that went: its definition is forgotten and its pool drains; its files go."""
        self._definitions.pop((function, version), None)
        self._on_removed(function, version)
        shutil.rmtree(self._root / function / version, ignore_errors=True)

    def of(self, function: str) -> list[tuple[str, VersionRecord]]:
        """A function's versions, oldest first."""
        return sorted(self.records.get(function, {}).items(), key=lambda item: int(item[0]))

    def get(self, function: str, version: str) -> VersionRecord | None:
        return self.records.get(function, {}).get(version)

    async def publish(self, function: str, snapshot: Snapshot, description: str, reserved: str = ""
                      ) -> tuple[str, VersionRecord]:
        """Stores a new version of LATEST as `snapshot` holds it (under the `reserved` id of a service version, or
        the next one); raises NoChanges or CodeGone."""
        now = iso_utc()
        record = VersionRecord(
            spec=snapshot.spec, codeChecksum=snapshot.code_checksum, codeSize=snapshot.code_size,
            functionId=snapshot.function_id, content=content_of(snapshot.spec, snapshot.code_checksum),
            description=description, createdTime=now, lastModifiedTime=now,
        )
        version = int(await self._publish(
            keys=[VERSIONS_KEY, CODE_PREFIX + snapshot.code_checksum],
            args=[function, record.model_dump_json(), record.content, snapshot.code or b"",
                  "1" if snapshot.code_checksum else "0", reserved],
        ))
        if version == 0:
            raise NoChanges(function)
        if version < 0:
            raise CodeGone(function)
        self.records.setdefault(function, {})[str(version)] = record
        await self.changed()
        return str(version), record

    async def delete(self, function: str, version: str) -> bool:
        """Deletes a version (False when there is none); raises VersionInUse when an alias names it."""
        record = self.get(function, version)
        answer = await self._delete(
            keys=[VERSIONS_KEY, ALIASES_KEY, FUNCTIONS_KEY, CODE_PREFIX + (record.codeChecksum if record else "")],
            args=[function, version, CODE_PREFIX],
        )
        if int(answer[0]) < 0:
            raise VersionInUse(_text(answer[1]))
        if int(answer[0]) == 0:
            return False
        self.records.get(function, {}).pop(version, None)
        self._dropped(function, version)
        await self.changed()
        return True

    async def forget(self, function: str) -> int:
        """Removes every version and alias of a deleted function (their pools drain); returns how many versions."""
        code_keys = sorted({CODE_PREFIX + record.codeChecksum for _, record in self.of(function) if record.codeChecksum})
        removed = int(await self._forget(keys=[VERSIONS_KEY, ALIASES_KEY, FUNCTIONS_KEY, *code_keys],
                                         args=[function, CODE_PREFIX]))
        for version in list(self.records.pop(function, {})):
            self._dropped(function, version)
        self.aliases.forget(function)
        shutil.rmtree(self._root / function, ignore_errors=True)
        await self.changed()
        return removed

    # What an invocation runs.

    async def resolve(self, latest: FunctionDefinition, qualifier: str | None) -> Resolved:
        """The definition an invocation with this qualifier runs: LATEST's (none given, or LATEST), a version's,
        or the version an alias draws. Raises QualifierNotFound."""
        if not qualifier or qualifier == LATEST:
            return Resolved(latest, LATEST)
        function = latest.name
        if qualifier.isascii() and qualifier.isdigit():
            version = qualifier
        else:
            alias = self.aliases.get(function, qualifier)
            if alias is None:
                raise QualifierNotFound("AliasNotFound", f"alias '{qualifier}' of function '{function}' does not exist")
            version = alias.pick()
        definition = self._definitions.get((function, version))
        if definition is None:
            definition = await self.definition(function, version)
        return Resolved(definition, version)

    async def definition(self, function: str, version: str) -> FunctionDefinition:
        """A version's definition, unpacked here the first time (one load at a time: versions are loaded rarely)."""
        async with self._loading:
            found = self._definitions.get((function, version))
            if found is not None:
                return found
            record = self.get(function, version)
            if record is None:
                raise QualifierNotFound("VersionNotFound",
                                        f"version '{version}' of function '{function}' does not exist")
            try:
                found = await self._load(function, version, record)
            except (CodeError, ManifestError, OSError) as error:
                # A layer gone, a zip that cannot be unpacked: the version cannot run (its invokes get FC's 404,
                # its tasks end Invalid) rather than failing the caller with an error it does not expect.
                log.error("version %s of %s cannot be loaded: %s", version, function, error)
                raise QualifierNotFound("VersionNotFound",
                                        f"version '{version}' of function '{function}' cannot be loaded: {error}"
                                        ) from error
            self._definitions[(function, version)] = found
            return found

    async def _load(self, function: str, version: str, record: VersionRecord) -> FunctionDefinition:
        # Named by its content too: a folder left by a deleted function of the same name is never taken for it.
        folder = self._root / function / version / record.content[:16]
        manifest = folder / "function.json"
        if not manifest.is_file():
            if (folder / "code").is_dir():
                pass  # unpacked by another process on this data folder, which is writing its manifest
            elif record.codeChecksum:
                data = await self._redis.get(CODE_PREFIX + record.codeChecksum)
                if data is None:
                    raise QualifierNotFound("VersionNotFound",
                                            f"version '{version}' of function '{function}': its code is gone")
                await asyncio.to_thread(unpack, data if isinstance(data, bytes) else data.encode(), folder / "code")
            else:
                (folder / "code").mkdir(parents=True, exist_ok=True)
            # Written aside and renamed: another process on this data folder may be writing the same one.
            partial = folder / f"function.json.partial-{uuid.uuid4().hex}"
            partial.write_text(json.dumps({**record.spec, "functionName": function}))
            partial.replace(manifest)
        loaded = await asyncio.to_thread(load_manifest, manifest, folder / "code", self._layers)
        return dataclasses.replace(loaded, function_id=record.functionId, version_id=version)
