"""Presigned code zip URLs (GetFunctionCode): valid for their function (or version) until they expire, under a known
key."""
from __future__ import annotations

from urllib.parse import parse_qsl

from emulator.api.presigned import EXPIRES_S, is_presigned, presigned_query

KEYS = {"ak": "secret", "other": "another"}
NOW = 1_800_000_000.0
PATH = "/_fcemu/functions/svc$fn/code.zip"


def _query(function: str = "svc$fn") -> dict[str, str]:
    return dict(parse_qsl(presigned_query(function, KEYS, now=NOW)))


def test_a_presigned_query_holds_until_it_expires() -> None:
    query = _query()
    assert query["AccessKeyId"] == "ak" and int(query["Expires"]) == NOW + EXPIRES_S
    assert is_presigned(PATH, query, KEYS, now=NOW)
    assert is_presigned(PATH, query, KEYS, now=NOW + EXPIRES_S)
    assert not is_presigned(PATH, query, KEYS, now=NOW + EXPIRES_S + 1)


def test_anything_else_is_refused() -> None:
    query = _query()
    assert not is_presigned("/_fcemu/functions/other/code.zip", query, KEYS, now=NOW)
    assert not is_presigned("/2023-03-30/functions/svc$fn", query, KEYS, now=NOW)
    assert not is_presigned(PATH, {**query, "Expires": str(int(query["Expires"]) + 1)}, KEYS, now=NOW)
    assert not is_presigned(PATH, {**query, "Expires": "²"}, KEYS, now=NOW)
    assert not is_presigned(PATH, {**query, "AccessKeyId": "other"}, KEYS, now=NOW)
    assert not is_presigned(PATH, {**query, "AccessKeyId": "unknown"}, KEYS, now=NOW)
    assert not is_presigned(PATH, {key: value for key, value in query.items() if key != "Signature"}, KEYS, now=NOW)
    assert not is_presigned(PATH, query, {}, now=NOW)


def test_without_keys_there_is_nothing_to_sign() -> None:
    assert presigned_query("fn", {}) == ""


def test_a_version_s_url_is_presigned_for_that_version_only() -> None:
    query = _query("svc$fn/versions/2")
    assert is_presigned("/_fcemu/functions/svc$fn/versions/2/code.zip", query, KEYS, now=NOW)
    assert not is_presigned("/_fcemu/functions/svc$fn/versions/1/code.zip", query, KEYS, now=NOW)
    assert not is_presigned(PATH, query, KEYS, now=NOW)
