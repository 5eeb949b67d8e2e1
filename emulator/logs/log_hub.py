"""The log channel as followers listen to it: one subscription per process (a ChannelHub), each published line
parsed back into its JSON entry."""
from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from emulator.queue.channel_hub import ChannelHub
from emulator.redis_io import keys

# Lines a follower may fall behind by; past it, its stream ends (see api/log_routes.py) rather than the process
# buffering without bound.
FOLLOWER_BACKLOG = 1000


def parse_entry(data: bytes | str) -> dict[str, Any] | None:
    try:
        entry = json.loads(data)
    except (ValueError, TypeError):
        return None  # not ours: one bad message must not end the follow
    return entry if isinstance(entry, dict) else None


def log_hub(redis: Redis) -> ChannelHub[dict[str, Any]]:
    return ChannelHub(redis, keys.LOG_CHANNEL, parse_entry, name="log followers", backlog=FOLLOWER_BACKLOG)
