"""The queue's Lua scripts, loaded from lua/ with the shared fragment prepended; called by SHA."""
from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

LUA_DIR = Path(__file__).parent / "lua"
SCRIPT_NAMES = (
    "enqueue", "claim", "start", "finish", "reap", "requeue", "stop", "claim_deliveries", "delivery_done",
)


class QueueScripts:
    """One registered script per queue transition; redis-py sends EVALSHA and reloads on NOSCRIPT."""

    def __init__(self, redis: Redis) -> None:
        common = (LUA_DIR / "common.lua").read_text()
        scripts = {name: redis.register_script(common + (LUA_DIR / f"{name}.lua").read_text()) for name in SCRIPT_NAMES}
        self.enqueue: AsyncScript = scripts["enqueue"]
        self.claim: AsyncScript = scripts["claim"]
        self.start: AsyncScript = scripts["start"]
        self.finish: AsyncScript = scripts["finish"]
        self.reap: AsyncScript = scripts["reap"]
        self.requeue: AsyncScript = scripts["requeue"]
        self.stop: AsyncScript = scripts["stop"]
        self.claim_deliveries: AsyncScript = scripts["claim_deliveries"]
        self.delivery_done: AsyncScript = scripts["delivery_done"]
