"""Functions and services deployed through the API (not from functions/): kept in Redis, so that every
emulator process and dispatcher sees them, and unpacked on each host under the data folder."""
from __future__ import annotations

import asyncio
import json
import logging
import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis

from emulator.catalog.code_archive import checksum, unpack
from emulator.catalog.loader import FunctionDefinition, load_manifest
from emulator.queue.resilience import keep_running, on_each_message
from emulator.timestamps import iso_utc

log = logging.getLogger(__name__)

FUNCTIONS_KEY = "fcemu:deployed-functions"
SERVICES_KEY = "fcemu:services"
CODE_PREFIX = "fcemu:code:"
CHANGED_CHANNEL = "fcemu:deployments-changed"


class DeployedFunction(BaseModel):
    """What Redis holds for one deployed function: its CreateFunctionInput fields and bookkeeping."""

    spec: dict[str, Any]
    functionId: str
    codeChecksum: str = ""
    codeSize: int = 0
    createdTime: str
    lastModifiedTime: str


class Service(BaseModel):
    serviceName: str
    serviceId: str
    description: str = ""
    createdTime: str
    lastModifiedTime: str


class Deployments:
    def __init__(self, redis: Redis, data_dir: Path) -> None:
        self._redis = redis
        self._root = data_dir / "deployed"
        self.functions: dict[str, DeployedFunction] = {}
        self.services: dict[str, Service] = {}
        self._listener: asyncio.Task[None] | None = None

    async def start(self, on_change: Callable[[], Awaitable[None]]) -> None:
        await self.reload()

        async def refresh() -> None:
            await self.reload()
            await on_change()

        self._listener = asyncio.create_task(keep_running(
            lambda: on_each_message(self._redis, CHANGED_CHANNEL, refresh), "deployments listener", self._redis,
        ))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait([self._listener], timeout=5)

    async def reload(self) -> None:
        functions = await self._redis.hgetall(FUNCTIONS_KEY)
        services = await self._redis.hgetall(SERVICES_KEY)
        self.functions = {k.decode(): DeployedFunction.model_validate_json(v) for k, v in functions.items()}
        self.services = {k.decode(): Service.model_validate_json(v) for k, v in services.items()}

    async def _changed(self) -> None:
        await self._redis.publish(CHANGED_CHANNEL, "1")

    # Functions.

    async def save_function(self, name: str, spec: dict[str, Any], code: bytes | None, *, create: bool) -> DeployedFunction:
        """Stores a function (and its code, by checksum); with `create`, a name already taken raises
        FileExistsError."""
        current = self.functions.get(name)
        now = iso_utc()
        record = DeployedFunction(
            spec=spec,
            functionId=current.functionId if current else str(uuid.uuid4()),
            codeChecksum=checksum(code) if code is not None else (current.codeChecksum if current else ""),
            codeSize=len(code) if code is not None else (current.codeSize if current else 0),
            createdTime=current.createdTime if current else now,
            lastModifiedTime=now,
        )
        if code is not None:
            await self._redis.set(CODE_PREFIX + record.codeChecksum, code, nx=True)
        if create:
            if not await self._redis.hsetnx(FUNCTIONS_KEY, name, record.model_dump_json()):
                raise FileExistsError(name)
        else:
            await self._redis.hset(FUNCTIONS_KEY, name, record.model_dump_json())
        self.functions[name] = record
        await self._changed()
        return record

    async def delete_function(self, name: str) -> bool:
        removed = bool(await self._redis.hdel(FUNCTIONS_KEY, name))
        self.functions.pop(name, None)
        await self._changed()
        return removed

    async def definitions(self) -> dict[str, FunctionDefinition]:
        """Every deployed function as a definition, unpacked here once per version (checksum and update time)."""
        found = {}
        for name, record in self.functions.items():
            folder = self._root / name / (record.codeChecksum or "no-code") / record.lastModifiedTime.replace(":", "")
            manifest = folder / "function.json"
            if not manifest.is_file():
                await self._materialize(folder, name, record)
            definition = load_manifest(manifest, code_dir=folder / "code")
            found[name] = definition
        return found

    async def _materialize(self, folder: Path, name: str, record: DeployedFunction) -> None:
        code_dir = folder / "code"
        if not code_dir.exists():
            data = await self._redis.get(CODE_PREFIX + record.codeChecksum) if record.codeChecksum else None
            if data is not None:
                await asyncio.to_thread(unpack, data, code_dir)
            else:
                code_dir.mkdir(parents=True, exist_ok=True)
        (folder / "function.json").write_text(json.dumps({**record.spec, "functionName": name}))

    def forget_files(self, name: str) -> None:
        shutil.rmtree(self._root / name, ignore_errors=True)

    # Services (FC 2.0).

    async def save_service(self, name: str, description: str) -> Service:
        now = iso_utc()
        service = Service(serviceName=name, serviceId=str(uuid.uuid4()), description=description or "",
                          createdTime=now, lastModifiedTime=now)
        if not await self._redis.hsetnx(SERVICES_KEY, name, service.model_dump_json()):
            raise FileExistsError(name)
        self.services[name] = service
        await self._changed()
        return service

    async def delete_service(self, name: str) -> bool:
        removed = bool(await self._redis.hdel(SERVICES_KEY, name))
        self.services.pop(name, None)
        await self._changed()
        return removed
