"""Lua scripts on Redis: called by SHA (EVALSHA), loaded into Redis when it does not know them."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError


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
