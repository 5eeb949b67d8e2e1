"""Deployments driven directly against a real redis-server (no emulator, no Docker): what a refresh serves while
another process updates a function, updates of a record that could not be read, and which unpacked versions a
process starting next to a running one keeps."""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from emulator.catalog.deployments import Deployments
from emulator.catalog.loader import FunctionDefinition
from emulator.redis_io.keys import CODE_PREFIX, FUNCTIONS_KEY
from tests.support.fc_api import code_saying
from tests.support.redis_server import RedisServer

SPEC = {"functionName": "f", "runtime": "python3.10", "handler": "main.handler"}


def with_redis(server: RedisServer, body: Callable[[Redis], Awaitable[None]]) -> None:
    async def run() -> None:
        redis = Redis.from_url(server.url)
        try:
            await body(redis)
        finally:
            await redis.aclose()

    asyncio.run(run())


def _serves(definition: FunctionDefinition, word: str) -> bool:
    return f"'{word} '" in (definition.code_dir / "main.py").read_text()


def _versions(data_dir: Path, name: str) -> list[Path]:
    folder = data_dir / "deployed" / name
    return sorted(v for c in folder.iterdir() for v in c.iterdir()) if folder.is_dir() else []


def _update_after_next_read(reader: Deployments, writer: Deployments, name: str, word: str) -> None:
    """The race: `reader`'s next refresh reads the records, then `writer` saves a new version (its save script
    removes the code of the one just read) before `reader` unpacks it."""
    read = reader.reload

    async def read_then_update() -> None:
        await read()
        reader.reload = read  # type: ignore[method-assign]
        await writer.save_function(name, SPEC, code_saying(word), create=False)

    reader.reload = read_then_update  # type: ignore[method-assign]


def test_an_update_by_another_process_never_shows_as_failed(
    own_redis: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(redis: Redis) -> None:
        writer, reader = Deployments(redis, tmp_path / "a"), Deployments(redis, tmp_path / "b")
        await writer.save_function("f", SPEC, code_saying("v0"), create=True)
        assert _serves((await reader.definitions())["f"], "v0")
        await writer.save_function("f", SPEC, code_saying("v1"), create=False)

        _update_after_next_read(reader, writer, "f", "v2")
        with caplog.at_level(logging.ERROR, logger="emulator.catalog.deployments"):
            served = await reader.definitions()
        assert reader.failures == {} and caplog.records == [], "v1's code went with v2's save: not a failure"
        assert _serves(served["f"], "v0"), "the version served before goes on until the change's refresh"

        # the change message's refresh serves the new one
        assert _serves((await reader.definitions())["f"], "v2")

        # a process that served nothing of it yet leaves it out for that moment, as not yet there
        newcomer = Deployments(redis, tmp_path / "c")
        _update_after_next_read(newcomer, writer, "f", "v3")
        assert "f" not in await newcomer.definitions() and newcomer.failures == {}
        assert _serves((await newcomer.definitions())["f"], "v3")

    with_redis(own_redis, body)


def test_code_missing_without_an_update_still_shows_as_failed(own_redis: RedisServer, tmp_path: Path) -> None:
    async def body(redis: Redis) -> None:
        deployments = Deployments(redis, tmp_path / "data")
        record = await deployments.save_function("f", SPEC, code_saying("v0"), create=True)
        await redis.delete(f"{CODE_PREFIX}{record.codeChecksum}")
        assert "f" not in await deployments.definitions()
        assert "is no longer stored" in deployments.failures["f"]

    with_redis(own_redis, body)


def test_updating_a_record_that_could_not_be_read_gives_it_an_id_and_a_creation_time(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    async def body(redis: Redis) -> None:
        await redis.hset(FUNCTIONS_KEY, "garbled", b"{not json")
        deployments = Deployments(redis, tmp_path / "data")
        await deployments.definitions()
        assert "cannot be read" in deployments.failures["garbled"]
        record = await deployments.save_function("garbled", {**SPEC, "functionName": "garbled"},
                                                 code_saying("mended"), create=False)
        assert uuid.UUID(record.functionId) and record.createdTime == record.lastModifiedTime != ""
        served = await deployments.definitions()
        assert served["garbled"].function_id == record.functionId and deployments.failures == {}
        # and the next update keeps both
        again = await deployments.save_function("garbled", {**SPEC, "functionName": "garbled"}, code_saying("x"),
                                                create=False)
        assert (again.functionId, again.createdTime) == (record.functionId, record.createdTime)

    with_redis(own_redis, body)


def test_a_process_starting_next_to_a_running_one_keeps_the_previous_version(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    """`fcemu dispatcher` started beside `fcemu serve` on one data folder: the serving process's draining
    instances may still have the superseded version mounted."""
    data_dir = tmp_path / "data"

    async def body(redis: Redis) -> None:
        running = Deployments(redis, data_dir)
        for version in range(4):
            await running.save_function("f", SPEC, code_saying(f"v{version}"), create=version == 0)
            await running.definitions()
        assert len(_versions(data_dir, "f")) == 2
        previous = _versions(data_dir, "f")

        starting = Deployments(redis, data_dir)
        assert _serves((await starting.definitions())["f"], "v3")
        assert _versions(data_dir, "f") == previous, "the current version and the one before it"

    with_redis(own_redis, body)
