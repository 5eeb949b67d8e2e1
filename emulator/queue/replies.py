"""A command's reply on redis-py's clients, typed as it is.

redis-py's sync and asyncio clients share their command methods, so its types give each reply as
`Awaitable[T] | T`, which a type checker will neither await nor use as a T. On the asyncio client it is always
the awaitable (`await reply(redis.hget(...))`), on the blocking client always the value
(`sync_reply(client.zrange(...))`): each says so in one place. Plain functions: each costs one call.
"""
from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar, cast

T = TypeVar("T")


def reply(answer: Awaitable[T] | T) -> Awaitable[T]:
    return cast("Awaitable[T]", answer)


def sync_reply(answer: Awaitable[T] | T) -> T:
    return cast("T", answer)
