"""FC's list paging: `limit` and an opaque `nextToken`, which fcemu makes the offset of the next item."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from emulator.api.errors import FCError
from emulator.api.numbers import whole_number

Item = TypeVar("Item")


# Far beyond any listing fcemu holds; a token above it is not one fcemu handed out.
MAX_OFFSET = 2**31 - 1


def offset_of(next_token: str | None) -> int:
    if not next_token:
        return 0
    offset = whole_number(next_token, MAX_OFFSET)
    if offset is None or offset > MAX_OFFSET:
        shown = next_token if len(next_token) <= 64 else next_token[:64] + "..."
        raise FCError(400, "InvalidArgument",
                      f"nextToken '{shown}' is not valid: pass the nextToken of the previous page")
    return offset


def page(items: Sequence[Item], limit: int, next_token: str | None) -> tuple[list[Item], str | None]:
    """One page of items and the token of the next page (None on the last one)."""
    start = offset_of(next_token)
    end = start + limit
    return list(items[start:end]), (str(end) if end < len(items) else None)
