"""The advanced clock never passes the year 9999, however the advances add up: checked against a real
redis-server (the check and the advance are one script), and through `fcemu serve`'s advance route."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import requests
from redis.asyncio import Redis

from emulator.queue.clock_offset import CLOCK_END_MS, MAX_ADVANCE_S, ClockLimitError, ClockOffset
from emulator.redis_io.keys import CLOCK_KEY
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer

DAY_MS = 86_400_000


async def _now_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return seconds * 1000 + micros // 1000


async def _place_days_before_the_end(redis: Redis, days: int) -> None:
    """Sets the offset so that the advanced clock is `days` days before it ends."""
    await redis.set(CLOCK_KEY, CLOCK_END_MS - days * DAY_MS - await _now_ms(redis))


def test_repeated_advances_stop_short_of_the_year_10000(own_redis: RedisServer) -> None:
    async def body() -> None:
        redis = Redis.from_url(own_redis.url)
        clock = ClockOffset(redis)
        try:
            await _place_days_before_the_end(redis, 3 * 366)
            advanced = 0
            with pytest.raises(ClockLimitError, match="past the year 9999"):
                for _ in range(4):
                    await clock.advance(MAX_ADVANCE_S * 1000)  # each a largest single advance, allowed alone
                    advanced += 1
            assert advanced == 2
            assert await _now_ms(redis) + int(await redis.get(CLOCK_KEY)) < CLOCK_END_MS
        finally:
            await redis.aclose()

    asyncio.run(body())


def test_two_concurrent_advances_do_not_together_pass_the_end(own_redis: RedisServer) -> None:
    async def body() -> None:
        redis, other = Redis.from_url(own_redis.url), Redis.from_url(own_redis.url)
        try:
            await _place_days_before_the_end(redis, 10)
            before = int(await redis.get(CLOCK_KEY))
            # Each fits alone (6 of the 10 days left); both would not.
            outcomes = await asyncio.gather(ClockOffset(redis).advance(6 * DAY_MS),
                                            ClockOffset(other).advance(6 * DAY_MS), return_exceptions=True)
            refused = [outcome for outcome in outcomes if isinstance(outcome, ClockLimitError)]
            assert len(refused) == 1, outcomes
            assert int(await redis.get(CLOCK_KEY)) == before + 6 * DAY_MS
        finally:
            await redis.aclose()
            await other.aclose()

    asyncio.run(body())


def test_the_advance_route_refuses_a_sum_past_the_end_with_an_fc_error(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer
) -> None:
    process = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    try:
        async def place() -> None:
            redis = Redis.from_url(own_redis.url)
            await _place_days_before_the_end(redis, 2)
            await redis.aclose()

        asyncio.run(place())
        before = requests.get(f"{process.url}/_fcemu/clock", timeout=10).json()["offsetMs"]
        reply = requests.post(f"{process.url}/_fcemu/clock/advance", json={"by": "3d"}, timeout=10)
        assert reply.status_code == 400, reply.text
        error = reply.json()
        assert error["Code"] == "InvalidArgument" and "year 9999" in error["Message"], error
        assert error["RequestId"] == reply.headers["x-fc-request-id"]
        assert requests.get(f"{process.url}/_fcemu/clock", timeout=10).json()["offsetMs"] == before
        assert requests.post(f"{process.url}/_fcemu/clock/advance", json={"by": "1d"}, timeout=10).status_code == 200
    finally:
        process.stop()
