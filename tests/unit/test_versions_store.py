"""Versions and aliases driven directly against a real redis-server (no emulator, no Docker): ids never reused,
publishing nothing new refused, a version's code zip kept alive by the version, a version an alias names kept, a
deleted function's versions and aliases gone, an alias's draw, and FC 2.0 service versions as their functions'."""
from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from emulator.catalog.aliases import AliasExists, AliasRecord, VersionMissing, valid_alias_name
from emulator.catalog.code_archive import checksum, zip_folder
from emulator.catalog.deployments import Deployments
from emulator.catalog.service_versions import ServiceVersions
from emulator.catalog.versions import NoChanges, QualifierNotFound, Snapshot, VersionInUse, Versions
from emulator.redis_io.keys import CODE_PREFIX
from tests.support.fc_api import code_saying
from tests.support.redis_server import RedisServer

SPEC = {"functionName": "f", "runtime": "python3.10", "handler": "main.handler"}
NOW = "2026-12-06T00:00:00Z"


def with_redis(server: RedisServer, body: Callable[[Redis], Awaitable[None]]) -> None:
    async def run() -> None:
        redis = Redis.from_url(server.url)
        try:
            await body(redis)
        finally:
            await redis.aclose()

    asyncio.run(run())


def snapshot(word: str, spec: dict[str, object] | None = None) -> Snapshot:
    code = code_saying(word)
    return Snapshot(spec or SPEC, checksum(code), len(code), "id-1", code)


def alias(version: str, weights: dict[str, float] | None = None) -> AliasRecord:
    return AliasRecord(versionId=version, additionalVersionWeight=weights or {}, createdTime=NOW, lastModifiedTime=NOW)


def test_ids_are_never_reused_and_publishing_nothing_new_is_refused(own_redis: RedisServer, tmp_path: Path) -> None:
    async def body(redis: Redis) -> None:
        versions = Versions(redis, tmp_path)
        assert (await versions.publish("f", snapshot("one"), "first"))[0] == "1"
        with pytest.raises(NoChanges):
            await versions.publish("f", snapshot("one"), "the same again")
        assert (await versions.publish("f", snapshot("one", {**SPEC, "timeout": 9}), ""))[0] == "2"
        assert await versions.delete("f", "2")
        assert not await versions.delete("f", "2")
        assert (await versions.publish("f", snapshot("two"), ""))[0] == "3"
        other = Versions(redis, tmp_path)
        await other.reload()
        assert [version for version, _ in other.of("f")] == ["1", "3"]
        assert other.get("f", "1") is not None and other.get("f", "1").description == "first"

    with_redis(own_redis, body)


def test_a_version_keeps_its_code_until_it_goes_and_its_definition_runs_that_code(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    async def body(redis: Redis) -> None:
        deployments = Deployments(redis, tmp_path)
        versions = Versions(redis, tmp_path)
        record = await deployments.save_function("f", SPEC, code_saying("one"), create=True)
        await versions.publish("f", Snapshot(SPEC, record.codeChecksum, record.codeSize, record.functionId), "")
        await deployments.save_function("f", SPEC, code_saying("two"), create=False)
        assert await redis.exists(CODE_PREFIX + record.codeChecksum), "version 1 keeps its zip alive"
        definition = await versions.definition("f", "1")
        assert definition.version_id == "1" and definition.function_id == record.functionId
        assert "'one '" in (definition.code_dir / "main.py").read_text()
        assert await versions.definition("f", "1") is definition, "unpacked once, the same definition after"
        await versions.delete("f", "1")
        assert not await redis.exists(CODE_PREFIX + record.codeChecksum), "its last user went"
        with pytest.raises(QualifierNotFound) as missing:
            await versions.definition("f", "1")
        assert missing.value.code == "VersionNotFound"

    with_redis(own_redis, body)


def test_a_version_an_alias_names_stays_and_a_deleted_function_takes_everything(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    async def body(redis: Redis) -> None:
        versions = Versions(redis, tmp_path)
        one = snapshot("one")
        await versions.publish("f", one, "")
        await versions.publish("f", snapshot("two"), "")
        await versions.aliases.save("f", "prod", alias("1", {"2": 0.5}), create=True)
        with pytest.raises(AliasExists):
            await versions.aliases.save("f", "prod", alias("1"), create=True)
        with pytest.raises(VersionMissing):
            await versions.aliases.save("f", "next", alias("7"), create=True)
        for named in ("1", "2"):
            with pytest.raises(VersionInUse):
                await versions.delete("f", named)
        assert await versions.forget("f") == 2
        assert versions.of("f") == [] and versions.aliases.of("f") == []
        assert not await redis.exists(CODE_PREFIX + one.code_checksum)
        assert (await versions.publish("f", one, ""))[0] == "1", "a new function under the name starts again"

    with_redis(own_redis, body)


def test_an_alias_draws_its_additional_version_with_its_weight() -> None:
    canary = alias("1", {"2": 0.3})
    assert canary.pick(0.0) == "2" and canary.pick(0.29) == "2" and canary.pick(0.3) == "1"
    assert alias("1").pick(0.0) == "1"
    assert alias("1", {"2": 1.0}).pick(0.999) == "2"


@pytest.mark.parametrize(("name", "valid"), [
    ("prod", True), ("a", True), ("-x", True), ("a_b-1", True), ("a" * 128, True),
    ("1st", False), ("_x", False), ("LATEST", False), ("a" * 129, False), ("a.b", False), ("", False),
])
def test_alias_names_follow_fc(name: str, valid: bool) -> None:
    assert valid_alias_name(name) is valid


def test_a_folder_zips_the_same_whatever_its_files_times(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.py").write_text("x = 1\n")
    (tmp_path / "sub" / "tool.sh").write_text("echo\n")
    (tmp_path / "sub" / "tool.sh").chmod(0o755)
    first = zip_folder(tmp_path)
    (tmp_path / "index.py").write_text("x = 1\n")  # rewritten: a new modification time, the same content
    assert zip_folder(tmp_path) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.namelist() == ["index.py", "sub/tool.sh"]
        assert archive.getinfo("sub/tool.sh").external_attr >> 16 & 0o777 == 0o755


def test_a_service_version_is_the_same_version_of_each_of_its_functions(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    async def body(redis: Redis) -> None:
        versions = Versions(redis, tmp_path)
        services = ServiceVersions(redis, versions)
        await versions.publish("s$a", snapshot("a0"), "")
        await versions.publish("s$a", snapshot("a1"), "")
        published, _ = await services.publish("s", {"s$a": snapshot("a1"), "s$b": snapshot("b1")}, "")
        assert published == "3", "above every function's last id"
        assert versions.get("s$a", "3") is not None and versions.get("s$b", "3") is not None
        with pytest.raises(NoChanges):
            await services.publish("s", {"s$a": snapshot("a1"), "s$b": snapshot("b1")}, "")
        await services.save_alias("s", "prod", alias("3"), create=True)
        assert versions.aliases.get("s$b", "prod") is not None, "the service's alias is each function's"
        with pytest.raises(VersionInUse):
            await services.delete("s", "3")
        assert await services.delete_alias("s", "prod")
        assert versions.aliases.get("s$a", "prod") is None
        assert await services.delete("s", "3")
        assert versions.get("s$a", "3") is None and versions.get("s$b", "3") is None

    with_redis(own_redis, body)
