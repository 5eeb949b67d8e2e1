"""Tells throttled async tasks so: due tasks of a function that FC's concurrency limits hold back get, once, an
event in their timeline saying so (FC retries such a task without counting an attempt; fcemu runs it as soon as
a slot frees up). The dispatcher calls this; the limits themselves are the pools' (pool/concurrency.py)."""
from __future__ import annotations

from emulator.queue.store import TaskStore
from emulator.redis_io.keys import ShardKeys
from emulator.redis_io.lua import load_script
from emulator.redis_io.replies import zrange_members

# The first due tasks looked at per call: those that run first; later ones are marked as they come forward.
MARK_BATCH = 50


class ThrottleMarks:
    def __init__(self, store: TaskStore) -> None:
        self._store = store
        self._script = load_script(store.redis, __file__, "throttle", prelude="common")

    async def mark(self, shard: ShardKeys, function: str, detail: str) -> int:
        """Marks the function's due tasks in `shard` not marked yet; returns how many."""
        due = await self._store.redis.zrange(shard.due(function), 0, MARK_BATCH - 1)
        members = [member.decode() for member in zrange_members(due)]
        if not members:
            return 0
        keys = [key for member in members for key in (shard.task(member), shard.events(member))]
        return int(await self._script(keys=[shard.due(function), *keys],
                                      args=[self._store.clock.ms, detail, *members]))
