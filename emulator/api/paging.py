"""FC's list paging: `limit` and an opaque `nextToken`, which fcemu makes the offset of the next item, or for
task listings (which grow and shrink while they are paged) where the last page ended."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from emulator.api.errors import FCError
from emulator.api.numbers import whole_number

Item = TypeVar("Item")


# Far beyond any listing fcemu holds; a token above it is not one fcemu handed out.
MAX_OFFSET = 2**31 - 1


def _bad_token(next_token: str) -> FCError:
    shown = next_token if len(next_token) <= 64 else next_token[:64] + "..."
    return FCError(400, "InvalidArgument", f"nextToken '{shown}' is not valid: pass the nextToken of the previous page")


def offset_of(next_token: str | None) -> int:
    if not next_token:
        return 0
    offset = whole_number(next_token, MAX_OFFSET)
    if offset is None or offset > MAX_OFFSET:
        raise _bad_token(next_token)
    return offset


def page(items: Sequence[Item], limit: int, next_token: str | None) -> tuple[list[Item], str | None]:
    """One page of items and the token of the next page (None on the last one)."""
    start = offset_of(next_token)
    end = start + limit
    return list(items[start:end]), (str(end) if end < len(items) else None)


# A task listing's token: "<startedTime ms>-<task id>" of the last task of the previous page.
_CURSOR = re.compile(r"([0-9]{1,15})-(.{1,1024})", re.ASCII | re.DOTALL)


def cursor_of(next_token: str | None) -> tuple[int, str] | None:
    """Where a task listing's previous page ended (None: from the start)."""
    if not next_token:
        return None
    match = _CURSOR.fullmatch(next_token)
    if match is None:
        raise _bad_token(next_token)
    return int(match.group(1)), match.group(2)


def cursor_token(cursor: tuple[int, str] | None) -> str | None:
    return f"{cursor[0]}-{cursor[1]}" if cursor is not None else None
