"""Bad client input is FC's 400 (or FC's own code) naming the field, never a 500: explicit JSON nulls, bodies that
are not JSON objects, numbers `int()` refuses ('²', 5,000 digits), wrongly typed fields, a non-ASCII
Authorization. Raw HTTP against a real `fcemu serve`."""
from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer

V2 = "/2016-08-15"
V3 = "/2023-03-30"
HUGE = "9" * 5000  # beyond the 4,300 digits Python's int() takes
# What fc-go-sdk's PutFunctionAsyncInvokeConfig sends when only statefulInvocation and the retries are set.
GO_SDK_ASYNC_CONFIG = (b'{"statefulInvocation":true,"destinationConfig":null,"maxAsyncEventAgeInSeconds":null,'
                       b'"maxAsyncRetryAttempts":0}')


def bad(reply: requests.Response, field: str, status: int = 400, code: str = "InvalidArgument") -> str:
    """Asserts FC's error shape for the route's API version, and that the message names `field`."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert reply.headers["x-fc-request-id"]
    if reply.request.path_url.startswith(V2):
        assert set(body) == {"ErrorCode", "ErrorMessage", "RequestId"}, body
        code_seen, message = body["ErrorCode"], body["ErrorMessage"]
    else:
        assert set(body) == {"Code", "Message", "RequestId"}, body
        code_seen, message = body["Code"], body["Message"]
    assert body["RequestId"] == reply.headers["x-fc-request-id"]
    assert code_seen == code, body
    assert field in message, body
    return str(message)


def _code_zip() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture()
def function(emulator: EmulatorProcess, http: requests.Session) -> Iterator[str]:
    """A function of this test's own (in the default service, so both API versions reach it)."""
    name = f"bad_input_{uuid.uuid4().hex[:8]}"
    created = http.post(f"{emulator.url}{V3}/functions", json={
        "functionName": name, "runtime": "python3.10", "handler": "index.handler", "code": {"zipFile": _code_zip()}})
    assert created.status_code == 200, created.text
    yield name
    http.delete(f"{emulator.url}{V3}/functions/{name}/async-invoke-config")
    http.delete(f"{emulator.url}{V3}/functions/{name}")


def _json(session: requests.Session, method: str, url: str, raw: bytes) -> requests.Response:
    return session.request(method, url, data=raw, headers={"Content-Type": "application/json"})


# Defect 6: explicit nulls are absent fields; a body that is not a JSON object is 400.

def test_the_go_sdks_async_config_body_on_the_2016_route(
    emulator: EmulatorProcess, http: requests.Session, function: str
) -> None:
    url = f"{emulator.url}{V2}/services/default/functions/{function}/async-invoke-config"
    first = http.put(url, json={"maxAsyncEventAgeInSeconds": 300, "maxAsyncRetryAttempts": 2})
    assert first.status_code == 200, first.text
    reply = _json(http, "PUT", url, GO_SDK_ASYNC_CONFIG)
    assert reply.status_code == 200, reply.text
    config = reply.json()
    # A null leaves the stored value as it was, as an absent field does.
    assert config["statefulInvocation"] is True
    assert config["maxAsyncRetryAttempts"] == 0
    assert config["maxAsyncEventAgeInSeconds"] == 300
    assert "destinationConfig" not in config


def test_the_go_sdks_nulls_on_the_2023_route_at_every_depth(
    emulator: EmulatorProcess, http: requests.Session, function: str
) -> None:
    url = f"{emulator.url}{V3}/functions/{function}/async-invoke-config"
    body = (b'{"asyncTask":true,"destinationConfig":{"onSuccess":null,"onFailure":{"destination":'
            b'"acs:mns:cn-hangzhou:1234567890123456:/queues/bad-input/messages"}},'
            b'"maxAsyncEventAgeInSeconds":null,"maxAsyncRetryAttempts":0}')
    reply = _json(http, "PUT", url, body)
    assert reply.status_code == 200, reply.text
    config = reply.json()
    assert config["asyncTask"] is True and config["maxAsyncRetryAttempts"] == 0
    assert config["maxAsyncEventAgeInSeconds"] == 86400
    assert config["destinationConfig"] == {
        "onFailure": {"destination": "acs:mns:cn-hangzhou:1234567890123456:/queues/bad-input/messages"}}
    fresh = _json(http, "PUT", url, GO_SDK_ASYNC_CONFIG.replace(b"statefulInvocation", b"asyncTask"))
    assert fresh.status_code == 200, fresh.text


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"text"', b"7", b"null", b"{not json", b""])
def test_a_body_that_is_not_a_json_object_is_400_on_every_body_route(
    emulator: EmulatorProcess, http: requests.Session, function: str, raw: bytes
) -> None:
    routes = [
        ("PUT", f"{V3}/functions/{function}/async-invoke-config"),
        ("PUT", f"{V2}/services/default/functions/{function}/async-invoke-config"),
        ("POST", f"{V3}/functions"),
        ("PUT", f"{V3}/functions/{function}"),
        ("POST", f"{V2}/services"),
        ("POST", f"{V2}/services/default/functions"),
        ("PUT", f"{V2}/services/default/functions/{function}"),
        ("POST", f"{V3}/functions/{function}/triggers"),
        ("POST", f"{V2}/services/default/functions/{function}/triggers"),
    ]
    for method, path in routes:
        bad(_json(http, method, emulator.url + path, raw), "body")


def test_a_body_nested_beyond_reason_is_400(emulator: EmulatorProcess, http: requests.Session, function: str) -> None:
    deep = b'{"destinationConfig":' + b'{"a":' * 900 + b"1" + b"}" * 901
    bad(_json(http, "PUT", f"{emulator.url}{V3}/functions/{function}/async-invoke-config", deep), "body")
    deep_function = b'{"functionName":"deep","environmentVariables":' + b'{"a":' * 900 + b"1" + b"}" * 901
    bad(_json(http, "POST", f"{emulator.url}{V3}/functions", deep_function), "body")


def test_nulls_on_create_function_service_and_trigger(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    name = f"nulls_{uuid.uuid4().hex[:8]}"
    created = http.post(f"{emulator.url}{V3}/functions", json={
        "functionName": name, "runtime": "python3.10", "handler": "index.handler", "code": {"zipFile": _code_zip()},
        "description": None, "initializer": None, "environmentVariables": {"A": "1", "B": None},
        "customRuntimeConfig": None,
        "customContainerConfig": None, "layers": None, "memorySize": None, "timeout": None})
    assert created.status_code == 200, created.text
    assert created.json()["timeout"] == 3 and created.json()["memorySize"] == 512  # FC's defaults
    assert created.json()["environmentVariables"] == {"A": "1"}
    updated = http.put(f"{emulator.url}{V3}/functions/{name}",
                       json={"timeout": None, "handler": None, "customRuntimeConfig": None})
    assert updated.status_code == 200, updated.text
    assert updated.json()["handler"] == "index.handler" and updated.json()["timeout"] == 3

    v3_triggers = f"{emulator.url}{V3}/functions/{name}/triggers"
    trigger = http.post(v3_triggers, json={
        "triggerName": "web", "triggerType": "http", "description": None, "qualifier": None,
        "triggerConfig": json.dumps({"methods": ["GET"], "authType": None})})
    assert trigger.status_code == 200, trigger.text
    assert json.loads(trigger.json()["triggerConfig"])["authType"] == "anonymous"
    kept = http.put(f"{v3_triggers}/web", json={"description": None, "triggerConfig": None})
    assert kept.status_code == 200 and kept.json()["description"] == ""
    v2_trigger = http.post(f"{emulator.url}{V2}/services/default/functions/{name}/triggers", json={
        "triggerName": "web2", "triggerType": "http", "description": None,
        "triggerConfig": {"methods": ["GET"], "authType": None, "disableURLInternet": None}})
    assert v2_trigger.status_code == 200, v2_trigger.text
    assert v2_trigger.json()["triggerConfig"]["authType"] == "anonymous"
    for trigger_name in ("web", "web2"):
        assert http.delete(f"{v3_triggers}/{trigger_name}").status_code == 204
    assert http.delete(f"{emulator.url}{V3}/functions/{name}").status_code == 204

    service = f"svc_{uuid.uuid4().hex[:8]}"
    made = http.post(f"{emulator.url}{V2}/services", json={"serviceName": service, "description": None,
                                                            "role": None, "logConfig": None})
    assert made.status_code == 200, made.text
    assert made.json()["description"] == ""
    assert http.delete(f"{emulator.url}{V2}/services/{service}").status_code == 204


# Defect 9: numbers int() refuses, and wrongly typed fields.

@pytest.mark.parametrize("delay", ["²", "³", HUGE, "-1", "1.5", "3601"])
def test_a_bad_async_delay_is_400_naming_the_header(
    emulator: EmulatorProcess, http: requests.Session, function: str, delay: str
) -> None:
    headers = {"x-fc-invocation-type": "Async", "x-fc-async-delay": delay}
    bad(http.post(f"{emulator.url}{V3}/functions/{function}/invocations", data=b"{}", headers=headers),
        "x-fc-async-delay")
    bad(http.post(f"{emulator.url}{V2}/services/default/functions/{function}/invocations", data=b"{}",
                  headers=headers), "x-fc-async-delay")
    bad(http.post(f"{emulator.url}/http/web/x", data=b"{}", headers=headers), "x-fc-async-delay")


@pytest.mark.parametrize("token", ["²", "１", HUGE, "-1", "abc", str(2**64)])
def test_a_bad_next_token_is_400_on_every_listing(
    emulator: EmulatorProcess, http: requests.Session, function: str, token: str
) -> None:
    listings = [
        f"{V3}/functions", f"{V2}/services", f"{V2}/services/default/functions",
        f"{V3}/functions/{function}/triggers", f"{V2}/services/default/functions/{function}/triggers",
        f"{V3}/async-invoke-configs", f"{V2}/services/default/functions/{function}/async-invoke-configs",
        f"{V3}/functions/{function}/async-tasks",
        f"{V2}/services/default/functions/{function}/stateful-async-invocations",
    ]
    for path in listings:
        bad(http.get(emulator.url + path, params={"nextToken": token}), "nextToken")


def test_bad_numbers_in_other_query_values_are_400_naming_them(
    emulator: EmulatorProcess, http: requests.Session, function: str
) -> None:
    tasks = f"{emulator.url}{V3}/functions/{function}/async-tasks"
    for value in ("²", HUGE, "1e3"):
        bad(http.get(f"{emulator.url}{V3}/functions", params={"limit": value}), "limit")
        bad(http.get(tasks, params={"startedTimeBegin": value}), "startedTimeBegin")
        bad(http.get(tasks, params={"startedTimeEnd": value}), "startedTimeEnd")
    bad(http.get(tasks, params={"includePayload": "²"}), "includePayload")
    bad(http.get(tasks, params={"sortOrderByTime": "sideways"}), "sortOrderByTime")
    # A qualifier of non-ASCII digits is an unknown alias (404), not a crash in a version-number parse.
    bad(http.post(f"{emulator.url}{V3}/functions/{function}/invocations", params={"qualifier": "²"}),
        "alias", status=404, code="AliasNotFound")
    bad(http.post(f"{emulator.url}{V3}/functions/{function}/invocations",
                  headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "t²"}), "x-fc-async-task-id")
    bad(http.post(f"{emulator.url}{V3}/functions/{function}/invocations", headers={"x-fc-log-type": "Tail²"}),
        "x-fc-log-type")


@pytest.mark.parametrize("value", [5, True, ["a"], {"a": 1}, 1.5])
def test_wrongly_typed_service_fields_are_400_naming_them(
    emulator: EmulatorProcess, http: requests.Session, value: object
) -> None:
    url = f"{emulator.url}{V2}/services"
    bad(http.post(url, json={"serviceName": f"svc_{uuid.uuid4().hex[:8]}", "description": value}), "description")
    bad(http.post(url, json={"serviceName": value}), "serviceName")


def test_a_service_name_is_checked_against_fcs_rule(emulator: EmulatorProcess, http: requests.Session) -> None:
    for name in ("a/b", "a.b", "a$b", "9lives", "-x", "é", "x" * 129):
        bad(http.post(f"{emulator.url}{V2}/services", json={"serviceName": name}), "serviceName")
    bad(http.post(f"{emulator.url}{V2}/services", json={}), "serviceName")


@pytest.mark.parametrize("value", [5, True, ["a"], {"a": 1}])
def test_wrongly_typed_trigger_fields_are_400_naming_them(
    emulator: EmulatorProcess, http: requests.Session, function: str, value: object
) -> None:
    good = {"triggerName": "web", "triggerType": "http", "triggerConfig": {"methods": ["GET"]}}
    for prefix in (f"{V3}/functions/{function}", f"{V2}/services/default/functions/{function}"):
        url = f"{emulator.url}{prefix}/triggers"
        for field in ("description", "triggerName", "triggerType"):
            bad(http.post(url, json={**good, field: value}), field)
        if not isinstance(value, dict):
            bad(http.post(url, json={**good, "triggerConfig": value}), "triggerConfig")
    url = f"{emulator.url}{V3}/functions/{function}/triggers"
    assert http.post(url, json=good).status_code == 200
    try:
        bad(http.put(f"{url}/web", json={"description": value}), "description")
        if not isinstance(value, dict):
            bad(http.put(f"{url}/web", json={"triggerConfig": value}), "triggerConfig")
    finally:
        http.delete(f"{url}/web")


def test_a_trigger_name_is_checked_against_fcs_rule(
    emulator: EmulatorProcess, http: requests.Session, function: str
) -> None:
    url = f"{emulator.url}{V3}/functions/{function}/triggers"
    for name in ("a/b", "9x", "é", "x" * 129):
        bad(http.post(url, json={"triggerName": name, "triggerType": "http", "triggerConfig": {}}), "triggerName")


# A non-ASCII Authorization: ignored without access keys; with keys, FC's 403 SignatureNotMatch.

NON_ASCII_AUTHORIZATIONS = [
    "FC test-ak:sïgnature".encode(),
    "FC tést-ak:signature".encode(),
    "ACS3-HMAC-SHA256 Credential=test-ak,SignedHeaders=host,Signature=ï".encode(),
    b"\xff\xfe",
]


def test_a_non_ascii_authorization_without_access_keys_is_ignored(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    for authorization in NON_ASCII_AUTHORIZATIONS:
        for path in (f"{V3}/functions", f"{V2}/services"):
            reply = http.get(emulator.url + path, headers={"Authorization": authorization})  # type: ignore[dict-item]
            assert reply.status_code == 200, reply.text


@pytest.fixture(scope="module")
def signed_emulator(
    functions_dir: Path, tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(
        functions_dir, tmp_path_factory.mktemp("bad-input-signed") / "fcemu.log", redis_url=redis_server.url,
        dispatcher_enabled="false", access_keys="test-ak:test-sk",
    ).start()
    yield process
    process.stop()


def test_a_non_ascii_authorization_with_access_keys_is_fcs_403(
    signed_emulator: EmulatorProcess, http: requests.Session
) -> None:
    for authorization in NON_ASCII_AUTHORIZATIONS:
        for path in (f"{V3}/functions", f"{V2}/services", "/http/web/x"):
            reply = http.get(signed_emulator.url + path,
                             headers={"Authorization": authorization})  # type: ignore[dict-item]
            bad(reply, "Authorization", status=403, code="SignatureNotMatch")


def test_a_date_with_a_year_too_large_is_400_naming_it(
    signed_emulator: EmulatorProcess, http: requests.Session
) -> None:
    reply = http.get(f"{signed_emulator.url}{V2}/services", headers={
        "Authorization": "FC test-ak:c2ln", "Date": "Tue, 20 Dec 999999999999999999999 08:48:18 GMT"})
    bad(reply, "Date")


# Found by review after the fuzz: deep JSON inside triggerConfig, lone surrogates, what a container cannot take,
# and bodies streamed past the limit without access keys.

def test_a_trigger_config_string_nested_beyond_reason_is_400(
    emulator: EmulatorProcess, http: requests.Session, function: str
) -> None:
    deep = "[" * 5000 + "]" * 5000
    reply = http.post(f"{emulator.url}{V3}/functions/{function}/triggers", json={
        "triggerName": "deep", "triggerType": "timer", "triggerConfig": deep})
    bad(reply, "triggerConfig")


@pytest.mark.parametrize("path, body, field", [
    (f"{V2}/services", {"serviceName": "surrogate_svc", "description": "\ud800"}, "description"),
    (f"{V3}/functions/{{f}}/triggers", {"triggerName": "s1", "triggerType": "timer", "description": "\udfff",
                                        "triggerConfig": json.dumps({"cronExpression": "@every 1h"})}, "description"),
    (f"{V3}/functions/{{f}}/triggers", {"triggerName": "s2", "triggerType": "timer", "triggerConfig":
                                        '{"cronExpression": "@every 1h", "payload": "\\ud800"}'}, "payload"),
    (f"{V3}/functions", {"functionName": "surrogate_fn", "runtime": "python3.10", "handler": "index.handler",
                         "tags": ["\ud800"]}, "tags"),
])
def test_text_unicode_cannot_hold_is_400_naming_the_field(
    emulator: EmulatorProcess, http: requests.Session, function: str, path: str, body: dict, field: str
) -> None:
    raw = json.dumps(body).encode()  # json.dumps escapes the lone surrogate as \ud800, which is valid JSON
    reply = _json(http, "POST", emulator.url + path.format(f=function), raw)
    bad(reply, field)


@pytest.mark.parametrize("fields, field", [
    ({"handler": "index.handler\u0000"}, "handler"),
    ({"environmentVariables": {"A=B": "1"}}, "A=B"),
    ({"environmentVariables": {"OK": "x\u0000y"}}, "OK"),
    ({"runtime": "custom.debian10", "customRuntimeConfig": {"command": ["python3\u0000"]}}, "command"),
])
def test_what_a_container_cannot_take_is_refused_before_it_is_stored(
    emulator: EmulatorProcess, http: requests.Session, fields: dict, field: str
) -> None:
    name = f"nul_{uuid.uuid4().hex[:8]}"
    body = {"functionName": name, "runtime": "python3.10", "handler": "index.handler",
            "code": {"zipFile": _code_zip()}, **fields}
    bad(http.post(f"{emulator.url}{V3}/functions", json=body), field)
    assert http.get(f"{emulator.url}{V3}/functions/{name}").status_code == 404


@pytest.fixture(scope="module")
def small_body_emulator(
    functions_dir: Path, tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(
        functions_dir, tmp_path_factory.mktemp("bad-input-small-body") / "fcemu.log", redis_url=redis_server.url,
        dispatcher_enabled="false", sync_payload_limit_bytes="65536",
    ).start()
    yield process
    process.stop()


def _chunked(emulator: EmulatorProcess, path: str, chunks: int, chunk: bytes) -> tuple[int, bytes]:
    """Streams a chunked body (no Content-Length); returns the status and body of the answer, which may come
    before everything was sent."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=60)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Transfer-Encoding", "chunked")
        connection.putheader("Content-Type", "application/json")
        connection.endheaders()
        try:
            for _ in range(chunks):
                connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            connection.send(b"0\r\n\r\n")
        except OSError:
            pass  # the emulator answered and closed before the rest: what it answered is still to be read
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/http/web/upload", f"{V3}/functions/hello/invocations", f"{V2}/services"])
def test_a_body_streamed_past_the_limit_is_refused_without_access_keys(
    small_body_emulator: EmulatorProcess, path: str
) -> None:
    status, body = _chunked(small_body_emulator, path, chunks=64, chunk=b" " * 16384)  # 1 MB against 64 KB
    assert status == 400, body
    answer = json.loads(body)
    assert (answer.get("Code") or answer.get("ErrorCode")) == "EntityTooLarge", answer
    declared = requests.post(small_body_emulator.url + path, data=b"x" * 70000, timeout=30)
    bad(declared, "maximum allowed size", code="EntityTooLarge")
    assert requests.get(f"{small_body_emulator.url}/_fcemu/health", timeout=30).status_code == 200
