"""arq beside fcemu: its enqueue rate and the lateness of its deferred jobs with `pending` jobs waiting.

The same shape as fcemu's own measures: `pending` jobs deferred an hour (so that they stay pending) enqueued by 16
concurrent clients (fcemu's HTTP accept measure uses 16 connections), then `count` jobs due 1-5 s ahead, enqueued
15 ms apart, run by an arq Worker with its default settings; lateness = the job function's start minus its due
time (arq's own `score`). arq finds due jobs by polling its queue every `poll_delay` (0.5 s by default), so its
lateness is spread over that interval.
"""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from arq import Worker, create_pool
from arq.connections import RedisSettings

from tests.benchmarks.peers import QueuePeer

# Its own database on the bench's Redis, so that its keys never meet fcemu's.
DATABASE = 1
CONCURRENCY = 16


def _settings(redis_url: str) -> RedisSettings:
    parsed = urlparse(redis_url)
    return RedisSettings(host=parsed.hostname or "127.0.0.1", port=parsed.port or 6379, database=DATABASE)


async def _enqueue_pending(redis: Any, pending: int) -> float:
    remaining = iter(range(pending))

    async def client() -> None:
        for _ in remaining:
            await redis.enqueue_job("noop", _defer_by=timedelta(hours=1))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return pending / (time.perf_counter() - started)


async def _measure(redis_url: str, pending: int, count: int) -> QueuePeer:
    settings = _settings(redis_url)
    redis = await create_pool(settings)
    await redis.flushdb()
    lateness: list[float] = []
    done = asyncio.Event()

    async def noop(ctx: dict[str, Any]) -> None:
        lateness.append(time.time() * 1000 - ctx["score"])
        if len(lateness) == count:
            done.set()

    noop.__qualname__ = noop.__name__ = "noop"
    try:
        rate = await _enqueue_pending(redis, pending)
        worker = Worker(functions=[noop], redis_settings=settings, handle_signals=False)
        poll_delay = worker.poll_delay_s
        running = asyncio.create_task(worker.main())
        try:
            for index in range(count):
                await redis.enqueue_job("noop", _defer_by=timedelta(seconds=1 + index % 5))
                await asyncio.sleep(0.015)  # spreads due times as real traffic's (load shaping, as fcemu's run)
            await asyncio.wait_for(done.wait(), timeout=60)
            await asyncio.gather(*worker.tasks.values(), return_exceptions=True)  # the last job's finish
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await worker.pool.aclose()
        await redis.flushdb()
    finally:
        await redis.aclose()
    return QueuePeer("arq", f"arq default Worker, poll_delay {poll_delay:g} s", rate, lateness)


def measure(redis_url: str, pending: int, count: int) -> QueuePeer:
    return asyncio.run(_measure(redis_url, pending, count))
