"""The go1 runtime's HTTP paths, concurrency and failures end to end (binaries built in this run, deployed through
FC's API): FC 3.0's HTTP trigger event to an event handler, an FC 2.0 HTTP function (fc.StartHttp), two
overlapping invocations of one instance, a process that exits mid-request, a handler naming no binary; and the
agent driven directly (its secret, probes, the binary's environment)."""
from __future__ import annotations

import base64
import json
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

import docker
import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client

from emulator.settings import Settings
from tests.support.container_output import output_until
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.go_functions import binary_zip, deploy_go


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


# The agent driven directly, as only the emulator may drive it.

TOKEN = "go-agent-secret"


@pytest.fixture(scope="module")
def agent_port(docker_client: docker.DockerClient, go_binaries: dict[str, Path],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    code = tmp_path_factory.mktemp("go-agent-code")
    code.chmod(0o755)
    shutil.copy(go_binaries["go-signatures"], code / "main")
    (code / "main").chmod(0o644)  # as fcemu unpacks code: the agent runs it all the same
    container = docker_client.containers.run(
        Settings().go_runtime_image, detach=True, ports={"9000/tcp": ("127.0.0.1", None)},
        volumes={str(code): {"bind": "/code", "mode": "ro"}}, read_only=True,
        tmpfs={"/tmp": "rw,nosuid,nodev,size=16m"}, user="65534:65534", labels={"fcemu.test": "go-agent"},
        environment={"FCEMU_AGENT_TOKEN": TOKEN, "FC_FUNCTION_HANDLER": "main", "HANDLER_KIND": "env"},
    )
    try:
        output_until(container, "FunctionCompute go1 runtime inited.")
        container.reload()
        yield int(container.attrs["NetworkSettings"]["Ports"]["9000/tcp"][0]["HostPort"])
    finally:
        container.remove(force=True)


def test_a_request_without_the_instance_s_secret_is_refused(agent_port: int) -> None:
    for headers in ({}, {"x-fcemu-agent-token": "guess"}):
        reply = requests.post(f"http://127.0.0.1:{agent_port}/invoke", data=b"{}", headers=headers, timeout=10)
        assert reply.status_code == 403 and "x-fc-status" not in reply.headers


def test_probes_pre_freeze_and_a_pre_stop_without_a_hook_answer_200_empty(agent_port: int) -> None:
    headers = {"x-fcemu-agent-token": TOKEN}
    for method, path in (("GET", "/"), ("GET", "/pre-freeze"), ("GET", "/pre-stop"), ("POST", "/initialize")):
        reply = requests.request(method, f"http://127.0.0.1:{agent_port}{path}", headers=headers, timeout=10)
        assert (reply.status_code, reply.content) == (200, b""), path


def test_the_binary_never_sees_the_secret_and_the_last_header_line_wins(agent_port: int) -> None:
    connection = HTTPConnection("127.0.0.1", agent_port, timeout=10)
    try:
        connection.putrequest("POST", "/invoke")
        for name, value in (("x-fcemu-agent-token", TOKEN), ("x-fc-function-name", "first"),
                            ("x-fc-function-name", "last"), ("Content-Length", "0")):
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        status, body = answer.status, json.loads(answer.read())
    finally:
        connection.close()
    assert status == 200
    assert body["token"] == "" and body["handler"] == "main" and body["name"] == "last"
    assert body["api"].startswith("127.0.0.1:")
