"""FC 3.0's HTTP event and response mapping (emulator/http_event.py): pure functions, no containers."""
from __future__ import annotations

import base64
import json

import pytest

from emulator.catalog.manifest import FunctionManifest
from emulator.http_event import BadResponse, build_event, canonical_header_name, map_response, takes_http_event
from emulator.invoker import HttpRequest


def request(**overrides: object) -> HttpRequest:
    fields: dict[str, object] = {
        "method": "POST", "path": "/a b/c?x=1&y=2&x=3&empty=", "headers": [], "body": b"", "raw_path": "/a%20b/c",
        "host": "127.0.0.1:9000", "domain_prefix": "fn", "source_ip": "10.0.0.7", "protocol": "HTTP/1.1",
        "received_ms": 1_693_896_071_895,
    }
    fields.update(overrides)
    return HttpRequest(**fields)  # type: ignore[arg-type]


def event_of(http: HttpRequest) -> dict:
    return json.loads(build_event(http, "req-1", "1234567890123456"))


def test_the_event_has_fc_s_shape() -> None:
    event = event_of(request(headers=[("user-agent", "curl/8"), ("x-custom", "a"), ("X-Custom", "b"),
                                      ("content-type", "text/plain")], body=b"Hello FC!"))
    assert event == {
        "version": "v1",
        "rawPath": "/a%20b/c",
        "body": "Hello FC!",
        "isBase64Encoded": False,
        "headers": {"User-Agent": "curl/8", "X-Custom": "a,b", "Content-Type": "text/plain"},
        "queryParameters": {"x": "1,3", "y": "2", "empty": ""},
        "requestContext": {
            "accountId": "1234567890123456",
            "domainName": "127.0.0.1:9000",
            "domainPrefix": "fn",
            "http": {"method": "POST", "path": "/a b/c", "protocol": "HTTP/1.1", "sourceIp": "10.0.0.7",
                     "userAgent": "curl/8"},
            "requestId": "req-1",
            "time": "2023-09-05T06:41:11Z",
            "timeEpoch": "1693896071895",
        },
    }


def test_no_contract_header_reaches_the_event() -> None:
    event = event_of(request(headers=[("x-fc-function-handler", "evil.handler"), ("X-Fc-Control-Path", "/init")]))
    assert event["headers"] == {}


@pytest.mark.parametrize(("content_type", "body", "encoded"), [
    ("application/json", b'{"a": 1}', False),
    ("text/html; charset=utf-8", "héllo".encode(), False),
    ("application/vnd.api+json", b"{}", False),
    ("", b"plain words", False),
    ("", b"\xff\xfe\x00", True),
    ("application/octet-stream", b"abc", True),
    ("image/png", b"\x89PNG", True),
    ("text/plain", b"\xff not utf-8", True),
])
def test_a_body_is_text_or_base64(content_type: str, body: bytes, encoded: bool) -> None:
    headers = [("content-type", content_type)] if content_type else []
    event = event_of(request(headers=headers, body=body))
    assert event["isBase64Encoded"] is encoded
    assert (base64.b64decode(event["body"]) if encoded else event["body"].encode()) == body


def test_a_compressed_body_is_base64() -> None:
    event = event_of(request(headers=[("content-type", "application/json"), ("content-encoding", "gzip")],
                             body=b"{}"))
    assert event["isBase64Encoded"] is True


def test_header_names_as_fc_presents_them() -> None:
    assert canonical_header_name("x-custom-header") == "X-Custom-Header"
    assert canonical_header_name("CONTENT-TYPE") == "Content-Type"


def test_a_response_struct() -> None:
    answer = map_response(json.dumps({"statusCode": 404, "headers": {"X-A": "1", "Set-Cookie": ["a=1", "b=2"]},
                                      "body": "missing"}).encode())
    assert (answer.status, answer.body) == (404, b"missing")
    assert answer.headers == (("X-A", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"))


def test_a_base64_response_struct_is_decoded() -> None:
    answer = map_response(json.dumps({"statusCode": 200, "isBase64Encoded": True,
                                      "body": base64.b64encode(b"\x00\x01").decode()}).encode())
    assert answer.body == b"\x00\x01"


def test_a_bodiless_status_has_no_body() -> None:
    assert map_response(json.dumps({"statusCode": 204, "body": "ignored"}).encode()).body == b""


def test_platform_headers_are_not_taken_from_the_function() -> None:
    answer = map_response(json.dumps({"statusCode": 200, "headers": {
        "x-fc-request-id": "forged", "Content-Length": "9", "Connection": "close", "X-Kept": "yes"}}).encode())
    assert answer.headers == (("X-Kept", "yes"),)
    assert answer.body == b""


@pytest.mark.parametrize(("returned", "content_type"), [
    (b"hello", "text/plain; charset=utf-8"),
    (b'{"message": "no status"}', "application/json"),
    (b"[1, 2]", "application/json"),
    (b"\xff\x00", "application/octet-stream"),
    (b"", "text/plain; charset=utf-8"),
])
def test_anything_else_is_a_200_body(returned: bytes, content_type: str) -> None:
    answer = map_response(returned)
    assert (answer.status, answer.body, answer.headers) == (200, returned, (("content-type", content_type),))


@pytest.mark.parametrize(("struct", "field"), [
    ({"statusCode": "200"}, "statusCode"),
    ({"statusCode": True}, "statusCode"),
    ({"statusCode": 99}, "statusCode"),
    ({"statusCode": 101}, "statusCode"),
    ({"statusCode": 200, "headers": {"Bad Name": "x"}}, "header name"),
    ({"statusCode": 200, "headers": {"X-Split": "a\r\nSet-Cookie: evil=1"}}, "headers.X-Split"),
    ({"statusCode": 200, "headers": {"X-Wide": "日本"}}, "headers.X-Wide"),
    ({"statusCode": 200, "headers": {"X-Trailing": "a\n"}}, "headers.X-Trailing"),
    ({"statusCode": 200, "body": {"a": 1}}, "body"),
    ({"statusCode": 200, "isBase64Encoded": "yes"}, "isBase64Encoded"),
    ({"statusCode": 200, "isBase64Encoded": True, "body": "not base64!"}, "base64"),
    ({"statusCode": 200, "headers": ["X-A: 1"]}, "headers"),
    ({"statusCode": 200, "headers": {"X-A": {"nested": 1}}}, "headers.X-A"),
])
def test_an_invalid_response_struct_is_refused_naming_the_field(struct: dict, field: str) -> None:
    with pytest.raises(BadResponse, match=field):
        map_response(json.dumps(struct).encode())


def manifest(**fields: object) -> FunctionManifest:
    base: dict[str, object] = {"functionName": "f", "runtime": "python3.10", "handler": "index.handler"}
    base.update(fields)
    return FunctionManifest.model_validate(base)


def test_which_functions_take_the_event() -> None:
    assert takes_http_event(manifest())
    assert not takes_http_event(manifest(apiVersion="2016-08-15"))
    assert not takes_http_event(manifest(functionName="svc$f")), "an FC 2.0 service's function stored without it"
    assert takes_http_event(manifest(functionName="svc$f", apiVersion="2023-03-30"))
    assert not takes_http_event(manifest(runtime="custom.debian10", customRuntimeConfig={"command": ["./s"]}))
    assert not takes_http_event(manifest(runtime="custom-container", customContainerConfig={"image": "x"}))


def test_an_old_queued_request_still_replays() -> None:
    queued = json.dumps({"method": "GET", "path": "/p?q=1", "headers": [["a", "b"]], "body": ""}).encode()
    http = HttpRequest.from_payload(queued)
    assert (http.path, http.raw_path, http.received_ms) == ("/p?q=1", "", 0)
    assert event_of(http)["rawPath"] == "/p"
    assert HttpRequest.from_payload(request().to_payload()) == request()
