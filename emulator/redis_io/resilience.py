"""Helpers for long-running loops: surviving Redis outages, and sleeping until an event or a deadline, both
without ever swallowing the loop's cancellation."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from emulator.redis_io.health import describe, is_outage, redis_health

log = logging.getLogger(__name__)

RETRY_S = 0.5
# An error Redis answers with (out of memory, a read-only replica...) may last: said at most this often per loop.
REPEAT_LOG_S = 60.0


async def keep_running(loop: Callable[[], Awaitable[None]], name: str, redis: Redis) -> None:
    """Runs `loop` until it returns; a Redis error restarts it: after an outage, once Redis answers again (the
    outage is logged once for the whole process, not per loop); after an error Redis answered with, after a
    pause. redis-py may turn a cancellation that lands mid-read into a connection error, so a cancelled task
    stops here instead of retrying."""
    health = redis_health(redis)
    logged_at: float | None = None
    while True:
        try:
            await loop()
            return
        except RedisError as error:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from error
            if is_outage(error):
                health.failed(error, name)
                await health.wait_until_back()
                continue
            now = time.monotonic()
            if logged_at is None or now - logged_at >= REPEAT_LOG_S:
                logged_at = now
                log.warning("Redis refused a command of %s (%s); retrying", name, describe(error))
            await asyncio.sleep(RETRY_S)


async def wait_for_event(event: asyncio.Event, timeout: float | None) -> None:
    """Waits until the event is set or `timeout` seconds pass (None: no limit; 0 or less: return at once).

    A timer sets the event rather than asyncio.timeout() cancelling the wait: on Python 3.11 a timeout that
    expires as the task is cancelled can turn the cancellation into a TimeoutError, and a loop that shrugs off
    timeouts would then never stop.
    """
    if timeout is not None and timeout <= 0:
        return
    timer = None if timeout is None else asyncio.get_running_loop().call_later(timeout, event.set)
    try:
        await event.wait()
    finally:
        if timer is not None:
            timer.cancel()


def _raise_if_cancelled() -> None:
    """redis-py can lose a cancellation that lands while it subscribes: the task goes on, marked as cancelling,
    and would block in its next read for ever (a failed start-up hung on this). Raise it here instead."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def on_each_message(redis: Redis, channel: str, handle: Callable[[], Awaitable[object]]) -> None:
    """Subscribes to a channel and awaits `handle` for every message; run it under keep_running."""
    pubsub = redis.pubsub()
    try:
        await pubsub.subscribe(channel)
        _raise_if_cancelled()
        await handle()  # whatever changed while not subscribed
        async for message in pubsub.listen():
            if message["type"] == "message":
                await handle()
            _raise_if_cancelled()
    finally:
        await pubsub.aclose()
