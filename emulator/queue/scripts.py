"""The queue's Lua scripts, loaded from lua/ with the shared fragment prepended; called by SHA."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

LUA_DIR = Path(__file__).parent / "lua"


class Script:
    """EVALSHA straight through the client, loading the script on NOSCRIPT (a restarted or flushed Redis).
    redis-py's own Script wrapper costs a protocol isinstance check and two argument copies per call, on the
    path every invocation takes at least twice."""

    def __init__(self, redis: Redis, source: str) -> None:
        self._redis = redis
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()  # the name EVALSHA knows it by

    async def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await self._redis.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await self._redis.script_load(self.source)
            return await self._redis.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)


class QueueScripts:
    """One script per queue transition."""

    def __init__(self, redis: Redis) -> None:
        common = (LUA_DIR / "common.lua").read_text()

        def load(name: str) -> Script:
            return Script(redis, common + (LUA_DIR / f"{name}.lua").read_text())

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
