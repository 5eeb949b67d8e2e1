"""FC's list paging: `limit` and an opaque `nextToken`, which fcemu makes the offset of the next item."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from emulator.api.errors import FCError

Item = TypeVar("Item")


def offset_of(next_token: str | None) -> int:
    if not next_token:
        return 0
    if not next_token.isdigit():
        raise FCError(400, "InvalidArgument", f"nextToken '{next_token}' is not valid")
    return int(next_token)


def page(items: Sequence[Item], limit: int, next_token: str | None) -> tuple[list[Item], str | None]:
    """One page of items and the token of the next page (None on the last one)."""
    start = offset_of(next_token)
    end = start + limit
    return list(items[start:end]), (str(end) if end < len(items) else None)
