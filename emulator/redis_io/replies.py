"""A command's reply on redis-py's clients, typed as it is.

redis-py 5's sync and asyncio clients share their command methods' types, which give each reply as
`Awaitable[T] | T`: a type checker will neither await it nor use it as a T. On the asyncio client it is always the
awaitable (`await reply(redis.hget(...))`), on the blocking client always the value
(`sync_reply(client.zrange(...))`); redis-py 8 types them so, and these pass its types through. fcemu runs (and
`make lint` checks) with either. Plain functions that return what they are given: each costs one call.
"""
from __future__ import annotations

from collections.abc import Awaitable, Sequence
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


@overload
def as_bytes(value: bytes | str) -> bytes: ...
@overload
def as_bytes(value: bytes | str | None) -> bytes | None: ...
def as_bytes(value: object) -> object:
    """A string in a reply, as the bytes it is: fcemu's clients never decode replies (no decode_responses), which
    redis-py 8's types cannot know (`bytes | str`). A plain function: nothing is converted."""
    return value


def zrange_members(answer: Sequence[Any]) -> list[bytes]:
    """ZRANGE's answer without WITHSCORES: the members, as bytes (see as_bytes). redis-py 8 types it as any of the
    forms the command's options give. Nothing is converted."""
    return cast("list[bytes]", answer)
