"""Sync invoke through both API versions, against real containers."""
from __future__ import annotations

import base64
import json
import threading

import docker
import requests
from docker.models.containers import Container

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v2, v3


def test_hello_answers_on_the_2023_route(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "hello"), data=b'{"name": "fc"}')
    assert reply.status_code == 200
    assert reply.content == b"hello fc"
    assert reply.headers["x-fc-request-id"]
    assert "x-fc-error-type" not in reply.headers


def test_hello_answers_on_the_2016_route_with_qualifier(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v2(emulator, "hello", "default.LATEST"), data=b"", headers={"x-fc-invocation-type": "Sync"})
    assert reply.status_code == 200
    assert reply.content == b"hello world"


def test_a_client_request_id_is_kept(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "hello"), data=b"{}", headers={"x-fc-request-id": "my-request-1"})
    assert reply.headers["x-fc-request-id"] == "my-request-1"


def test_second_invoke_reuses_the_warm_instance(emulator: EmulatorProcess, http: requests.Session) -> None:
    first = http.post(v3(emulator, "hello"), data=b"{}")
    second = http.post(v3(emulator, "hello"), data=b"{}")
    assert first.headers["x-fc-instance-id"] == second.headers["x-fc-instance-id"]


def test_handler_exception_comes_back_in_fc_shape(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "fail"), data=b"oops")
    assert reply.status_code == 200
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    error = reply.json()
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input: oops"
    assert any("index.py" in frame[0] for frame in error["stackTrace"])
    assert not any("bootstrap.py" in frame[0] for frame in error["stackTrace"])


def test_log_tail_holds_the_framed_invocation_log(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "hello"), data=b'{"name": "logs"}', headers={"x-fc-log-type": "Tail"})
    request_id = reply.headers["x-fc-request-id"]
    log = base64.b64decode(reply.headers["x-fc-log-result"]).decode()
    assert log.splitlines() == [
        f"FC Invoke Start RequestId: {request_id}",
        "saying hello to logs",
        f"FC Invoke End RequestId: {request_id}",
    ]


def test_log_tail_of_a_failure_marks_the_end_line(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "fail"), data=b"x", headers={"x-fc-log-type": "Tail"})
    log = base64.b64decode(reply.headers["x-fc-log-result"]).decode()
    assert "about to fail" in log
    assert log.rstrip().endswith(", Error: Unhandled function error")


def _container_log_until(container: Container, last_line: str, timeout: float = 10) -> list[str]:
    """The container's stdout lines up to `last_line`, followed as Docker copies them (its copy trails)."""
    lines: list[str] = []
    found = threading.Event()

    def follow() -> None:
        for raw in container.logs(stream=True, follow=True, stderr=False):
            lines.extend(raw.decode().splitlines())
            if last_line in lines:
                found.set()
                return

    threading.Thread(target=follow, daemon=True).start()
    assert found.wait(timeout), lines
    return lines


def test_container_stdout_frames_each_invocation(
    emulator: EmulatorProcess, http: requests.Session, docker_client: docker.DockerClient
) -> None:
    loud = http.post(v3(emulator, "hello"), data=b'{"name": "stdout"}', headers={"x-fc-request-id": "loud-1"})
    silent = http.post(v3(emulator, "echo"), data=b"quiet", headers={"x-fc-request-id": "silent-1"})
    assert loud.status_code == silent.status_code == 200
    loud_log = _container_log_until(docker_client.containers.get(loud.headers["x-fc-instance-id"]),
                                    "FC Invoke End RequestId: loud-1")
    assert loud_log[-3:] == ["FC Invoke Start RequestId: loud-1", "saying hello to stdout",
                             "FC Invoke End RequestId: loud-1"]
    silent_log = _container_log_until(docker_client.containers.get(silent.headers["x-fc-instance-id"]),
                                      "FC Invoke End RequestId: silent-1")
    assert silent_log[-2:] == ["FC Invoke Start RequestId: silent-1", "FC Invoke End RequestId: silent-1"]


def test_no_log_result_unless_asked(emulator: EmulatorProcess, http: requests.Session) -> None:
    assert "x-fc-log-result" not in http.post(v3(emulator, "hello"), data=b"{}").headers


def test_context_and_environment_reach_the_handler(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "context"), data=b"payload", headers={"x-fc-request-id": "ctx-1"})
    seen = reply.json()
    assert seen["requestId"] == "ctx-1"
    assert seen["function"] == {"name": "context", "handler": "index.handler", "memory": 256, "timeout": 5}
    assert seen["service"] == "default"
    assert seen["region"] == "cn-hangzhou"
    assert seen["hasCredentials"] is True
    assert seen["env"] == {"GREETING": "hi", "FC_FUNCTION_NAME": "context", "FC_RUNTIME": "python3.10"}
    assert seen["event"] == "payload"
    assert seen["uid"] == 65534


def test_initializer_runs_once_per_instance(emulator: EmulatorProcess, http: requests.Session) -> None:
    first = http.post(v3(emulator, "init-once"), data=b"").json()
    second = http.post(v3(emulator, "init-once"), data=b"").json()
    assert first["initializer"] == 1 and second["initializer"] == 1
    assert second["handler"] == first["handler"] + 1


def test_convert_file_turns_csv_into_json(emulator: EmulatorProcess, http: requests.Session) -> None:
    csv_text = "name,city\nAda,London\nLin,Hangzhou\n"
    event = {"fileName": "people.csv", "targetFormat": "json", "content": base64.b64encode(csv_text.encode()).decode()}
    reply = http.post(v3(emulator, "convert-file"), data=json.dumps(event))
    converted = reply.json()
    assert converted["fileName"] == "people.json"
    assert json.loads(base64.b64decode(converted["content"])) == [
        {"name": "Ada", "city": "London"}, {"name": "Lin", "city": "Hangzhou"},
    ]
