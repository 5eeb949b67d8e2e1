"""The hub that shares one channel subscription among a process's listeners, against a real redis-server: one
subscription however many listen, given back (connection and all) when the last leaves, a slow listener bounded."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import BlockingConnectionPool, Redis

from emulator.queue.channel_hub import GAP, ChannelHub
from tests.support.emulator_process import free_port
from tests.support.redis_server import RedisServer

CHANNEL = "test:hub"
# Guards against a hang, not measures of speed.
GUARD_S = 10


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def text(data: bytes | str) -> str | None:
    return data.decode() if isinstance(data, bytes) else data


def run(url: str, scenario: Callable[[Redis, Redis], Awaitable[None]], max_connections: int = 8) -> None:
    """Runs `scenario(client of the hub, a client of the test's own)`, both closed after it."""
    async def main() -> None:
        redis = Redis.from_pool(BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=GUARD_S))
        probe = Redis.from_url(url)
        try:
            async with asyncio.timeout(GUARD_S * 3):
                await scenario(redis, probe)
        finally:
            await redis.aclose()
            await probe.aclose()

    asyncio.run(main())


async def subscribers(probe: Redis) -> int:
    [(_, count)] = await probe.pubsub_numsub(CHANNEL)
    return int(count)


async def until_unsubscribed(probe: Redis) -> None:
    # A subscription's end has no event of its own to await.
    while await subscribers(probe):
        await asyncio.sleep(0.02)


def test_many_listeners_share_one_subscription_given_back_with_the_last(own_redis: RedisServer) -> None:
    async def scenario(redis: Redis, probe: Redis) -> None:
        hub = ChannelHub(redis, CHANNEL, text, name="test", backlog=10)
        listeners = [await hub.join() for _ in range(50)]
        assert hub.subscribed and await subscribers(probe) == 1
        await probe.publish(CHANNEL, "one")
        assert [await listener.next(GUARD_S) for listener in listeners] == ["one"] * 50
        for listener in listeners:
            hub.leave(listener)
        await until_unsubscribed(probe)
        # Its only connection is back in the pool: a command gets it at once.
        assert await redis.ping()
        again = await hub.join()
        assert await subscribers(probe) == 1
        hub.leave(again)
        await hub.close()
        assert await subscribers(probe) == 0

    run(own_redis.url, scenario, max_connections=1)


def test_a_listener_that_falls_behind_is_told_and_bounded_while_others_get_everything(
    own_redis: RedisServer
) -> None:
    async def scenario(redis: Redis, probe: Redis) -> None:
        hub = ChannelHub(redis, CHANNEL, text, name="test", backlog=3)
        slow = await hub.join()
        fast = await hub.join()
        even = await hub.join(lambda item: int(item) % 2 == 0)
        got: list[str | object | None] = []
        for n in range(6):
            await probe.publish(CHANNEL, str(n))
            got.append(await fast.next(GUARD_S))
        assert got == [str(n) for n in range(6)]
        # The slow one kept no more than its backlog: what it missed is one gap, then it goes on.
        assert slow.queue.qsize() == 1 and await slow.next(GUARD_S) is GAP
        # A listener's filter applies before its backlog: the items it does not take fill nothing.
        assert [await even.next(GUARD_S) for _ in range(3)] == ["0", "2", "4"]
        await probe.publish(CHANNEL, "6")
        assert await slow.next(GUARD_S) == "6" and await even.next(GUARD_S) == "6"
        await hub.close()

    run(own_redis.url, scenario)


def test_a_listener_cancelled_while_waiting_leaves_and_the_subscription_goes(own_redis: RedisServer) -> None:
    async def scenario(redis: Redis, probe: Redis) -> None:
        hub = ChannelHub(redis, CHANNEL, text, name="test", backlog=3)

        async def listen() -> None:
            listener = await hub.join()
            try:
                while True:
                    await listener.next(GUARD_S)
            finally:
                hub.leave(listener)

        task = asyncio.create_task(listen())
        while await subscribers(probe) == 0:
            await asyncio.sleep(0.02)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert hub.listeners == 0
        await until_unsubscribed(probe)
        assert await redis.ping()
        await hub.close()

    run(own_redis.url, scenario, max_connections=1)


def test_joining_while_redis_is_away_says_so_without_waiting_for_it() -> None:
    async def scenario(redis: Redis, _: Redis) -> None:
        hub = ChannelHub(redis, CHANNEL, text, name="test", backlog=3)
        listener = await hub.join()
        assert not hub.subscribed
        hub.leave(listener)
        await hub.close()

    async def main() -> None:
        url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        redis = Redis.from_url(url)
        try:
            async with asyncio.timeout(GUARD_S):
                await scenario(redis, redis)
        finally:
            await redis.aclose()

    asyncio.run(main())
