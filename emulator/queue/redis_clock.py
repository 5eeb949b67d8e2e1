"""Redis's clock as seen from here: due times are Redis time, so timers are set against it, not the host's."""
from __future__ import annotations

import time

from redis.asyncio import Redis

from emulator.queue.clock_offset import ClockOffset


class RedisClock:
    """Redis's wall clock anchored to the host's monotonic clock. The anchor goes stale when Redis's clock
    steps (NTP, a suspended and resumed host: the monotonic clock does not count the suspension), so every
    loop that sleeps on it re-anchors when it wakes."""

    def __init__(self, advanced: ClockOffset | None = None) -> None:
        self._offset_ms = 0.0
        self._advanced = advanced

    def observe(self, redis_now_ms: int) -> None:
        """Re-anchors on a Redis time a script just returned (late by half a round trip: ~0.1 ms here)."""
        self._offset_ms = redis_now_ms - time.monotonic() * 1000

    async def sync(self, redis: Redis) -> None:
        """Re-anchors on Redis's TIME (one round trip)."""
        seconds, micros = await redis.time()
        self.observe(seconds * 1000 + micros // 1000)

    def now_ms(self) -> float:
        return time.monotonic() * 1000 + self._offset_ms

    def seconds_until(self, redis_ms: int) -> float:
        return max(0.0, (redis_ms - self.now_ms()) / 1000)

    def virtual_now_ms(self) -> float:
        """Redis's time plus `fcemu clock advance`'s offset: the clock of due times, backoff and timers."""
        return self.now_ms() + (self._advanced.ms if self._advanced is not None else 0)

    def seconds_until_virtual(self, virtual_ms: int) -> float:
        return max(0.0, (virtual_ms - self.virtual_now_ms()) / 1000)
