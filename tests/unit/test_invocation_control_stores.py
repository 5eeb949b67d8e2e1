"""The invocation restrictions and provision configs, as two processes sharing one real redis-server see them: a
change made by one is stored, announced, and heard by the other, with the fields that changed."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from emulator.catalog.invocation_restrictions import InvocationRestrictions
from emulator.catalog.provision_configs import ProvisionConfigs, StoredProvisionConfig
from tests.support.redis_server import RedisServer

# A guard against a hang, not a measure of speed.
HEARD_TIMEOUT_S = 10


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


class Heard:
    """What a store's listener was told, awaited rather than polled."""

    def __init__(self) -> None:
        self.changes: list[set[str]] = []
        self._event = asyncio.Event()

    async def __call__(self, fields: set[str]) -> None:
        self.changes.append(fields)
        self._event.set()

    async def next(self) -> set[str]:
        while not self.changes:
            self._event.clear()
            await asyncio.wait_for(self._event.wait(), HEARD_TIMEOUT_S)
        return self.changes.pop(0)


def test_a_disabling_is_heard_by_every_process(own_redis: RedisServer) -> None:
    async def scenario() -> None:
        clients = [Redis.from_url(own_redis.url), Redis.from_url(own_redis.url)]
        here, there = InvocationRestrictions(clients[0]), InvocationRestrictions(clients[1])
        heard = Heard()
        there.on_change(heard)
        try:
            await here.start()
            await there.start()
            await here.disable("fn", "maintenance", abort=True)
            assert here.disabled("fn"), "the process that disabled it knows at once"
            assert await heard.next() == {"fn"}
            restriction = there.get("fn")
            assert restriction is not None
            assert (restriction.disable, restriction.reason, restriction.abortOngoingRequest) == (
                True, "maintenance", True)

            await here.enable("fn")
            assert await heard.next() == {"fn"}
            assert not there.disabled("fn") and there.get("fn") is not None, "an enabled function keeps its record"

            assert await here.forget("fn") == 1
            assert await heard.next() == {"fn"}
            assert there.get("fn") is None
            # A process started later reads what is stored.
            await here.disable("other", "", abort=False)
            clients.append(Redis.from_url(own_redis.url))
            later = InvocationRestrictions(clients[-1])
            await later.start()
            assert later.disabled("other")
            await later.close()
        finally:
            for store in (here, there):
                await store.close()
            for client in clients:
                await client.aclose()

    asyncio.run(scenario())


def test_provision_configs_are_shared_per_qualifier_and_go_with_their_function(own_redis: RedisServer) -> None:
    async def scenario() -> None:
        clients = [Redis.from_url(own_redis.url), Redis.from_url(own_redis.url)]
        here, there = ProvisionConfigs(clients[0]), ProvisionConfigs(clients[1])
        heard = Heard()
        there.on_change(heard)
        try:
            await here.start()
            await there.start()
            stored = await here.put("fn", "LATEST", StoredProvisionConfig(defaultTarget=2, alwaysAllocateCPU=False))
            assert stored.lastModifiedTime
            assert await heard.next() == {"fn:LATEST"}
            assert there.target("fn", "LATEST") == 2 and there.target("fn", "prod") == 0
            await here.put("fn", "prod", StoredProvisionConfig(defaultTarget=1))
            assert await heard.next() == {"fn:prod"}
            assert [(f, q, c.defaultTarget) for f, q, c in there.entries(["fn", "other"])] == [
                ("fn", "LATEST", 2), ("fn", "prod", 1)]

            assert await here.delete("fn", "prod")
            assert not await here.delete("fn", "prod"), "a second delete finds nothing"
            assert await heard.next() == {"fn:prod"}
            assert await here.forget("fn") == 1
            assert await heard.next() == {"fn:LATEST"}
            assert there.entries(["fn"]) == []
        finally:
            for store in (here, there):
                await store.close()
            for client in clients:
                await client.aclose()

    asyncio.run(scenario())
