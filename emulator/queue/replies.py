"""A command's reply on redis-py's clients, typed as it is.

Before redis-py 6 or so, its sync and asyncio clients share their command methods' types, which give each reply
as `Awaitable[T] | T`: a type checker will neither await it nor use it as a T. On the asyncio client it is always
the awaitable (`await reply(redis.hget(...))`), on the blocking client always the value
(`sync_reply(client.zrange(...))`); later redis-py types them so, and these pass them through. Plain functions:
each costs one call.
"""
from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar, cast, overload

T = TypeVar("T")


@overload
def reply(answer: Awaitable[T]) -> Awaitable[T]: ...
@overload
def reply(answer: Awaitable[T] | T) -> Awaitable[T]: ...
def reply(answer: object) -> object:
    return answer


def sync_reply(answer: Awaitable[Any] | T) -> T:
    return cast("T", answer)
