"""FC's two request signatures, and MNS's, checked the way the official SDKs compute them.

- 2016-08-15 (aliyun-fc2): `Authorization: FC <ak>:<base64 HMAC-SHA256>` over method, content-md5, content-type,
  date, the sorted `x-fc-*` headers and the unescaped path (with the sorted query lines for HTTP triggers).
- 2023-03-30 (tea OpenAPI, ACS3): `ACS3-HMAC-SHA256 Credential=<ak>,SignedHeaders=<names>,Signature=<hex>` over
  a canonical request whose payload hash is `x-acs-content-sha256`.
- MNS (aliyun-mns, ali-mns): `Authorization: MNS <ak>:<base64 HMAC-SHA1>` over method, content-md5, content-type,
  date (or x-mns-date), the sorted `x-mns-*` headers and the path with its query as sent. Its problems carry
  MNS's own codes (MissingAuthorizationHeader, InvalidAccessKeyId, SignatureDoesNotMatch, ...).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

MAX_CLOCK_SKEW_S = 15 * 60
ACS3 = "ACS3-HMAC-SHA256"


class SignatureProblem(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    method: str
    raw_path: str  # as sent, percent-encoded
    query: list[tuple[str, str]]  # decoded
    headers: Mapping[str, str]  # lower-case names
    # None: not read yet (the signature is checked on the headers first; verify_body checks it after).
    body: bytes | None = None


def _check_time(value: str | None, header: str, now: datetime, parse: object) -> None:
    if not value:
        raise SignatureProblem(400, "MissingRequiredHeader", f"required HTTP header {header} was not specified")
    try:
        sent = parse(value)  # type: ignore[operator]
    except (TypeError, ValueError, OverflowError) as error:  # OverflowError: a year of many digits
        raise SignatureProblem(400, "InvalidArgument", f"header {header} '{value}' is not a valid time") from error
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs((now - sent).total_seconds()) > MAX_CLOCK_SKEW_S:
        raise SignatureProblem(
            403, "RequestTimeTooSkewed",
            f"the request time {value} is more than {MAX_CLOCK_SKEW_S // 60} minutes from the server's",
        )


def _secret_for(access_key_id: str, keys: Mapping[str, str]) -> str:
    secret = keys.get(access_key_id)
    if secret is None:
        raise SignatureProblem(403, "InvalidAccessKeyID", f"invalid access key ID '{access_key_id}'")
    return secret


SIGNATURE_NOT_MATCH = SignatureProblem(
    403, "SignatureNotMatch",
    "The request signature we calculated does not match the signature you provided. "
    "Check your access key and signing method",
)


def verify_fc_v2(request: SignedRequest, authorization: str, keys: Mapping[str, str], now: datetime) -> str:
    """Checks a 2016-08-15 signature; returns the access key id."""
    access_key_id, _, signature = authorization[3:].strip().partition(":")
    secret = _secret_for(access_key_id, keys)
    _check_time(request.headers.get("date"), "Date", now, parsedate_to_datetime)
    fc_headers = sorted((name, value) for name, value in request.headers.items() if name.startswith("x-fc-"))
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in fc_headers)
    path = unquote(request.raw_path)
    # Plain API calls sign the path alone; HTTP-trigger calls add the sorted query lines.
    resources = [path]
    if request.query:
        resources.append(path + "\n" + "\n".join(sorted(f"{key}={value}" for key, value in request.query)))
    for resource in resources:
        string_to_sign = "\n".join([
            request.method.upper(), request.headers.get("content-md5", ""), request.headers.get("content-type", ""),
            request.headers.get("date", ""), canonical_headers + resource,
        ])
        expected = base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).digest())
        if hmac.compare_digest(expected.decode(), signature):
            return access_key_id
    raise SIGNATURE_NOT_MATCH


def _acs3_fields(authorization: str) -> dict[str, str]:
    fields = {}
    for part in authorization[len(ACS3):].strip().split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        raise SignatureProblem(403, "SignatureNotMatch", "the Authorization header is not a valid ACS3 signature")
    return fields


def verify_acs3(request: SignedRequest, authorization: str, keys: Mapping[str, str], now: datetime) -> str:
    """Checks a 2023-03-30 signature (ACS3-HMAC-SHA256); returns the access key id."""
    fields = _acs3_fields(authorization)
    secret = _secret_for(fields["Credential"], keys)
    _check_time(request.headers.get("x-acs-date"), "x-acs-date", now,
                lambda value: datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))
    payload_hash = request.headers.get("x-acs-content-sha256", "")
    if request.body is not None:
        verify_body(request.headers, request.body)
    signed = fields["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
    canonical_query = "&".join(
        f"{key}={quote(value, safe='~')}" for key, value in sorted(request.query, key=lambda item: item[0])
    )
    canonical_request = "\n".join([
        request.method.upper(), request.raw_path or "/", canonical_query, canonical_headers,
        fields["SignedHeaders"], payload_hash,
    ])
    string_to_sign = f"{ACS3}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise SIGNATURE_NOT_MATCH
    return fields["Credential"]


def verify(request: SignedRequest, keys: Mapping[str, str], now: datetime | None = None) -> str:
    authorization = request.headers.get("authorization", "")
    now = now or datetime.now(UTC)
    if not authorization.isascii():
        # Both signatures, and the keys they name, are ASCII: such a header can match none (and hmac's
        # compare_digest refuses non-ASCII strings). FC has no code for a malformed one; its mismatch code fits.
        raise SignatureProblem(403, "SignatureNotMatch",
                               "the Authorization header holds characters other than ASCII, so no signature of "
                               "fcemu's keys can match it")
    if authorization.startswith("FC "):
        return verify_fc_v2(request, authorization, keys, now)
    if authorization.startswith(ACS3):
        return verify_acs3(request, authorization, keys, now)
    if not authorization:
        raise SignatureProblem(400, "MissingRequiredHeader", "required HTTP header Authorization was not specified")
    raise SignatureProblem(403, "SignatureNotMatch", "the Authorization header names no signature fcemu knows")


def verify_body(headers: Mapping[str, str], body: bytes) -> None:
    """Checks a body read after its headers' signature: against the signed x-acs-content-sha256 (ACS3), or the
    Content-MD5 a 2016-08-15 request signs, when it sends one."""
    authorization = headers.get("authorization", "")
    if authorization.startswith(ACS3):
        if headers.get("x-acs-content-sha256", "") != hashlib.sha256(body).hexdigest():
            raise SignatureProblem(403, "SignatureNotMatch", "x-acs-content-sha256 does not match the request body")
    elif headers.get("content-md5") and not body_md5_matches(headers["content-md5"], body):
        raise SignatureProblem(403, "SignatureNotMatch", "Content-MD5 does not match the request body")


def verify_mns(request: SignedRequest, keys: Mapping[str, str], now: datetime | None = None) -> str:
    """Checks an MNS signature; returns the access key id. `request.raw_path` is the path and query as sent."""
    authorization = request.headers.get("authorization", "")
    if not authorization:
        raise SignatureProblem(400, "MissingAuthorizationHeader", "Authorization header is required.")
    access_key_id, colon, signature = authorization[4:].strip().partition(":")
    if not authorization.startswith("MNS ") or not colon or not authorization.isascii():
        raise SignatureProblem(400, "InvalidAuthorizationHeader",
                               "The Authorization header format is invalid: MNS <AccessKeyId>:<Signature> expected.")
    secret = keys.get(access_key_id)
    if secret is None:
        raise SignatureProblem(403, "InvalidAccessKeyId", f"The AccessKey Id you provided is not exist: {access_key_id}.")
    date = request.headers.get("x-mns-date") or request.headers.get("date")
    if not date:
        raise SignatureProblem(400, "MissingDateHeader", "Date header is required.")
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError, OverflowError) as error:
        raise SignatureProblem(400, "InvalidDateHeader", f"The Date header format is invalid: '{date}'.") from error
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs(((now or datetime.now(UTC)) - sent).total_seconds()) > MAX_CLOCK_SKEW_S:
        raise SignatureProblem(408, "TimeExpired", f"The http request you sent is expired: Date {date} is more "
                                                   f"than {MAX_CLOCK_SKEW_S // 60} minutes from the server's time.")
    mns_headers = "".join(f"{name}:{value}\n" for name, value in sorted(request.headers.items())
                          if name.startswith("x-mns-"))
    string_to_sign = "\n".join([
        request.method.upper(), request.headers.get("content-md5", ""), request.headers.get("content-type", ""),
        date, mns_headers + request.raw_path,
    ])
    expected = base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        raise SignatureProblem(403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature you provided. "
                               "Check your key and signing method.")
    return access_key_id


def body_md5_matches(content_md5: str, body: bytes) -> bool:
    """Whether a Content-MD5 header is the body's: RFC 1864's base64 of the digest, its hex, or the base64 of its hex
    (what aliyun-mns for python and @alicloud/fc2 for Node.js send)."""
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    return content_md5 in (base64.b64encode(digest).decode(), digest.hex(),
                           base64.b64encode(digest.hex().encode()).decode())
