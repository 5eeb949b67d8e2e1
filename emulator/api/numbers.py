"""Whole numbers a client sends as text (headers, query values, tokens), read without surprises.

`str.isdigit()` is true for '²' and other digits that `int()` refuses, and `int()` refuses more than 4,300
digits: either made a 500 of a client's typo. Only ASCII digits count here, and a value is bounded before
`int()` sees all of it.
"""
from __future__ import annotations

import re

ASCII_DIGITS = re.compile(r"[0-9]+")


def whole_number(text: str, maximum: int) -> int | None:
    """The number `text` spells in ASCII digits (surrounding blanks allowed), `maximum + 1` for any larger one,
    or None when it spells no whole number."""
    text = text.strip()
    if not ASCII_DIGITS.fullmatch(text):
        return None
    # Leading zeros aside, a number with more digits than `maximum` is larger than it: no need to convert it.
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return maximum + 1
    return min(int(significant), maximum + 1)
