"""A channel listener ends when it is cancelled, wherever the cancellation lands (real redis-server).

redis-py can lose a cancellation that lands while it subscribes; the listener then blocked in its next read for
ever, and a failed start-up, which cancels the listeners it had started, never exited."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from emulator.redis_io.resilience import keep_running, on_each_message
from tests.support.redis_server import RedisServer

# A guard against a hang, not a measure of speed.
END_TIMEOUT_S = 10


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.mark.parametrize("steps_before_cancel", range(8))
def test_a_listener_cancelled_while_it_subscribes_ends(own_redis: RedisServer, steps_before_cancel: int) -> None:
    async def scenario() -> bool:
        redis = Redis.from_url(own_redis.url)
        try:
            await redis.ping()

            async def nothing() -> None:
                pass

            listener = asyncio.create_task(keep_running(lambda: on_each_message(redis, "ch", nothing), "test", redis))
            for _ in range(steps_before_cancel):
                await asyncio.sleep(0)
            listener.cancel()
            done, _ = await asyncio.wait([listener], timeout=END_TIMEOUT_S)
            return listener in done
        finally:
            await redis.aclose()

    assert asyncio.run(scenario()), "the cancelled listener is still running"
