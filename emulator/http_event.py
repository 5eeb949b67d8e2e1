"""FC 3.0's HTTP-trigger contract for built-in runtimes: the request becomes an event object, the handler's
return value becomes the HTTP answer (FC's page "Use an HTTP trigger to invoke a function").

Pure functions, shared by the HTTP trigger routes (sync) and the task runner (async replays).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from emulator.catalog.manifest import FC3_API_VERSION, FunctionManifest
from emulator.invoker import HttpRequest
from emulator.pool.contract import is_contract_header
from emulator.timestamps import FC_TIME_FORMAT

EVENT_VERSION = "v1"
# Media types whose body FC passes as text; any other (images, octet-stream, multipart...) goes base64.
TEXT_MEDIA_TYPES = frozenset({
    "application/json", "application/xml", "application/javascript", "application/x-javascript",
    "application/ecmascript", "application/x-www-form-urlencoded", "application/x-yaml", "application/yaml",
    "application/graphql", "application/x-ndjson",
})
# Answer headers FC does not let a function set (its web functions' limits): the platform's own.
FORBIDDEN_ANSWER_HEADERS = frozenset(
    {"connection", "content-length", "date", "keep-alive", "server", "transfer-encoding"}
)
# What HTTP/1.1 lets a header be; anything else could not be sent at all (or would split the answer).
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
# Statuses that carry no body.
BODILESS_STATUSES = frozenset({204, 304})


class BadResponse(Exception):
    """A return value that claims to be an HTTP answer (it has `statusCode`) but is not a valid one."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def takes_http_event(manifest: FunctionManifest) -> bool:
    """True when the function's HTTP trigger calls its handler with FC 3.0's event: a built-in runtime (not a
    custom runtime or container, whose own server gets the request in both generations) of an FC 3.0 function."""
    return manifest.runtime_family not in ("custom", "custom-container") and manifest.api_version == FC3_API_VERSION


def canonical_header_name(name: str) -> str:
    """`x-custom-header` as `X-Custom-Header`: how FC's front end (Go's net/http) presents header names."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def build_event(http: HttpRequest, request_id: str, account_id: str) -> bytes:
    """The event FC 3.0 gives a built-in runtime's handler for an HTTP request, as JSON."""
    raw_path, _, query = http.path.partition("?")
    raw_path = http.raw_path or raw_path
    headers: dict[str, str] = {}
    for name, value in http.headers:
        if is_contract_header(name):
            continue
        key = canonical_header_name(name)
        # Repeated headers are one entry, values joined by commas (FC's "value1,value2").
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    body, encoded = _event_body(http)
    received_ms = http.received_ms or int(datetime.now(UTC).timestamp() * 1000)
    event = {
        "version": EVENT_VERSION,
        "rawPath": raw_path,
        "body": body,
        "isBase64Encoded": encoded,
        "headers": headers,
        "queryParameters": parameters,
        "requestContext": {
            "accountId": account_id,
            "domainName": http.host,
            "domainPrefix": http.domain_prefix,
            "http": {
                "method": http.method,
                "path": unquote(raw_path),
                "protocol": http.protocol,
                "sourceIp": http.source_ip,
                "userAgent": _header(http, "user-agent"),
            },
            "requestId": request_id,
            "time": datetime.fromtimestamp(received_ms / 1000, UTC).strftime(FC_TIME_FORMAT),
            "timeEpoch": str(received_ms),
        },
    }
    return json.dumps(event).encode()


def _header(http: HttpRequest, wanted: str) -> str:
    return next((value for name, value in http.headers if name.lower() == wanted), "")


def _event_body(http: HttpRequest) -> tuple[str, bool]:
    """The body as text when it is text (by its Content-Type, and valid UTF-8), else base64."""
    if not http.body:
        return "", False
    encoding = _header(http, "content-encoding").strip().lower()
    media_type = _header(http, "content-type").split(";", 1)[0].strip().lower()
    textual = encoding in ("", "identity") and (
        not media_type or media_type.startswith("text/") or media_type in TEXT_MEDIA_TYPES
        or media_type.endswith(("+json", "+xml"))
    )
    if textual:
        try:
            return http.body.decode(), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(http.body).decode(), True


def map_response(returned: bytes) -> HttpAnswer:
    """The HTTP answer for a handler's return value (as the runtime serialised it): an object with `statusCode`
    is FC's response struct; anything else (a plain string, a JSON value without `statusCode`, bytes) is the
    body of a 200. Raises BadResponse for a response struct that is not valid, naming the field."""
    try:
        value: Any = json.loads(returned)
    except (ValueError, UnicodeDecodeError):
        return HttpAnswer(200, (("content-type", _plain_type(returned)),), returned)
    if not isinstance(value, dict) or "statusCode" not in value:
        return HttpAnswer(200, (("content-type", "application/json"),), returned)
    return _response_struct(value)


def _plain_type(body: bytes) -> str:
    try:
        body.decode()
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def _response_struct(value: dict[str, Any]) -> HttpAnswer:
    status = value["statusCode"]
    # 1xx are interim answers, not one a function can end a request with.
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise BadResponse(f"statusCode must be an integer HTTP status (200-599), got {json.dumps(status)}")
    encoded = value.get("isBase64Encoded")
    if encoded is None:
        encoded = False
    if not isinstance(encoded, bool):
        raise BadResponse(f"isBase64Encoded must be true or false, got {json.dumps(encoded)}")
    body = value.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise BadResponse(f"body must be a string (JSON-encode an object first), got {type(body).__name__}")
    elif encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise BadResponse(f"body is not valid base64 although isBase64Encoded is true: {error}") from error
    else:
        raw = body.encode()
    return HttpAnswer(status, _answer_headers(value.get("headers")), b"" if status in BODILESS_STATUSES else raw)


def _answer_headers(headers: Any) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    if not isinstance(headers, dict):
        raise BadResponse(f"headers must be an object of header names to values, got {type(headers).__name__}")
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(name):
            raise BadResponse(f"headers: {json.dumps(name)} is not a valid header name")
        if is_contract_header(name) or name.lower() in FORBIDDEN_ANSWER_HEADERS:
            continue
        # A list repeats the header (several Set-Cookie), fcemu's reading of a shape FC's struct has no room for.
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, (dict, list)) or item is None:
                raise BadResponse(f"headers.{name} must be a string, got {json.dumps(item)}")
            text = item if isinstance(item, str) else json.dumps(item)
            if not HEADER_VALUE.fullmatch(text):
                raise BadResponse(f"headers.{name} has a character a header cannot carry (a line break, a control "
                                  "character or one beyond Latin-1)")
            pairs.append((name, text))
    return tuple(pairs)
