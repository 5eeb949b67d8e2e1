"""Functions and services deployed through the API (not from functions/): kept in Redis, so that every
emulator process and dispatcher sees them, and unpacked on each host under the data folder.

A code zip is stored once per checksum and removed with the last function that uses it; a stored function whose
code cannot be unpacked here is skipped and reported (FC's state Failed), never a reason to stop the others."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from emulator.catalog.code_archive import CodeError, checksum, unpack
from emulator.catalog.fingerprints import Fingerprints
from emulator.catalog.layers import LayerSource
from emulator.catalog.loader import FunctionDefinition, ManifestError, load_manifest
from emulator.redis_io.client import is_cluster_client
from emulator.redis_io.keys import (
    CODE_PREFIX,
    DEPLOYMENTS_CHANGED_CHANNEL,
    FUNCTIONS_KEY,
    LEGACY_CODE_PREFIX,
    LEGACY_FUNCTIONS_KEY,
    SERVICES_KEY,
    VERSIONS_KEY,
)
from emulator.redis_io.lua import load_script
from emulator.redis_io.replies import reply
from emulator.redis_io.resilience import keep_running, on_each_message
from emulator.timestamps import iso_utc

log = logging.getLogger(__name__)

NO_CODE = "no-code"


class _Superseded(Exception):
    """The version a refresh read is no longer the stored one (its code went with another process's update)."""


class DeployedFunction(BaseModel):
    """What Redis holds for one deployed function: its CreateFunctionInput fields and bookkeeping."""

    spec: dict[str, Any]
    functionId: str
    codeChecksum: str = ""
    codeSize: int = 0
    createdTime: str
    lastModifiedTime: str
    # New with every save: two saves within one second of lastModifiedTime still unpack to different folders.
    revision: str = ""


class Service(BaseModel):
    serviceName: str
    serviceId: str
    description: str = ""
    # FC 2.0 gives a function its service's role (and so the role's credentials); a function's own role wins.
    role: str = ""
    createdTime: str
    lastModifiedTime: str


async def deployed_function_id(redis: Redis, name: str) -> str | None:
    """The functionId Redis holds for a name now: a process's own copy may lag another process's change."""
    raw = await reply(redis.hget(FUNCTIONS_KEY, name))
    return DeployedFunction.model_validate_json(raw).functionId if raw is not None else None


class Deployments:
    def __init__(self, redis: Redis, data_dir: Path, layers: LayerSource | None = None) -> None:
        self._redis = redis
        self._layers = layers
        self._root = data_dir / "deployed"
        self.functions: dict[str, DeployedFunction] = {}
        self.services: dict[str, Service] = {}
        # Counts this process's writes, each counted as it lands in memory (see reload).
        self._writes = 0
        # Stored functions this process could not make ready, by name: why (FC's stateReason).
        self.failures: dict[str, str] = {}
        # What was last logged for each failure, so that every refresh does not log it again.
        self._logged: dict[str, tuple[str, str]] = {}
        self._unreadable: dict[str, str] = {}
        # What the last refresh served, by name: kept while another process's update is under way (see _Superseded).
        self._served: dict[str, FunctionDefinition] = {}
        # A version's code folder is unpacked once and never changed: walked once, not on every refresh.
        self._fingerprints = Fingerprints([self._root])
        self._save = load_script(redis, __file__, "save_function", prelude="code_references")
        self._delete = load_script(redis, __file__, "delete_function", prelude="code_references")
        self._sweep = load_script(redis, __file__, "sweep_code", prelude="code_references")
        self._listener: asyncio.Task[None] | None = None

    async def start(self, on_change: Callable[[], Awaitable[object]]) -> None:
        """Reads what is stored and calls `on_change` (which reads it again, see definitions()) on every change."""
        await self.migrate()
        await self.reload()
        await self.sweep_code()
        self._listener = asyncio.create_task(keep_running(
            lambda: on_each_message(self._redis, DEPLOYMENTS_CHANGED_CHANNEL, on_change), "deployments listener",
            self._redis,
        ))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait([self._listener], timeout=5)

    async def reload(self) -> None:
        while True:
            writes = self._writes
            functions = await reply(self._redis.hgetall(FUNCTIONS_KEY))
            services = await reply(self._redis.hgetall(SERVICES_KEY))
            # A write of this process that landed meanwhile may be missing from what was read: assigning it
            # would undo the write here (a function just created would be unknown, and its create a 500).
            if writes == self._writes:
                break
        self.functions, self._unreadable = {}, {}
        for key, value in functions.items():
            name = _text(key)
            try:
                self.functions[name] = DeployedFunction.model_validate_json(value)
            except ValidationError as error:
                # Kept as an empty record, so that it shows as Failed and DeleteFunction can remove it.
                self.functions[name] = DeployedFunction(spec={}, functionId="", createdTime="", lastModifiedTime="")
                self._unreadable[name] = f"its stored record cannot be read: {error.errors()[0]['msg']}"
        self.services = {}
        for key, value in services.items():
            try:
                self.services[_text(key)] = Service.model_validate_json(value)
            except ValidationError:
                log.warning("skipping service %r: its stored record cannot be read", key)

    async def migrate(self) -> int:
        """Renames the keys of versions before the deployments' hash tag, so that their functions stay deployed.
        Returns how many keys were renamed."""
        renamed = int(await rename_if_absent(self._redis, LEGACY_FUNCTIONS_KEY, FUNCTIONS_KEY))
        async for key in self._redis.scan_iter(match=LEGACY_CODE_PREFIX + "*", count=500):
            name = _text(key)
            renamed += int(await rename_if_absent(self._redis, name, CODE_PREFIX + name[len(LEGACY_CODE_PREFIX):]))
        if renamed:
            log.info("renamed %d deployment key(s) to their hash-tagged names", renamed)
        return renamed

    async def sweep_code(self) -> int:
        """Removes code zips that no function uses (left by versions before code was removed with its last user)."""
        removed = 0
        async for key in self._redis.scan_iter(match=CODE_PREFIX + "*", count=500):
            removed += int(await self._sweep(keys=[FUNCTIONS_KEY, key, VERSIONS_KEY], args=[key[len(CODE_PREFIX):], CODE_PREFIX]))
        if removed:
            log.info("removed %d code zip(s) no function uses", removed)
        return removed

    async def _changed(self) -> None:
        await self._redis.publish(DEPLOYMENTS_CHANGED_CHANNEL, "1")

    # Functions.

    async def save_function(self, name: str, spec: dict[str, Any], code: bytes | None, *, create: bool) -> DeployedFunction:
        """Stores a function (and its code, by checksum; the code it no longer uses goes if no other function uses
        it); with `create`, a name already taken raises FileExistsError. The caller has checked spec and code."""
        current = self.functions.get(name)
        now = iso_utc()
        # Hashing up to 50 MB takes a tenth of a second: not on the event loop.
        code_checksum = await asyncio.to_thread(checksum, code) if code is not None else None
        record = DeployedFunction(
            spec=spec,
            # A record that could not be read is kept as an empty placeholder: an update gives it what it lacks.
            functionId=(current.functionId if current else "") or str(uuid.uuid4()),
            codeChecksum=code_checksum or (current.codeChecksum if current else ""),
            codeSize=len(code) if code is not None else (current.codeSize if current else 0),
            createdTime=(current.createdTime if current else "") or now,
            lastModifiedTime=now,
            revision=uuid.uuid4().hex[:12],
        )
        saved = await self._save(
            keys=[FUNCTIONS_KEY, CODE_PREFIX + record.codeChecksum,
                  CODE_PREFIX + (current.codeChecksum if current else record.codeChecksum), VERSIONS_KEY],
            args=[name, record.model_dump_json(), "1" if create else "0", code or b"", CODE_PREFIX,
                  "1" if code is not None else "0"],
        )
        if not saved:
            raise FileExistsError(name)
        self._writes += 1
        self.functions[name] = record
        await self._changed()
        return record

    async def delete_function(self, name: str) -> bool:
        """Removes a function's record, and its code if no other function uses it."""
        current = self.functions.get(name)
        code_key = CODE_PREFIX + (current.codeChecksum if current else "")
        removed = bool(await self._delete(keys=[FUNCTIONS_KEY, code_key, VERSIONS_KEY], args=[name, CODE_PREFIX]))
        self._writes += 1
        self.functions.pop(name, None)
        self.failures.pop(name, None)
        await self._changed()
        return removed

    async def definitions(self) -> dict[str, FunctionDefinition]:
        """Every deployed function as a definition, unpacked here once per version (checksum and update time).
        One that cannot be made ready is left out and listed in `failures`; old versions on disk are removed.

        Reads Redis afresh: a refresh that follows a save (refreshes run one at a time) then always sees it, even
        when a reload begun before the save finished after it."""
        await self.reload()
        found: dict[str, FunctionDefinition] = {}
        failures: dict[str, str] = {}
        # A snapshot: requests save and delete functions while this awaits unpacks.
        functions = dict(self.functions)
        for name, record in functions.items():
            try:
                definition = dataclasses.replace(await self._definition(name, record), function_id=record.functionId)
                found[name] = self._with_service_role(name, definition)
            except _Superseded:
                # Another process's update is landing; its change message brings a refresh that serves it.
                if name in self._served:
                    found[name] = self._served[name]
            except (CodeError, ManifestError, OSError) as error:
                failures[name] = str(error)
        logged = {name: (self._version(functions[name]), reason) for name, reason in failures.items()}
        for name, seen in logged.items():
            if self._logged.get(name) != seen:
                log.error("deployed function %s is not served (state Failed): %s", name, seen[1])
        self._logged = logged
        self.failures = failures
        self._served = found
        await self._prune()
        return dict(found)

    def _with_service_role(self, name: str, definition: FunctionDefinition) -> FunctionDefinition:
        """A function of an FC 2.0 service (`service$function`) without a role of its own takes the service's."""
        service_name, dollar, _ = name.partition("$")
        service = self.services.get(service_name) if dollar else None
        if service is None or not service.role or definition.manifest.role:
            return definition
        return dataclasses.replace(definition, manifest=definition.manifest.model_copy(update={"role": service.role}))

    async def _definition(self, name: str, record: DeployedFunction) -> FunctionDefinition:
        if name in self._unreadable:
            raise CodeError(self._unreadable[name])
        folder = self._folder(name, record)
        manifest = folder / "function.json"
        if not manifest.is_file():
            await self._materialize(folder, name, record)
        # It reads files (and fingerprints the code the first time): not on the event loop.
        return await asyncio.to_thread(load_manifest, manifest, folder / "code", self._layers, self._fingerprints.of)

    @staticmethod
    def _version(record: DeployedFunction) -> str:
        stamp = record.lastModifiedTime.replace(":", "") + (f"-{record.revision}" if record.revision else "")
        return f"{record.codeChecksum or NO_CODE}/{stamp}"

    def _folder(self, name: str, record: DeployedFunction) -> Path:
        return self._root / name / self._version(record)

    async def _materialize(self, folder: Path, name: str, record: DeployedFunction) -> None:
        code_dir = folder / "code"
        if not code_dir.exists():
            if record.codeChecksum:
                data = await self._redis.get(CODE_PREFIX + record.codeChecksum)
                if data is None:
                    if await self._superseded(name, record):
                        raise _Superseded(name)
                    raise CodeError(f"its code ({record.codeChecksum}) is no longer stored; update the function")
                await asyncio.to_thread(unpack, data if isinstance(data, bytes) else data.encode(), code_dir)
            else:
                code_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a manifest is either whole or absent, so a crash here never leaves a version
        # that looks ready but cannot be read.
        partial = folder / f"function.json.partial-{uuid.uuid4().hex}"
        partial.write_text(json.dumps({**record.spec, "functionName": name}))
        partial.replace(folder / "function.json")

    async def _superseded(self, name: str, record: DeployedFunction) -> bool:
        """Whether Redis holds another version of the function than `record` (or none): an update or delete by
        another process removed the code of the version this refresh read, which is then simply out of date."""
        raw = await reply(self._redis.hget(FUNCTIONS_KEY, name))
        if raw is None:
            return True
        try:
            return self._version(DeployedFunction.model_validate_json(raw)) != self._version(record)
        except ValidationError:
            return True

    async def _prune(self) -> None:
        """Removes unpacked versions no function uses now: those of deleted functions, and superseded versions of
        the others except the newest superseded one, whose draining instances may still be finishing invocations
        with it mounted (another process's, too: at start-up as on every refresh). Bounds the disk to two
        versions of each function.

        Other processes unpack into the same folder: the folders are listed first and Redis read after, so every
        folder listed was unpacked from a record that Redis (or a newer one) holds by the time it is read."""
        listed = await asyncio.to_thread(self._listing)
        if not listed:
            return
        stored = await reply(self._redis.hgetall(FUNCTIONS_KEY))
        current: dict[str, str] = {}
        for key, value in stored.items():
            try:
                current[_text(key)] = self._version(DeployedFunction.model_validate_json(value))
            except ValidationError:
                current[_text(key)] = ""
        await asyncio.to_thread(self._remove_old, listed, current)

    def _listing(self) -> dict[str, list[Path]]:
        """Every unpacked version folder, by function."""
        if not self._root.is_dir():
            return {}
        return {
            function_dir.name: [v for c in function_dir.iterdir() if c.is_dir() for v in c.iterdir() if v.is_dir()]
            for function_dir in self._root.iterdir() if function_dir.is_dir()
        }

    def _remove_old(self, listed: dict[str, list[Path]], current: dict[str, str]) -> None:
        for name, versions in listed.items():
            function_dir = self._root / name
            if name not in current:
                self._fingerprints.changed([function_dir.resolve()])
                shutil.rmtree(function_dir, ignore_errors=True)
                continue
            superseded = sorted((v for v in versions if v != function_dir / current[name]), key=_modified, reverse=True)
            for version in superseded[1:]:
                self._fingerprints.changed([version.resolve()])
                shutil.rmtree(version, ignore_errors=True)
                with contextlib.suppress(OSError):
                    version.parent.rmdir()  # the checksum folder, once its last version is gone

    def forget_files(self, name: str) -> None:
        self._fingerprints.changed([(self._root / name).resolve()])
        shutil.rmtree(self._root / name, ignore_errors=True)

    # Services (FC 2.0).

    async def save_service(self, name: str, description: str, role: str = "") -> Service:
        now = iso_utc()
        service = Service(serviceName=name, serviceId=str(uuid.uuid4()), description=description or "", role=role,
                          createdTime=now, lastModifiedTime=now)
        if not await reply(self._redis.hsetnx(SERVICES_KEY, name, service.model_dump_json())):
            raise FileExistsError(name)
        self._writes += 1
        self.services[name] = service
        await self._changed()
        return service

    async def update_service(self, name: str, description: str | None, role: str | None) -> Service | None:
        """FC 2.0's UpdateService of the fields fcemu keeps; None when no such service is stored."""
        raw = await reply(self._redis.hget(SERVICES_KEY, name))
        if raw is None:
            return None
        stored = Service.model_validate_json(raw)
        changes = {key: value for key, value in (("description", description), ("role", role)) if value is not None}
        service = stored.model_copy(update={**changes, "lastModifiedTime": iso_utc()})
        await reply(self._redis.hset(SERVICES_KEY, name, service.model_dump_json()))
        self._writes += 1
        self.services[name] = service
        await self._changed()
        return service

    async def delete_service(self, name: str) -> bool:
        removed = bool(await reply(self._redis.hdel(SERVICES_KEY, name)))
        self._writes += 1
        self.services.pop(name, None)
        await self._changed()
        return removed


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _text(key: bytes | str) -> str:
    """A Redis key or field as text (the client answers bytes)."""
    return key.decode(errors="replace") if isinstance(key, bytes) else key


async def rename_if_absent(redis: Redis, old: str, new: str) -> bool:
    """Moves `old` to `new` unless `new` exists. RENAMENX where both are on one node; across a Cluster's slots a
    copy (DUMP, RESTORE) and a delete."""
    if not await redis.exists(old):
        return False
    if not is_cluster_client(redis):
        return bool(await redis.renamenx(old, new))
    dumped = await redis.dump(old)
    if dumped is None or await redis.exists(new):
        return False
    await redis.restore(new, 0, dumped)
    await redis.delete(old)
    return True
