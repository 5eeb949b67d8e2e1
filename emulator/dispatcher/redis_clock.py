"""Redis's clock as seen from here: due times are Redis time, so timers are set against it, not the host's."""
from __future__ import annotations

import time


class RedisClock:
    def __init__(self) -> None:
        self._offset_ms = 0.0

    def observe(self, redis_now_ms: int) -> None:
        """Re-anchors on a Redis time a script just returned (late by half a round trip: ~0.1 ms here)."""
        self._offset_ms = redis_now_ms - time.monotonic() * 1000

    def now_ms(self) -> float:
        return time.monotonic() * 1000 + self._offset_ms

    def seconds_until(self, redis_ms: int) -> float:
        return max(0.0, (redis_ms - self.now_ms()) / 1000)
