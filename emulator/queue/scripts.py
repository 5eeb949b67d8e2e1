"""The queue's Lua scripts, loaded from lua/ with the shared fragment (common.lua) prepended; called by SHA."""
from __future__ import annotations

from redis.asyncio import Redis

from emulator.redis_io.lua import Script, load_script


class QueueScripts:
    """One script per queue transition."""

    def __init__(self, redis: Redis) -> None:
        def load(name: str) -> Script:
            return load_script(redis, __file__, name, prelude="common")

        self.enqueue = load("enqueue")
        self.claim = load("claim")
        self.start = load("start")
        self.finish = load("finish")
        self.reap = load("reap")
        self.requeue = load("requeue")
        self.stop = load("stop")
        self.claim_deliveries = load("claim_deliveries")
        self.delivery_done = load("delivery_done")
        self.delete_function = load("delete_function")
        self.expire_orphans = load("expire_orphans")
        self.depth = load("depth")
        self.run_now = load("run_now")
        self.record_version = load("record_version")
