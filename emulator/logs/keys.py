"""Redis key names of the function logs. One invocation's lines sit under its own hash tag, so that they stay
in one slot of a Redis Cluster; the indexes are one key each."""
from __future__ import annotations

PREFIX = "fcemu"
# Every kept line is published here too (its JSON entry), for follow mode.
LOG_CHANNEL = f"{PREFIX}:logs"
RECENT_INDEX = f"{PREFIX}:logs:recent"
INSTANCE_PREFIX = "instance:"


def lines_key(stream_id: str) -> str:
    """A request's lines, or (for INSTANCE_PREFIX + id) an instance's lines that belong to no request."""
    return f"{PREFIX}:{{log:{stream_id}}}:lines"


def function_index(function: str) -> str:
    """A function's streams (request ids, instance streams) by when their first line came (ms)."""
    return f"{PREFIX}:logs:of:{function}"


def task_key(function: str, task_id: str) -> str:
    """The request id of an async task (tasks ids are unique per function, as FC's are)."""
    return f"{PREFIX}:logs:task:{function}/{task_id}"
