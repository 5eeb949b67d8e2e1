"""The emulator's clock offset: how far `fcemu clock advance` has moved due times, backoff, max event age and
timers ahead of Redis's clock. Leases stay on Redis's own clock, so an advance never makes a running task look
abandoned. The offset lives in one Redis key shared by every process; each process keeps a copy, re-read when
the change is published, and passes it into the queue's scripts (they never read a global key themselves: every
key a script touches carries its shard's hash tag)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

from redis.asyncio import Redis

from emulator.redis_io.keys import CLOCK_CHANNEL, CLOCK_KEY
from emulator.redis_io.lua import load_script
from emulator.redis_io.resilience import keep_running, on_each_message

log = logging.getLogger(__name__)

# One advance may not exceed a year: far beyond FC's longest wait (maxAsyncEventAgeInSeconds: 7 days).
MAX_ADVANCE_S = 366 * 86_400
# The advanced clock stays before this moment (ms): Python's datetime, and with it every time fcemu writes in
# FC's format, ends with the year 9999. Advances that would together reach it are refused.
CLOCK_END_MS = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()) * 1000 + 1000

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


class ClockError(ValueError):
    """A duration the clock cannot be advanced by; the message names what is wrong."""


def parse_duration(text: str) -> float:
    """'30s', '15m', '1h', '2d' (or plain seconds) as seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ClockError(f"'{text}' is not a duration: use a number with s, m, h or d (e.g. 30s, 15m, 1h, 2d)")
    return float(match.group(1)) * _UNITS_S[match.group(2) or "s"]


def advance_ms(seconds: float) -> int:
    """Checks an advance: positive (the clock never goes back) and at most MAX_ADVANCE_S."""
    if not seconds > 0:
        raise ClockError(f"the clock only moves forward: {seconds:g} seconds is not a positive duration")
    if seconds > MAX_ADVANCE_S:
        raise ClockError(f"{seconds:g} seconds is more than one advance may move the clock ({MAX_ADVANCE_S} s)")
    milliseconds = round(seconds * 1000)
    if milliseconds < 1:
        raise ClockError(f"{seconds:g} seconds is less than the clock's resolution (1 ms)")
    return milliseconds


class ClockLimitError(ClockError):
    """An advance that would take the advanced clock past the year 9999."""


class ClockOffset:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._advance = load_script(redis, __file__, "advance_clock")
        self.ms = 0
        self._listeners: list[Callable[[], None]] = []
        self._follower: asyncio.Task[None] | None = None

    def on_change(self, listener: Callable[[], None]) -> None:
        """`listener` runs (in the event loop, without awaiting) whenever this process sees the offset change."""
        self._listeners.append(listener)

    def _observe(self, offset_ms: int) -> None:
        # Redis holds the truth, even when it went down (a Redis started again empty is a reset clock): a copy
        # kept higher would expire every task another process enqueues after the reset. A read that raced an
        # advance is put right by the advance's own message, which makes every process read again.
        if offset_ms == self.ms:
            return
        self.ms = offset_ms
        for listener in self._listeners:
            try:
                listener()
            except Exception:
                log.exception("a clock listener failed")

    async def load(self) -> int:
        value = await self._redis.get(CLOCK_KEY)
        self._observe(int(value or 0))
        return self.ms

    async def advance(self, offset_ms: int) -> int:
        """Moves the shared clock forward (checked by advance_ms) and tells every process; returns the offset.
        ClockLimitError, and the clock unmoved, when the advanced clock would reach CLOCK_END_MS."""
        moved, total, *room = await self._advance([CLOCK_KEY], [offset_ms, CLOCK_END_MS])
        if not moved:
            self._observe(int(total))
            raise ClockLimitError(
                f"advancing by {offset_ms / 1000:g} seconds would take the clock past the year 9999; it may move at "
                f"most {int(room[0]) // 1000} seconds more")
        total = int(total)
        self._observe(total)
        await self._redis.publish(CLOCK_CHANNEL, str(total))
        return total

    async def start(self) -> None:
        await self.load()
        self._follower = asyncio.create_task(keep_running(self.follow, "clock", self._redis), name="clock")

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower

    async def follow(self) -> None:
        """Re-reads the offset on every published change (and once subscribed); run it under keep_running."""
        await on_each_message(self._redis, CLOCK_CHANNEL, self._reload)

    async def _reload(self) -> None:
        await self.load()
