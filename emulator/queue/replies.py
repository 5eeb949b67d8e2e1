"""A command's reply on redis-py's asyncio client, typed as it is.

redis-py's sync and asyncio clients share their command methods, so its types give each reply as
`Awaitable[T] | T`, which a type checker will not await. On the asyncio client it is always the awaitable:
`await reply(redis.hget(...))` says so in one place. A plain function, not a coroutine: it costs one call.
"""
from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar, cast

T = TypeVar("T")


def reply(answer: Awaitable[T] | T) -> Awaitable[T]:
    return cast("Awaitable[T]", answer)
