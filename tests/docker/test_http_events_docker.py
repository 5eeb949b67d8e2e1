"""FC 3.0's HTTP trigger for built-in runtimes against real containers and a real `fcemu serve`: the handler gets
FC's event (an ordinary event invocation) and its return value is mapped to the answer; FC 2.0 functions keep
their WSGI handler; async requests record the mapped answer."""
from __future__ import annotations

import base64
import http.client as http_client
import json
import time
import uuid

import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v3_error, zipped
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

ACCOUNT_ID = "1234567890123456"  # fcemu's default FCEMU_ACCOUNT_ID


def test_the_event_has_fc_s_documented_shape(emulator: EmulatorProcess, http: requests.Session) -> None:
    before_ms = int(time.time() * 1000)
    # http.client, to send a header twice as a client may.
    connection = http_client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    try:
        connection.putrequest("POST", "/http/event-echo/items/a%20b?x=1&x=2&name=fc&blank=")
        for name, value in [("Content-Type", "text/plain; charset=utf-8"), ("User-Agent", "fcemu-test/1"),
                            ("x-multi", "one"), ("X-Multi", "two"), ("x-fc-request-id", "echo-1"),
                            ("x-fc-function-handler", "evil.handler"), ("x-fc-control-path", "/initialize"),
                            ("Content-Length", str(len("héllo".encode())))]:
            connection.putheader(name, value)
        connection.endheaders("héllo".encode())
        reply = connection.getresponse()
        status, reply_headers, event = reply.status, reply.headers, json.loads(reply.read())
    finally:
        connection.close()
    after_ms = int(time.time() * 1000)
    assert status == 200, event
    assert reply_headers["x-fc-request-id"] == "echo-1"
    assert reply_headers["content-type"] == "application/json", "a JSON value without statusCode is the body"
    assert set(event) == {"version", "rawPath", "body", "isBase64Encoded", "headers", "queryParameters",
                          "requestContext"}
    assert event["version"] == "v1"
    assert event["rawPath"] == "/items/a%20b"
    assert event["body"] == "héllo"
    assert event["isBase64Encoded"] is False
    assert event["queryParameters"] == {"x": "1,2", "name": "fc", "blank": ""}
    headers = event["headers"]
    assert headers["User-Agent"] == "fcemu-test/1"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["X-Multi"] == "one,two"
    assert not [name for name in headers if name.lower().startswith("x-fc-")], "no contract header reaches it"
    context = event["requestContext"]
    assert set(context) == {"accountId", "domainName", "domainPrefix", "http", "requestId", "time", "timeEpoch"}
    assert context["accountId"] == ACCOUNT_ID
    assert context["domainName"] == f"127.0.0.1:{emulator.port}"
    assert context["domainPrefix"] == "event-echo"
    assert context["http"] == {"method": "POST", "path": "/items/a b", "protocol": "HTTP/1.1",
                               "sourceIp": "127.0.0.1", "userAgent": "fcemu-test/1"}
    assert context["requestId"] == "echo-1"
    assert isinstance(context["timeEpoch"], str) and before_ms <= int(context["timeEpoch"]) <= after_ms
    assert context["time"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(context["timeEpoch"]) / 1000))


def test_the_contract_follows_the_function_on_the_2016_proxy_route(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    reply = http.get(f"{emulator.url}/2016-08-15/proxy/default.LATEST/event-echo/deep/path?q=1")
    assert reply.status_code == 200, reply.text
    event = reply.json()
    assert (event["rawPath"], event["queryParameters"], event["body"]) == ("/deep/path", {"q": "1"}, "")
    assert event["requestContext"]["http"]["method"] == "GET"


def test_a_response_struct_is_the_answer(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.put(f"{emulator.url}/http/event-struct/orders", headers={"x-fc-request-id": "struct-1"})
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"method": "PUT", "path": "/orders", "requestId": "struct-1"}
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-served-by"] == "event-struct"
    assert reply.raw.headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert reply.headers["x-fc-request-id"] == "struct-1", "the function cannot set the platform's headers"
    assert reply.headers["content-length"] == str(len(reply.content))
    assert http.get(f"{emulator.url}/http/event-struct/status/404").status_code == 404


def test_a_plain_string_is_a_200_body(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.get(f"{emulator.url}/http/event-text/", params={"name": "fcemu"})
    assert reply.status_code == 200
    assert reply.text == "hello fcemu"
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"


def test_a_binary_body_goes_base64_both_ways(emulator: EmulatorProcess, http: requests.Session) -> None:
    sent = bytes(range(256))
    reply = http.post(f"{emulator.url}/http/event-binary/upload", data=sent,
                      headers={"Content-Type": "application/octet-stream"})
    assert reply.status_code == 200, reply.text
    assert reply.content == bytes(reversed(sent))
    assert reply.headers["x-request-was-base64"] == "true"
    assert reply.headers["content-type"] == "application/octet-stream"


def test_a_function_error_is_fc_s_502(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.get(f"{emulator.url}/http/event-struct/boom")
    assert reply.status_code == 502
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert reply.json()["errorMessage"] == "boom"


def test_an_invalid_response_struct_is_a_bad_response(emulator: EmulatorProcess, http: requests.Session) -> None:
    body = assert_v3_error(http.get(f"{emulator.url}/http/event-struct/bad-status"), 502, "BadResponse")
    assert "statusCode" in body["Message"]
    body = assert_v3_error(http.get(f"{emulator.url}/http/event-struct/bad-body"), 502, "BadResponse")
    assert "body must be a string" in body["Message"]


def test_the_log_tail_of_an_event_http_function(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.get(f"{emulator.url}/http/event-text/", headers={"x-fc-log-type": "Tail"})
    assert reply.status_code == 200 and reply.text == "hello world"
    log = base64.b64decode(reply.headers["x-fc-log-result"]).decode()
    assert f"FC Invoke Start RequestId: {reply.headers['x-fc-request-id']}" in log


def test_an_async_request_records_the_mapped_answer(
    emulator: EmulatorProcess, http: requests.Session, redis_server: RedisServer
) -> None:
    task_id = f"struct_{uuid.uuid4().hex[:10]}"
    watcher = TaskWatcher(redis_server.url)
    try:
        reply = http.post(f"{emulator.url}/http/event-struct/later", data=b"queued", headers={
            "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
        assert reply.status_code == 202
        assert watcher.wait_for("event-struct", task_id) == "Succeeded"
    finally:
        watcher.close()
    task = http.get(f"{emulator.url}/2023-03-30/functions/event-struct/async-tasks/{task_id}").json()
    answer = json.loads(task["returnPayload"])
    assert answer["status"] == 201
    assert ["Set-Cookie", "a=1"] in answer["headers"] and ["Set-Cookie", "b=2"] in answer["headers"]
    assert not [name for name, _ in answer["headers"] if name.lower().startswith("x-fc-")]
    assert answer["isBase64Encoded"] is False
    assert json.loads(answer["body"]) == {"method": "POST", "path": "/later",
                                          "requestId": reply.headers["x-fc-request-id"]}


def test_an_async_request_whose_answer_is_a_5xx_fails(
    emulator: EmulatorProcess, http: requests.Session, redis_server: RedisServer
) -> None:
    task_id = f"struct_{uuid.uuid4().hex[:10]}"
    watcher = TaskWatcher(redis_server.url)
    try:
        reply = http.post(f"{emulator.url}/http/event-struct/status/503", headers={
            "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
        assert reply.status_code == 202
        assert watcher.wait_for("event-struct", task_id) == "Failed"
    finally:
        watcher.close()
    task = http.get(f"{emulator.url}/2023-03-30/functions/event-struct/async-tasks/{task_id}").json()
    assert json.loads(task["returnPayload"])["status"] == 503


ECHO_EVENT = "import json\n\ndef handler(event, context):\n    return json.loads(event)\n"
WSGI_APP = (
    "def handler(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    return [('wsgi ' + environ['PATH_INFO']).encode()]\n"
)
HTTP_TRIGGER = {"authType": "anonymous", "methods": ["GET", "POST"]}


def test_a_function_created_through_the_2023_api_gets_the_event(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    name = f"deployed-web-{uuid.uuid4().hex[:6]}"
    api = f"{emulator.url}/2023-03-30/functions"
    created = http.post(api, json={
        "functionName": name, "runtime": "python3.10", "handler": "main.handler", "memorySize": 128,
        # A client cannot pick another generation than the API's own.
        "apiVersion": "2016-08-15",
        "code": {"zipFile": base64.b64encode(zipped({"main.py": ECHO_EVENT})).decode()},
    })
    assert created.status_code == 200, created.text
    try:
        trigger = http.post(f"{api}/{name}/triggers", json={
            "triggerName": "web", "triggerType": "http", "triggerConfig": json.dumps(HTTP_TRIGGER)})
        assert trigger.status_code == 200, trigger.text
        reply = http.post(f"{emulator.url}/http/{name}/hi?a=b", json={"k": 1})
        assert reply.status_code == 200, reply.text
        event = reply.json()
        assert (event["rawPath"], event["queryParameters"]) == ("/hi", {"a": "b"})
        assert json.loads(event["body"]) == {"k": 1} and event["isBase64Encoded"] is False
        # An update keeps the generation.
        updated = http.put(f"{api}/{name}", json={"description": "still FC 3.0", "apiVersion": "2016-08-15"})
        assert updated.status_code == 200, updated.text
        assert http.get(f"{emulator.url}/http/{name}/again").json()["rawPath"] == "/again"
    finally:
        assert http.delete(f"{api}/{name}").status_code == 204


def test_a_function_created_through_the_2016_api_keeps_wsgi(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    api = f"{emulator.url}/2016-08-15/services"
    assert http.post(api, json={"serviceName": service}).status_code == 200
    functions = f"{api}/{service}/functions"
    created = http.post(functions, json={
        "functionName": "site", "runtime": "python3.10", "handler": "main.handler", "memorySize": 128,
        "code": {"zipFile": base64.b64encode(zipped({"main.py": WSGI_APP})).decode()},
    })
    assert created.status_code == 200, created.text
    try:
        trigger = http.post(f"{functions}/site/triggers", json={
            "triggerName": "web", "triggerType": "http", "triggerConfig": HTTP_TRIGGER})
        assert trigger.status_code == 200, trigger.text
        reply = http.get(f"{emulator.url}/2016-08-15/proxy/{service}/site/page")
        assert reply.status_code == 200, reply.text
        assert reply.text == "wsgi /page"
    finally:
        assert http.delete(f"{functions}/site").status_code == 204
        assert http.delete(f"{api}/{service}").status_code == 204


def test_a_nodejs_function_gets_the_same_event_and_its_struct_is_the_answer(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    reply = http.post(f"{emulator.url}/http/node-event/orders?id=7", data=b'{"n": 1}',
                      headers={"Content-Type": "application/json", "x-fc-request-id": "node-event-1"})
    assert reply.status_code == 202, reply.text
    assert reply.headers["x-runtime"] == "nodejs"
    answer = reply.json()
    assert answer["requestId"] == "node-event-1"
    event = answer["event"]
    assert event["version"] == "v1"
    assert (event["rawPath"], event["queryParameters"], event["body"], event["isBase64Encoded"]) == (
        "/orders", {"id": "7"}, '{"n": 1}', False)
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["domainPrefix"] == "node-event"
    text = http.get(f"{emulator.url}/http/node-event/text")
    assert (text.status_code, text.text) == (200, "plain text from node")
