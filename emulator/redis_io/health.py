"""Redis outages, noticed once per process: the first failure logs one line, one probe waits for Redis to answer
again and logs one more, and every loop and request in between fails or waits without a word.

An outage is Redis not answering (killed, restarting, loading its AOF): redis-py's ConnectionError (which
BusyLoadingError is) and TimeoutError. An error Redis answers with (a ResponseError) is not one.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref

from redis.asyncio import Redis
from redis.exceptions import ConnectionError, RedisError, TimeoutError

from emulator.redis_io.keys import PROBE_KEY

log = logging.getLogger(__name__)

PROBE_INTERVAL_S = 0.5


def is_outage(error: BaseException) -> bool:
    return isinstance(error, (ConnectionError, TimeoutError))


class RedisHealth:
    """The outage state of one Redis client; get it with `redis_health(client)`."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._back = asyncio.Event()
        self._back.set()
        self._down_since = 0.0
        self._probe: asyncio.Task[None] | None = None

    @property
    def down(self) -> bool:
        return not self._back.is_set()

    def failed(self, error: RedisError, where: str) -> None:
        """Notes an outage seen by `where`; only the first one of an outage is logged."""
        if self.down:
            return
        self._back.clear()
        self._down_since = time.monotonic()
        log.warning("Redis is unavailable (%s, seen by %s): requests that need it answer 503 and background work "
                    "waits until it is back", describe(error), where)
        self._probe = asyncio.create_task(self._wait_for_redis(), name="redis probe")

    async def wait_until_back(self) -> None:
        await self._back.wait()

    async def _wait_for_redis(self) -> None:
        # Whatever happens here, the waiting loops are let go in the end: a probe that died would leave every
        # loop of the process waiting for good.
        try:
            while True:
                try:
                    await self._redis.exists(PROBE_KEY)
                    break
                except RedisError:
                    await asyncio.sleep(PROBE_INTERVAL_S)
            # Idle pooled connections still hold sockets of the Redis that went away; the loops about to resume
            # would each meet one and count a second outage.
            try:
                # A cluster client has a pool per node and renews a node's connections on its own.
                pool = getattr(self._redis, "connection_pool", None)
                if pool is not None:
                    await pool.disconnect(inuse_connections=False)
            except (RedisError, OSError) as error:
                log.info("dropping stale Redis connections: %s", describe(error))
            log.info("Redis is available again after %.1f s", time.monotonic() - self._down_since)
        finally:
            self._probe = None
            self._back.set()

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


_healths: weakref.WeakKeyDictionary[Redis, RedisHealth] = weakref.WeakKeyDictionary()


def redis_health(redis: Redis) -> RedisHealth:
    """The one RedisHealth of this client, shared by the API and every loop that uses the client."""
    health = _healths.get(redis)
    if health is None:
        health = _healths[redis] = RedisHealth(redis)
    return health
