"""The hub that shares one channel subscription among a process's listeners, against a real redis-server: one
subscription however many listen, given back (connection and all) when the last leaves, a slow listener bounded,
a silent (half-open) subscription replaced, a cancelled reader stopped whatever redis-py turns the cancellation into."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

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


class FreezingRelay:
    """A TCP relay to Redis whose open connections can be frozen: they stay open and carry nothing either way, as a
    half-open connection does (the peer gone without a word). Connections made after a freeze are relayed."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._frozen: list[bool] = []  # one flag per connection so far
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> FreezingRelay:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def freeze(self) -> None:
        self._frozen[:] = [True] * len(self._frozen)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _relay(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self._target_port)
        index = len(self._frozen)
        self._frozen.append(False)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                if not self._frozen[index]:
                    sink.write(data)
                    await sink.drain()
            sink.close()

        self._tasks.add(asyncio.create_task(pump(client_in, server_out)))
        self._tasks.add(asyncio.create_task(pump(server_in, client_out)))


def test_a_subscription_gone_silent_is_noticed_and_replaced(own_redis: RedisServer) -> None:
    async def main() -> None:
        relay = await FreezingRelay(own_redis.port).start()
        redis = Redis.from_url(f"redis://127.0.0.1:{relay.port}/0")
        probe = Redis.from_url(own_redis.url)
        try:
            async with asyncio.timeout(GUARD_S * 3):
                hub = ChannelHub(redis, CHANNEL, text, name="test", backlog=10, quiet_check_s=0.2, ping_wait_s=0.5)
                listener = await hub.join()
                assert hub.subscribed
                await probe.publish(CHANNEL, "one")
                assert await listener.next(GUARD_S) == "one"
                relay.freeze()
                await probe.publish(CHANNEL, "lost")
                # Unanswered PING: subscribed again on a new connection, and the listener told what it missed.
                assert await listener.next(GUARD_S) is GAP
                await probe.publish(CHANNEL, "two")
                assert await listener.next(GUARD_S) == "two"
                hub.leave(listener)
                await hub.close()
        finally:
            await redis.aclose()
            await probe.aclose()
            await relay.close()

    asyncio.run(main())


class CancellationAsConnectionError(PubSub):
    """What redis-py (and, on Python 3.11, asyncio.timeout) can make of a cancellation landing mid-read: an error
    like a lost connection, the task still marked as being cancelled. Only the first: a reader that swallowed it
    must not hang the test's end too."""

    turns_left = 0

    async def parse_response(self, block: bool = True, timeout: float = 0) -> object:
        try:
            return await super().parse_response(block, timeout)
        except asyncio.CancelledError as cancelled:
            if CancellationAsConnectionError.turns_left <= 0:
                raise
            CancellationAsConnectionError.turns_left -= 1
            raise RedisConnectionError("Connection closed by server.") from cancelled


class ClientTurningCancellations(Redis):
    def pubsub(self, **kwargs: object) -> PubSub:
        return CancellationAsConnectionError(self.connection_pool, **kwargs)  # type: ignore[arg-type]


def test_a_reader_cancelled_mid_read_stops_even_when_the_cancellation_reads_as_a_lost_connection(
    own_redis: RedisServer
) -> None:
    async def scenario(_: Redis, probe: Redis) -> None:
        redis = ClientTurningCancellations.from_url(own_redis.url)
        try:
            hub = ChannelHub(redis, CHANNEL, text, name="turned", backlog=3)
            listener = await hub.join()
            assert hub.subscribed
            [reader] = [task for task in asyncio.all_tasks() if task.get_name() == "turned"]
            CancellationAsConnectionError.turns_left = 1
            hub.leave(listener)
            # It stops rather than subscribing again for nobody.
            done, _ = await asyncio.wait({reader}, timeout=GUARD_S)
            assert reader in done and reader.cancelled()
            await until_unsubscribed(probe)
        finally:
            CancellationAsConnectionError.turns_left = 0
            await redis.aclose()

    run(own_redis.url, scenario)
