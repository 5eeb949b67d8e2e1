"""Functions whose invocation is disabled (FC 3.0's DisableFunctionInvocation and EnableFunctionInvocation), kept in
Redis and mirrored by every process, so that refusing an invoke costs no Redis call."""
from __future__ import annotations

from pydantic import BaseModel
from redis.asyncio import Redis

from emulator.catalog.shared_hash import Listener, SharedHash
from emulator.redis_io.keys import INVOCATION_RESTRICTIONS_CHANGED_CHANNEL, INVOCATION_RESTRICTIONS_KEY
from emulator.timestamps import iso_utc


class InvocationRestriction(BaseModel):
    """FC's `invocationRestriction` of a function (GetFunction), and whether its disabling stopped what ran."""

    disable: bool
    reason: str = ""
    lastModifiedTime: str
    # Kept with the record so that every process knows, when it hears of the change, whether to stop the
    # invocations running on its instances or let them finish.
    abortOngoingRequest: bool = False


class InvocationRestrictions:
    def __init__(self, redis: Redis) -> None:
        self._hash = SharedHash(redis, INVOCATION_RESTRICTIONS_KEY, INVOCATION_RESTRICTIONS_CHANGED_CHANNEL,
                                InvocationRestriction)

    def on_change(self, listener: Listener) -> None:
        """`listener` is awaited with the functions whose restriction changed, here or in another process."""
        self._hash.on_change(listener)

    async def start(self) -> None:
        await self._hash.start()

    async def close(self) -> None:
        await self._hash.close()

    def get(self, function: str) -> InvocationRestriction | None:
        return self._hash.get(function)

    def disabled(self, function: str) -> bool:
        restriction = self._hash.get(function)
        return restriction is not None and restriction.disable

    async def disable(self, function: str, reason: str, abort: bool) -> InvocationRestriction:
        restriction = InvocationRestriction(disable=True, reason=reason, lastModifiedTime=iso_utc(),
                                            abortOngoingRequest=abort)
        await self._hash.put(function, restriction)
        return restriction

    async def enable(self, function: str) -> InvocationRestriction:
        """Kept as `disable: false` (GetFunction still shows when it changed), as an FC user reads it."""
        restriction = InvocationRestriction(disable=False, lastModifiedTime=iso_utc())
        await self._hash.put(function, restriction)
        return restriction

    async def forget(self, function: str) -> int:
        """A deleted function's restriction goes with it (a function created later under its name is enabled)."""
        return await self._hash.delete(function) if self._hash.get(function) is not None else 0
