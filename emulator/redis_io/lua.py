"""The one loader of fcemu's Lua scripts: each script is a .lua file in the lua/ folder beside the module that runs
it, opening with a header that numbers its KEYS and ARGV; read here (after a prelude of shared helpers, for the
scripts that use one) and called by SHA (EVALSHA), loaded into Redis when it does not know it. Works on a Cluster
client alike: the client routes EVALSHA by the script's keys."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
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


def lua_source(module_file: str, name: str, prelude: str | None = None) -> str:
    """The text of lua/`name`.lua beside the module `module_file` (its __file__), after that of lua/`prelude`.lua
    when a prelude is named."""
    folder = Path(module_file).parent / "lua"
    source = (folder / f"{name}.lua").read_text()
    return (folder / f"{prelude}.lua").read_text() + source if prelude else source


def load_script(redis: Redis, module_file: str, name: str, *, prelude: str | None = None) -> Script:
    """The script lua/`name`.lua beside the module `module_file` (see lua_source), ready to call on `redis`."""
    return Script(redis, lua_source(module_file, name, prelude))
