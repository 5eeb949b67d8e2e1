"""Layer versions published through FC's layer API: kept in Redis, so that every emulator process and dispatcher
sees them, and mirrored on each host as zips under the layer cache, where LayerSource finds them after the
layer folders (LayerSource stays file-based and synchronous; the Redis reads happen here, in async code).

Keys of one layer share the hash tag `{<name>}`, so that a Redis Cluster can hold them later:
`fcemu:layer:{<name>}` maps each version to its record (and `next` to the last version handed out) and
`fcemu:layer-code:{<name>}` each version to its zip. Versions of a name start above the highest one the layer
folders hold and are never reused. A deleted version is a tombstone (`deleted:<n>`): gone from the API and
refused to new function configurations, while its zip stays as long as a function names it (checked at each
delete), so that functions already using it keep running, as in FC."""
from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from emulator.catalog.code_archive import checksum
from emulator.catalog.deployments import DeployedFunction
from emulator.catalog.layers import LAYER_ARN, LayerSource
from emulator.redis_io.keys import (
    DEPLOYMENTS_CHANGED_CHANNEL,
    FUNCTIONS_KEY,
    LAYER_NAMES_KEY,
    layer_code_key,
    layer_key,
)
from emulator.redis_io.lua import load_script
from emulator.redis_io.replies import reply
from emulator.timestamps import iso_utc

log = logging.getLogger(__name__)

NEXT_FIELD = "next"
DELETED_PREFIX = "deleted:"




class PublishedRecord(BaseModel):
    """What Redis holds for one published version (its name and number are its keys)."""

    description: str = ""
    license: str = ""
    compatibleRuntime: list[str] = []
    codeSize: int
    codeChecksum: str
    createTime: str


@dataclass(frozen=True)
class LayerVersion:
    """One version of a layer, published or from a layer folder (`folder` is then where it lives)."""

    name: str
    version: int
    description: str
    license: str
    compatible_runtime: list[str]
    code_size: int
    code_checksum: str
    create_time: str
    location: str
    folder: Path | None = None


class PublishedLayers:
    def __init__(self, redis: Redis, source: LayerSource) -> None:
        self._redis = redis
        self._source = source
        self._publish = load_script(redis, __file__, "publish_layer_version")
        self._delete = load_script(redis, __file__, "delete_layer_version")

    async def publish(self, name: str, zip_data: bytes, *, description: str, license: str,
                      compatible_runtime: list[str]) -> LayerVersion:
        """Stores a new version of the layer (the zip checked by the caller) and tells every process."""
        floor = max(await asyncio.to_thread(self._source.local_versions, name), default=0)
        record = PublishedRecord(description=description, license=license, compatibleRuntime=compatible_runtime,
                                 codeSize=len(zip_data), codeChecksum=await asyncio.to_thread(checksum, zip_data),
                                 createTime=iso_utc())
        await reply(self._redis.sadd(LAYER_NAMES_KEY, name))
        version = int(await self._publish(keys=[layer_key(name), layer_code_key(name)],
                                          args=[floor, record.model_dump_json(), zip_data]))
        await self._changed()
        return self._published(name, version, record)

    async def get(self, name: str, version: int) -> LayerVersion | None:
        """A version that exists (a folder's, else a live published one), None otherwise."""
        local = (await asyncio.to_thread(self._source.local_versions, name)).get(version)
        if local is not None:
            return _local(name, version, local)
        return (await self._live(name)).get(version)

    async def versions(self, name: str) -> list[LayerVersion]:
        """Every version of the layer that exists, oldest first."""
        local = await asyncio.to_thread(self._source.local_versions, name)
        found = {version: _local(name, version, path) for version, path in local.items()}
        for version, layer in (await self._live(name)).items():
            found.setdefault(version, layer)
        return [found[version] for version in sorted(found)]

    async def names(self) -> list[str]:
        published = {_text(name) for name in await reply(self._redis.smembers(LAYER_NAMES_KEY))}
        return sorted(published | await asyncio.to_thread(self._source.local_names))

    async def delete(self, name: str, version: int, in_use: set[str]) -> bool:
        """Marks a published version deleted, then sweeps (`in_use`: the layer ARNs of the caller's served
        functions, those from files and templates included, which Redis does not list)."""
        deleted = bool(await self._delete(keys=[layer_key(name)], args=[str(version)]))
        if deleted:
            await self.sweep(in_use)
            await self._changed()
        return deleted

    async def deleted(self, arn: str) -> bool:
        """Whether the ARN names a published version that was deleted (and no layer folder holds it)."""
        key = _key_of(arn)
        if key is None:
            return False
        name, version = key
        if version in await asyncio.to_thread(self._source.local_versions, name):
            return False
        return bool(await reply(self._redis.hexists(layer_key(name), f"{DELETED_PREFIX}{version}")))

    async def sweep(self, in_use: set[str]) -> int:
        """Removes the zips of deleted versions that neither a deployed function nor `in_use` names any more."""
        used = await self._used() | {key for arn in in_use if (key := _key_of(arn)) is not None}
        removed = 0
        for name in [_text(n) for n in await reply(self._redis.smembers(LAYER_NAMES_KEY))]:
            fields = [_text(f) for f in await reply(self._redis.hkeys(layer_key(name)))]
            for field in fields:
                if field.startswith(DELETED_PREFIX) and field[len(DELETED_PREFIX):].isdigit():
                    version = int(field[len(DELETED_PREFIX):])
                    if (name, version) not in used:
                        removed += int(await reply(self._redis.hdel(layer_code_key(name), str(version))))
        return removed

    async def mirror(self) -> None:
        """Writes to this host's published folder every stored zip it lacks, and removes the ones no longer
        stored; a zip that cannot be written is logged and skipped (the function using it shows Failed).

        Each zip has its record's checksum beside it (`<n>.sum`): a zip left by an earlier Redis (flushed, or
        another one on the same data folder) under the same number is replaced, never served."""
        target = self._source.published_dir
        stored: set[tuple[str, int]] = set()
        for name in [_text(n) for n in await reply(self._redis.smembers(LAYER_NAMES_KEY))]:
            records = {_text(k): v for k, v in (await reply(self._redis.hgetall(layer_key(name)))).items()}
            for field in await reply(self._redis.hkeys(layer_code_key(name))):
                if not _text(field).isdigit() or _text(field) not in records:
                    continue  # not one this module wrote
                version = int(_text(field))
                try:
                    expected = PublishedRecord.model_validate_json(records[str(version)]).codeChecksum
                except ValidationError:
                    continue
                stored.add((name, version))
                path = target / name / f"{version}.zip"
                if await asyncio.to_thread(_mirrored_sum, path) == expected:
                    continue
                data = await reply(self._redis.hget(layer_code_key(name), str(version)))
                if data is None:
                    continue
                try:
                    await asyncio.to_thread(_write_aside, path, data if isinstance(data, bytes) else data.encode(),
                                            expected)
                except OSError as error:
                    log.error("published layer %s/%d could not be mirrored to %s: %s", name, version, path, error)
        await asyncio.to_thread(_remove_unstored, target, stored)

    async def _live(self, name: str) -> dict[int, LayerVersion]:
        fields = {_text(k): v for k, v in (await reply(self._redis.hgetall(layer_key(name)))).items()}
        live = {}
        for field, value in fields.items():
            if not field.isdigit() or f"{DELETED_PREFIX}{field}" in fields:
                continue
            try:
                live[int(field)] = self._published(name, int(field), PublishedRecord.model_validate_json(value))
            except ValidationError:
                log.warning("skipping layer %s version %s: its stored record cannot be read", name, field)
        return live

    def _published(self, name: str, version: int, record: PublishedRecord) -> LayerVersion:
        return LayerVersion(name=name, version=version, description=record.description, license=record.license,
                            compatible_runtime=record.compatibleRuntime, code_size=record.codeSize,
                            code_checksum=record.codeChecksum, create_time=record.createTime,
                            location=str(self._source.published_dir / name / f"{version}.zip"))

    async def _used(self) -> set[tuple[str, int]]:
        used: set[tuple[str, int]] = set()
        for value in (await reply(self._redis.hgetall(FUNCTIONS_KEY))).values():
            try:
                layers: Any = DeployedFunction.model_validate_json(value).spec.get("layers") or []
            except ValidationError:
                continue
            used.update(key for arn in (layers if isinstance(layers, list) else []) if (key := _key_of(arn)))
        return used

    async def _changed(self) -> None:
        await self._redis.publish(DEPLOYMENTS_CHANGED_CHANNEL, "1")


def _key_of(arn: object) -> tuple[str, int] | None:
    match = LAYER_ARN.match(arn) if isinstance(arn, str) else None
    return (match.group(1), int(match.group(2))) if match is not None else None


def _local(name: str, version: int, path: Path) -> LayerVersion:
    stat = path.stat()
    size = stat.st_size if path.is_file() else 0
    return LayerVersion(name=name, version=version, description="", license="", compatible_runtime=[],
                        code_size=size, code_checksum="", create_time=iso_utc(stat.st_mtime), location=str(path),
                        folder=path)


def _mirrored_sum(path: Path) -> str | None:
    try:
        return path.with_suffix(".sum").read_text() if path.is_file() else None
    except OSError:
        return None


def _write_aside(path: Path, data: bytes, data_sum: str) -> None:
    """Written aside and renamed: a reader never sees half a zip. The checksum goes last, so a zip whose
    checksum is there is whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, content in ((path, data), (path.with_suffix(".sum"), data_sum.encode())):
        partial = target.with_name(f"{target.name}.partial-{uuid.uuid4().hex}")
        partial.write_bytes(content)
        partial.replace(target)


def _remove_unstored(target: Path, stored: set[tuple[str, int]]) -> None:
    if not target.is_dir():
        return
    for folder in target.iterdir():
        for entry in [*folder.glob("*.zip"), *folder.glob("*.sum")] if folder.is_dir() else []:
            if entry.stem.isdigit() and (folder.name, int(entry.stem)) not in stored:
                try:
                    entry.unlink(missing_ok=True)
                except OSError as error:  # left for the next mirror: a refresh must not fail on it
                    log.warning("could not remove %s: %s", entry, error)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
