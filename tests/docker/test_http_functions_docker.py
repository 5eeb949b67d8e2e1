"""HTTP functions: a WSGI app and a custom runtime's own server behind FC's HTTP trigger routes, sync and async."""
from __future__ import annotations

import http.client
import json
import uuid

import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher


def test_a_wsgi_function_gets_method_path_query_headers_and_body(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    reply = http.get(f"{emulator.url}/http/web/items/7", params={"x": "1", "y": "two"},
                     headers={"X-Custom": "yes", "x-fc-request-id": "web-1"})
    assert reply.status_code == 200
    assert reply.json() == {"method": "GET", "path": "/items/7", "query": "x=1&y=two", "custom": "yes",
                            "body": "", "requestId": "web-1"}
    assert reply.headers["x-served-by"] == "web"
    assert reply.headers["x-fc-request-id"] == "web-1"
    assert reply.raw.headers.getlist("set-cookie") == ["a=1", "b=2"]


def test_the_2016_proxy_route_and_post(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(f"{emulator.url}/2016-08-15/proxy/default.LATEST/web/orders", data=b'{"id": 3}')
    assert reply.status_code == 201
    assert reply.json()["body"] == '{"id": 3}' and reply.json()["path"] == "/orders"


def test_a_request_that_expects_100_continue(emulator: EmulatorProcess) -> None:
    # curl sends this for large bodies; fcemu reads the body itself and must not pass the handshake on.
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    try:
        connection.request("POST", "/http/web/upload", body=b"x" * 2048,
                           headers={"Expect": "100-continue", "Content-Type": "application/octet-stream"})
        reply = connection.getresponse()
        assert reply.status == 201
        assert json.loads(reply.read())["body"] == "x" * 2048
    finally:
        connection.close()


def test_methods_and_triggers_are_enforced(emulator: EmulatorProcess, http: requests.Session) -> None:
    assert_v3_error(http.put(f"{emulator.url}/http/web/x"), 405, "MethodNotAllowed")
    assert_v3_error(http.get(f"{emulator.url}/http/hello/"), 404, "TriggerNotFound")
    assert_v2_error(http.get(f"{emulator.url}/2016-08-15/proxy/nope/web/"), 404, "ServiceNotFound")


def test_an_unhandled_error_is_a_502(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.get(f"{emulator.url}/http/web/boom")
    assert reply.status_code == 502
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert reply.json()["errorMessage"] == "boom"


def test_a_custom_runtime_server_gets_the_request_on_http_invoke(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    reply = http.post(f"{emulator.url}/http/custom-server/some/where?q=1", data=b"raw")
    assert reply.status_code == 200
    assert reply.json() == {"path": "/some/where?q=1", "controlPath": "/http-invoke", "function": "custom-server",
                            "event": "raw"}


def test_an_async_http_request_is_replayed_and_its_answer_recorded(
    emulator: EmulatorProcess, http: requests.Session, redis_server: RedisServer
) -> None:
    task_id = f"web_{uuid.uuid4().hex[:10]}"
    watcher = TaskWatcher(redis_server.url)
    try:
        reply = http.post(f"{emulator.url}/http/web/later?n=5", data=b"queued body", headers={
            "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id, "X-Custom": "kept"})
        assert reply.status_code == 202
        assert reply.headers["x-fc-async-task-id"] == task_id
        assert watcher.wait_for("web", task_id) == "Succeeded"
    finally:
        watcher.close()
    task = http.get(f"{emulator.url}/2023-03-30/functions/web/async-tasks/{task_id}").json()
    answer = json.loads(task["returnPayload"])
    assert answer["status"] == 201
    assert ["X-Served-By", "web"] in answer["headers"]
    assert json.loads(answer["body"]) == {"method": "POST", "path": "/later", "query": "n=5", "custom": "kept",
                                          "body": "queued body", "requestId": reply.headers["x-fc-request-id"]}


def test_a_large_answer_is_streamed_through(emulator: EmulatorProcess, http: requests.Session) -> None:
    with http.post(f"{emulator.url}/http/custom-server/big", data=b"", stream=True) as reply:
        assert reply.status_code == 200
        assert reply.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in reply.headers
        received = b"".join(reply.iter_content(1 << 20))
    assert received == b"0123456789abcdef" * 65536 * 8
    again = http.post(f"{emulator.url}/http/custom-server/after", data=b"x")
    assert again.json()["path"] == "/after", "the instance serves again once the body was read"


def test_an_encoded_question_mark_in_the_path_stays_in_the_path(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    """The path is forwarded as the client encoded it: decoded, '%3F' would have cut the path and the query."""
    reply = http.get(f"{emulator.url}/http/web/a%3Fb%23c", params={"x": "1"})
    assert reply.status_code == 200, reply.text
    assert (reply.json()["path"], reply.json()["query"]) == ("/a?b#c", "x=1")
