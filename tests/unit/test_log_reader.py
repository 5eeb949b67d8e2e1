"""Reading kept function log lines back, against a real redis-server: a listing reads at most its byte budget,
newest lines first, keeps the lines' order, and says when older ones were left out."""
from __future__ import annotations

import asyncio
import json
import uuid

from redis.asyncio import Redis

from emulator.logs.reader import PAGE_LINES, LogFilter, LogReader
from emulator.redis_io import keys
from tests.support.redis_server import RedisServer


async def keep(redis: Redis, function: str, stream: str, first_ms: int, count: int, size: int = 100) -> None:
    """`count` lines of `stream`, one a millisecond from `first_ms`, as the log writer keeps them."""
    lines = [json.dumps({"timestamp": first_ms + n, "functionName": function, "requestId": stream, "taskId": "",
                         "instanceId": "i", "message": f"{stream}:{n}".ljust(size, ".")}) for n in range(count)]
    await redis.rpush(keys.log_lines_key(stream), *lines)
    await redis.zadd(keys.log_function_index(function), {stream: first_ms})


def test_a_listing_keeps_the_newest_lines_that_fit_and_says_older_ones_were_left_out(
    redis_server: RedisServer
) -> None:
    async def run() -> None:
        redis = Redis.from_url(redis_server.url)
        function = f"fn-{uuid.uuid4().hex[:8]}"
        streams = [f"{function}-{n}" for n in range(3)]
        count = PAGE_LINES + 6  # more than a page: read in two
        try:
            for n, stream in enumerate(streams):
                await keep(redis, function, stream, n * 1000, count)
            reader = LogReader(redis)
            size = len(await redis.lindex(keys.log_lines_key(streams[2]), 0))  # as long as each line of the last two
            everything = await reader.lines(LogFilter(function=function))
            assert not everything.truncated
            assert [e["message"].rstrip(".") for e in everything.entries] == [
                f"{stream}:{n}" for stream in streams for n in range(count)]
            # Room for the newest stream and ten lines of the one before: the oldest is left out.
            some = await reader.lines(LogFilter(function=function), max_bytes=size * (count + 10) + size // 2)
            assert some.truncated
            assert [e["message"].rstrip(".") for e in some.entries] == [
                *(f"{streams[1]}:{n}" for n in range(count - 10, count)), *(f"{streams[2]}:{n}" for n in range(count))]
        finally:
            await redis.aclose()

    asyncio.run(run())
