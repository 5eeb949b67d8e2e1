"""The pure parts of reading client input: numbers sent as text, JSON nulls, a non-ASCII Authorization."""
from __future__ import annotations

import email.utils

import pytest

from emulator.api.errors import FCError
from emulator.api.json_body import MAX_DEPTH, drop_nulls
from emulator.api.numbers import whole_number
from emulator.api.signatures import SignatureProblem, SignedRequest, verify


@pytest.mark.parametrize(("text", "expected"), [
    ("0", 0), ("42", 42), (" 7 ", 7), ("0003600", 3600), ("3600", 3600), ("3601", 3601), ("9" * 5000, 3601),
    ("0" * 5000 + "5", 5), ("²", None), ("１", None), ("٣", None), ("-1", None), ("+1", None), ("1.5", None),
    ("", None), ("1_000", None), ("1e3", None),
])
def test_whole_number_takes_ascii_digits_and_saturates(text: str, expected: int | None) -> None:
    assert whole_number(text, 3600) == expected


def test_drop_nulls_at_every_depth_keeps_list_positions() -> None:
    body = {"a": None, "b": {"c": None, "d": [None, {"e": None, "f": 1}]}, "g": False, "h": 0, "i": ""}
    assert drop_nulls(body) == {"b": {"d": [None, {"f": 1}]}, "g": False, "h": 0, "i": ""}


def test_drop_nulls_refuses_a_body_nested_too_deep() -> None:
    deep: dict[str, object] = {}
    for _ in range(MAX_DEPTH + 2):
        deep = {"a": deep}
    with pytest.raises(FCError) as raised:
        drop_nulls(deep)
    assert raised.value.status == 400 and "body" in raised.value.message


@pytest.mark.parametrize("authorization", [
    "FC my-ak:sïgnature", "FC mý-ak:signature", "ACS3-HMAC-SHA256 Credential=my-ak,SignedHeaders=host,Signature=ï",
    "\xff\xfe",
])
def test_a_non_ascii_authorization_is_a_signature_mismatch(authorization: str) -> None:
    headers = {"authorization": authorization, "date": email.utils.formatdate(usegmt=True)}
    with pytest.raises(SignatureProblem) as raised:
        verify(SignedRequest("GET", "/2016-08-15/services", [], headers, b""), {"my-ak": "my-secret"})
    assert (raised.value.status, raised.value.code) == (403, "SignatureNotMatch")
    assert "Authorization" in raised.value.message
