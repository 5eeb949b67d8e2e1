"""The go1 runtime's HTTP paths, concurrency and failures end to end (binaries built in this run, deployed through
FC's API): FC 3.0's HTTP trigger event to an event handler, an FC 2.0 HTTP function (fc.StartHttp), two
overlapping invocations of one instance, a process that exits mid-request, a handler naming no binary, an answer
over the agent's limit (the agent driven directly: test_go_agent_docker.py)."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.go_functions import binary_zip, deploy_go, remove_deployed


@pytest.fixture(scope="module", autouse=True)
def _leaves_no_function_behind(emulator: EmulatorProcess) -> Iterator[None]:
    yield
    remove_deployed(emulator.url)

def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def function_error(reply: requests.Response) -> dict:
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError", reply.text
    return reply.json()


def test_an_fc3_http_trigger_gives_an_event_handler_fc_s_event_and_maps_its_answer(
    emulator: EmulatorProcess, http: requests.Session, fc3_client: FC3Client, go_binaries: dict[str, Path]
) -> None:
    name = deploy_go(fc3_client, go_binaries["go-signatures"], unique("go-event"),
                     environment_variables={"HANDLER_KIND": "event"})
    trigger = http.post(f"{emulator.url}/2023-03-30/functions/{name}/triggers", json={
        "triggerName": "web", "triggerType": "http",
        "triggerConfig": json.dumps({"methods": ["POST"], "authType": "anonymous"})})
    assert trigger.status_code == 200, trigger.text
    reply = http.post(f"{emulator.url}/http/{name}/items/7?x=1", data=b"go body")
    assert reply.status_code == 202, reply.text
    assert reply.headers["x-go"] == "yes"
    assert reply.text == "POST /items/7 go body"


def test_an_fc2_http_function_gets_the_request_and_answers_its_status_headers_and_body(
    emulator: EmulatorProcess, http: requests.Session, fc2_client: fc2.Client, go_binaries: dict[str, Path],
    tmp_path: Path
) -> None:
    service = unique("go-web")
    code = tmp_path / "code.zip"
    code.write_bytes(binary_zip(go_binaries["go-signatures"]))
    fc2_client.create_service(service)
    for function, kind in (("web", "http"), ("silent", "httpsilent")):
        fc2_client.create_function(service, function, "go1", "main", codeZipFile=str(code),
                                   environmentVariables={"HANDLER_KIND": kind})
        fc2_client.create_trigger(service, function, "web", "http",
                                  {"authType": "anonymous", "methods": ["GET", "POST"]}, "", "")
    reply = http.get(f"{emulator.url}/2016-08-15/proxy/{service}.LATEST/web/a/b", params=[("x", "1"), ("x", "2")])
    assert reply.status_code == 201, reply.text
    assert reply.headers["x-probe"] == "/a/b"
    assert reply.text == "GET /a/b q=map[x:[1 2]]"
    # A handler that writes nothing answers 200 with no body, as net/http's own default.
    silent = http.post(f"{emulator.url}/2016-08-15/proxy/{service}.LATEST/silent/", data=b"x")
    assert silent.status_code == 200 and silent.content == b""


def test_two_invocations_overlap_in_one_instance_with_instance_concurrency_2(
    emulator: EmulatorProcess, fc3_client: FC3Client, go_binaries: dict[str, Path]
) -> None:
    name = deploy_go(fc3_client, go_binaries["go-noop"], unique("go-meet"), instance_concurrency=2)

    def meet(request_id: str) -> requests.Response:
        return requests.post(v3(emulator, name), data=b'{"key": "meet"}', headers={"x-fc-request-id": request_id},
                             timeout=60)

    warm = requests.post(v3(emulator, name), data=b'{"key": "warm"}', timeout=60)
    assert warm.status_code == 200, warm.text
    # Each waits for the other inside the same process: they can only both answer if they ran at once.
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(meet, ["meet-a", "meet-b"]))
    assert sorted(reply.text for reply in replies) in (['"met meet-a"', '"waited"'], ['"met meet-b"', '"waited"'])
    assert {reply.headers["x-fc-instance-id"] for reply in replies} == {warm.headers["x-fc-instance-id"]}


def test_a_process_that_exits_fails_its_invocation_and_the_next_one_runs_in_a_new_process(
    emulator: EmulatorProcess, http: requests.Session, fc3_client: FC3Client, go_binaries: dict[str, Path]
) -> None:
    name = deploy_go(fc3_client, go_binaries["go-noop"], unique("go-exit"))
    exited = http.post(v3(emulator, name), data=b'{"key": "exit"}', headers={"x-fc-log-type": "Tail"})
    # FC's go1 page: os.Exit or log.Fatal answers a generic process-exit message, no errorType, no stack.
    assert function_error(exited) == {
        "errorMessage": "Process exited unexpectedly before completing request (exit status 3)"}
    request_id = exited.headers["x-fc-request-id"]
    lines = base64.b64decode(exited.headers["x-fc-log-result"]).decode().splitlines()
    assert lines[0] == f"FC Invoke Start RequestId: {request_id}"
    assert f"exiting on request {request_id}" in lines
    assert lines[-1] == f"FC Invoke End RequestId: {request_id}, Error: Unhandled function error"
    after = http.post(v3(emulator, name), data=b'{"key": "back"}')
    assert after.content == b'"hello, back!"'
    assert after.headers["x-fc-instance-id"] == exited.headers["x-fc-instance-id"]


def test_a_restarted_process_runs_the_initializer_again_before_its_first_invocation(
    emulator: EmulatorProcess, http: requests.Session, fc3_client: FC3Client, go_binaries: dict[str, Path]
) -> None:
    name = deploy_go(fc3_client, go_binaries["go-signatures"], unique("go-reinit"),
                     environment_variables={"HANDLER_KIND": "hooked"},
                     instance_lifecycle_config=fc3_models.InstanceLifecycleConfig(
                         initializer=fc3_models.LifecycleHook(handler="init", timeout=5)))
    first = http.post(v3(emulator, name), data=b"{}")
    assert first.status_code == 200 and first.json(), first.text
    exited = function_error(http.post(v3(emulator, name), data=b'{"exit": true}'))
    assert exited == {"errorMessage": "Process exited unexpectedly before completing request (exit status 4)"}
    second = http.post(v3(emulator, name), data=b"{}")
    assert second.headers["x-fc-instance-id"] == first.headers["x-fc-instance-id"]
    assert second.status_code == 200 and second.json() not in ("", first.json()), second.text


def test_a_handler_that_names_no_binary_is_an_fc_error_not_a_hang(
    emulator: EmulatorProcess, http: requests.Session, fc3_client: FC3Client, go_binaries: dict[str, Path]
) -> None:
    name = deploy_go(fc3_client, go_binaries["go-noop"], unique("go-missing"), handler="bootstrap")
    error = function_error(http.post(v3(emulator, name), data=b"{}"))
    assert error["errorType"] == "HandlerNotFound"
    assert error["errorMessage"].startswith('the handler "bootstrap" is not a file in the function\'s code')


def test_a_go_function_reaches_fcs_endpoint_by_its_name_over_https(
    emulator: EmulatorProcess, http: requests.Session, fc3_client: FC3Client, go_binaries: dict[str, Path]
) -> None:
    name = deploy_go(fc3_client, go_binaries["go-signatures"], unique("go-fccall"),
                     environment_variables={"HANDLER_KIND": "fccall"})
    reply = http.post(v3(emulator, name), data=b"")
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    # Name, relay and certificate all worked: the endpoint answered, refusing the unsigned request in FC's shape.
    assert reply.json() == {"status": 400, "code": "MissingRequiredHeader"}


def test_an_answer_over_the_agent_s_limit_fails_its_invocation_at_once(
    emulator: EmulatorProcess, http: requests.Session, fc3_client: FC3Client, go_binaries: dict[str, Path]
) -> None:
    # Were the answer left waiting, the invocation would end with FC's timeout error instead.
    name = deploy_go(fc3_client, go_binaries["go-signatures"], unique("go-big"), memory_size=1024, timeout=60,
                     environment_variables={"HANDLER_KIND": "big"})
    limit = 64 << 20
    reply = http.post(v3(emulator, name), data=str(limit).encode(), headers={"x-fc-log-type": "Tail"})
    assert function_error(reply) == {"errorMessage": f"Function response size exceeds the limit of {limit} bytes"}
    request_id = reply.headers["x-fc-request-id"]
    lines = base64.b64decode(reply.headers["x-fc-log-result"]).decode().splitlines()
    assert lines[0] == f"FC Invoke Start RequestId: {request_id}"
    # The instance serves on.
    after = http.post(v3(emulator, name), data=b"3")
    assert after.content == b'"xxx"' and after.headers["x-fc-instance-id"] == reply.headers["x-fc-instance-id"]
