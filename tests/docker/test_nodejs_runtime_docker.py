"""The Node.js runtime (nodejs14-20) end to end: real `fcemu serve`, real containers of fcemu/runtime-nodejs, and
the agent itself driven directly for what the emulator does not call (preStop, handler look-up errors)."""
from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path

import docker
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from docker.models.containers import Container

from emulator.devtools.mail_sink import MailSink
from emulator.settings import Settings
from tests.support.container_output import output_until
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v2, v3, zipped
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import docker_bridge_gateway, wait_until_gone

NODE_IMAGE = Settings().nodejs_runtime_image
# FC's Node.js log line: UTC time, request id, [level], message.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\S*) \[(debug|info|warn|error)\] (.*)$")


def invoke(http: requests.Session, emulator: EmulatorProcess, function: str, event: object = None,
           **headers: str) -> requests.Response:
    body = event if isinstance(event, bytes) else json.dumps(event).encode() if event is not None else b""
    return http.post(v3(emulator, function), data=body, headers=headers)


def tail(reply: requests.Response) -> list[str]:
    return base64.b64decode(reply.headers["x-fc-log-result"]).decode().splitlines()


def function_error(reply: requests.Response) -> dict:
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError", reply.text
    return reply.json()


# Handlers, context and answers.


def test_an_async_handler_gets_a_buffer_and_fc_context_on_both_api_versions(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    reply = http.post(v3(emulator, "node-async"), data=b"payload", headers={"x-fc-request-id": "node-ctx-1"})
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers
    seen = reply.json()
    assert seen["requestId"] == "node-ctx-1"
    assert seen["isBuffer"] is True and seen["event"] == "payload"
    assert seen["function"] == {"name": "node-async", "handler": "index.handler", "memory": 256, "timeout": 5,
                                "initializer": "", "initializationTimeout": 3}
    assert seen["service"]["name"] == "default" and seen["service"]["qualifier"] == "LATEST"
    assert seen["region"] == "cn-hangzhou" and seen["accountId"] == "1234567890123456"
    assert seen["retryCount"] == 0 and seen["hasLogger"] is True
    assert set(seen["credentials"]) == {"accessKeyId", "accessKeySecret", "securityToken"}
    assert seen["env"] == {"GREETING": "hi", "FC_FUNCTION_NAME": "node-async", "FC_RUNTIME": "nodejs18"}
    assert seen["uid"] == 65534

    old = http.post(v2(emulator, "node-async"), data=b"v2", headers={"x-fc-invocation-type": "Sync"})
    assert old.status_code == 200 and old.json()["event"] == "v2"


def test_return_values_are_sent_as_fc_sends_them(emulator: EmulatorProcess, http: requests.Session) -> None:
    assert invoke(http, emulator, "node-async", {"do": "buffer"}).content == bytes([0, 1, 2, 255])
    assert invoke(http, emulator, "node-async", {"do": "string"}).content == b"just text"
    # An object is JSON.
    assert json.loads(invoke(http, emulator, "node-callback", b"x").content)["echoed"] == "x"


def test_a_callback_handler_answers_through_its_callback(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "node-callback"), data=b"hello", headers={"x-fc-request-id": "cb-1"})
    assert reply.json() == {"echoed": "hello", "requestId": "cb-1"}
    error = function_error(invoke(http, emulator, "node-callback", b"fail"))
    assert error["errorMessage"] == "callback says no" and error["errorType"] == "Error"
    assert error["stackTrace"][0] == "Error: callback says no"


def test_an_esm_module_is_loaded(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = invoke(http, emulator, "node-esm", b"abc")
    assert reply.json()["module"] == "esm"
    assert reply.json()["sha1"] == "a9993e364706816aba3e25717850c26c9cd0d89d"


# The examples in functions/.


def test_hello_node_says_hello(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = invoke(http, emulator, "hello-node", {"name": "node"}, **{"x-fc-log-type": "Tail"})
    assert reply.content == b"hello node"
    assert LOG_LINE.match(tail(reply)[1]).group(3) == "saying hello to node"  # type: ignore[union-attr]


def test_send_email_node_mails_asynchronously(functions_dir: Path, tmp_path: Path) -> None:
    """The seed's sign-up scenario in Node.js: 202 at once, the mail goes out in the background."""
    redis_server = RedisServer(tmp_path / "redis").start()  # its own: other dispatchers know another SMTP port
    gateway = docker_bridge_gateway()

    async def scenario() -> None:
        sink = MailSink()
        port = await sink.start(gateway, 0)
        copy = tmp_path / "functions" / "send-email-node"
        shutil.copytree(functions_dir / "send-email-node", copy)
        manifest = copy / "function.yaml"
        manifest.write_text(manifest.read_text().replace('SMTP_PORT: "1025"', f'SMTP_PORT: "{port}"'))
        emulator = EmulatorProcess(tmp_path / "functions", tmp_path / "fcemu.log", redis_url=redis_server.url).start()
        try:
            reply = await asyncio.to_thread(
                requests.post, v3(emulator, "send-email-node"), data=json.dumps({"to": "lin@example.com", "name": "Lin"}),
                headers={"x-fc-invocation-type": "Async", "x-fc-request-id": "signup-node-1"}, timeout=30,
            )
            assert reply.status_code == 202
            [mail] = await sink.wait_for(1, timeout=30)
        finally:
            emulator.stop()
            await sink.close()
            redis_server.kill()
        assert mail.recipients == ["lin@example.com"]
        assert mail.message["Subject"] == "Welcome aboard"
        assert mail.message["X-Request-Id"] == "signup-node-1"
        assert "Hello Lin" in mail.message.get_body().get_content()

    asyncio.run(scenario())


# Errors as FC reports them for Node.js.


def test_a_thrown_error_comes_back_in_fc_shape(emulator: EmulatorProcess, http: requests.Session) -> None:
    error = function_error(invoke(http, emulator, "node-async", {"do": "throw", "input": "x"}))
    assert error["errorMessage"] == "bad input: x"
    assert error["errorType"] == "TypeError"
    assert error["stackTrace"][0] == "TypeError: bad input: x"
    assert all(isinstance(line, str) for line in error["stackTrace"])
    assert any("/code/index.js" in line for line in error["stackTrace"])
    assert not any("bootstrap.js" in line for line in error["stackTrace"])


def test_a_rejected_promise_is_the_functions_error(emulator: EmulatorProcess, http: requests.Session) -> None:
    error = function_error(invoke(http, emulator, "node-async", {"do": "reject"}))
    assert (error["errorType"], error["errorMessage"]) == ("RangeError", "rejected on purpose")


def test_an_unhandled_rejection_fails_its_invocation(emulator: EmulatorProcess, http: requests.Session) -> None:
    error = function_error(invoke(http, emulator, "node-async", {"do": "unhandled"}))
    assert error["errorMessage"] == "nobody awaited this"
    # The instance lives on and serves the next invocation.
    assert invoke(http, emulator, "node-async", {"do": "string"}).content == b"just text"


def test_an_error_thrown_in_a_timer_fails_its_invocation(emulator: EmulatorProcess, http: requests.Session) -> None:
    error = function_error(invoke(http, emulator, "node-callback", b"throw-later"))
    assert error["errorMessage"] == "thrown in a timer"


@pytest.mark.parametrize(("do", "message", "kind"), [
    ("throw-string", "a plain string", "string"),
    ("throw-object", '{"code":42,"reason":"not an Error"}', "object"),
])
def test_a_thrown_non_error(emulator: EmulatorProcess, http: requests.Session, do: str, message: str,
                            kind: str) -> None:
    error = function_error(invoke(http, emulator, "node-async", {"do": do}))
    assert error == {"errorMessage": message, "errorType": kind, "stackTrace": []}


def test_a_module_that_fails_to_load(emulator: EmulatorProcess, http: requests.Session) -> None:
    error = function_error(invoke(http, emulator, "node-broken"))
    assert error["errorType"] == "Error"
    assert "Cannot find module './does-not-exist'" in error["errorMessage"]


# Lifecycle: initializer, timeouts.


def test_the_initializer_runs_once_per_instance(emulator: EmulatorProcess, http: requests.Session) -> None:
    first = invoke(http, emulator, "node-init")
    second = invoke(http, emulator, "node-init")
    assert first.headers["x-fc-instance-id"] == second.headers["x-fc-instance-id"]
    assert first.json()["initializer"] == second.json()["initializer"] == 1
    assert second.json()["handler"] == first.json()["handler"] + 1
    # The initializer ran under a request id of its own.
    assert first.json()["initializedBy"] not in ("", first.headers["x-fc-request-id"])


def test_a_failing_initializer_fails_the_invoke_and_the_next_gets_a_new_instance(
    emulator: EmulatorProcess, http: requests.Session, docker_client: docker.DockerClient
) -> None:
    for _ in range(2):
        error = function_error(invoke(http, emulator, "node-init-fail"))
        assert (error["errorType"], error["errorMessage"]) == ("Error", "cannot connect to the database")
        # The instance whose initializer failed is gone: the next invoke starts (and initializes) a new one.
        assert docker_client.containers.list(all=True, filters={
            "label": [f"fcemu.owner={emulator.owner}", "fcemu.function=node-init-fail"]}) == []


def test_a_timeout_kills_and_replaces_the_instance(
    emulator: EmulatorProcess, http: requests.Session, docker_client: docker.DockerClient
) -> None:
    warm = invoke(http, emulator, "node-sleepy", {"sleep": 0}).headers["x-fc-instance-id"]
    timed_out = invoke(http, emulator, "node-sleepy", {"sleep": 3})
    assert function_error(timed_out) == {"errorMessage": "Function timed out after 1 seconds"}
    wait_until_gone(docker_client, warm)
    after = invoke(http, emulator, "node-sleepy", {"sleep": 0})
    assert after.json() == {"slept": 0} and after.headers["x-fc-instance-id"] != warm


# Logs.


def test_log_lines_are_framed_and_carry_the_request_id(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = invoke(http, emulator, "node-async", {"do": "log", "input": 42}, **{"x-fc-log-type": "Tail"})
    request_id = reply.headers["x-fc-request-id"]
    lines = tail(reply)
    assert lines[0] == f"FC Invoke Start RequestId: {request_id}"
    assert lines[-1] == f"FC Invoke End RequestId: {request_id}"
    logged = [LOG_LINE.match(line) for line in lines[1:4]]
    assert [(match.group(1), match.group(2), match.group(3)) for match in logged if match] == [
        (request_id, "info", "console says 42"), (request_id, "error", "console errs"),
        (request_id, "warn", "logger warns"),
    ]
    assert lines[4] == "raw line"


def test_a_failed_invocations_log_marks_the_end_line(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = invoke(http, emulator, "node-async", {"do": "throw", "input": "y"}, **{"x-fc-log-type": "Tail"})
    lines = tail(reply)
    assert any(line.endswith("[info] about to throw") for line in lines)
    assert any("TypeError: bad input: y" in line for line in lines)
    assert lines[-1].endswith(", Error: Unhandled function error")


def test_concurrent_invocations_on_one_instance_keep_their_logs_apart(
    emulator: EmulatorProcess, http: requests.Session
) -> None:
    def call(index: int) -> requests.Response:
        return http.post(v3(emulator, "node-concurrent"), data=str(index).encode(),
                         headers={"x-fc-log-type": "Tail", "x-fc-request-id": f"conc-{index}-{uuid.uuid4().hex[:6]}"})

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(call, range(2)))
    assert len({reply.headers["x-fc-instance-id"] for reply in replies}) == 1
    for reply in replies:
        request_id = reply.headers["x-fc-request-id"]
        assert reply.content.decode() == request_id
        lines = tail(reply)
        ids = [match.group(1) for match in map(LOG_LINE.match, lines) if match]
        assert ids == [request_id, request_id], lines


# Async invocation: task mode with delay, retries.


def test_a_delayed_async_task_succeeds(emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher) -> None:
    task_id = f"node_{uuid.uuid4().hex[:12]}"
    reply = http.post(v3(emulator, "node-sleepy"), data=b'{"sleep": 0}', headers={
        "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id, "x-fc-async-delay": "1"})
    assert reply.status_code == 202
    assert watcher.wait_for("node-sleepy", task_id) == "Succeeded"
    task = http.get(f"{emulator.url}/2023-03-30/functions/node-sleepy/async-tasks/{task_id}").json()
    assert json.loads(task["returnPayload"]) == {"slept": 0}


def test_async_on_the_2016_api(emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher) -> None:
    request_id = f"node-v2-{uuid.uuid4().hex[:8]}"
    reply = http.post(v2(emulator, "node-async"), data=b'{"do": "string"}',
                      headers={"x-fc-invocation-type": "Async", "x-fc-request-id": request_id})
    assert reply.status_code == 202
    assert watcher.wait_for("node-async", request_id) == "Succeeded"


def test_a_failing_function_is_retried_then_fails(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    task_id = f"nflaky_{uuid.uuid4().hex[:12]}"
    http.post(v3(emulator, "node-flaky"), data=b"boom",
              headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
    assert watcher.wait_for("node-flaky", task_id) == "Failed"
    task = http.get(f"{emulator.url}/2023-03-30/functions/node-flaky/async-tasks/{task_id}").json()
    assert task["alreadyRetriedTimes"] == 2
    assert task["taskErrorMessage"] == "always fails (boom)"
    assert json.loads(task["returnPayload"])["errorType"] == "Error"


# Deploying through the management API.


def test_deploy_a_node_function_from_a_zip_with_the_fc3_sdk(fc3_client: FC3Client) -> None:
    name = f"node-deployed-{uuid.uuid4().hex[:6]}"
    code = zipped({"index.js": "exports.handler = (event, context, callback) => "
                               "callback(null, 'v1 ' + event.toString());\n"})
    fc3_client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="nodejs20", handler="index.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code).decode()),
    )))
    try:
        reply = fc3_client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b"sync"))
        assert reply.body.read() == b"v1 sync"
    finally:
        fc3_client.delete_function(name)


# FC 2.0 HTTP functions: (request, response, context).


def test_an_http_function_on_the_2016_proxy_route(emulator: EmulatorProcess, http: requests.Session) -> None:
    url = f"{emulator.url}/2016-08-15/proxy/default/node-web/some/p%20ath?a=1&a=2&b=x"
    reply = http.post(url, data=b"the body", headers={"X-Custom": "mine", "x-fc-request-id": "web-node-1"})
    assert reply.status_code == 201, reply.text
    assert reply.headers["X-Served-By"] == "node-web"
    assert "X-Removed" not in reply.headers
    assert reply.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    seen = reply.json()
    assert seen["method"] == "POST" and seen["path"] == "/some/p ath"
    assert seen["queries"] == {"a": ["1", "2"], "b": "x"}
    assert seen["url"] == "/some/p%20ath?a=1&a=2&b=x"
    assert seen["custom"] == "mine" and seen["fcHeaders"] == []
    assert seen["body"] == seen["streamed"] == "the body"
    assert seen["requestId"] == "web-node-1" and seen["functionName"] == "node-web"
    assert seen["clientIP"]

    got = http.get(f"{emulator.url}/2016-08-15/proxy/default/node-web/stream")
    assert got.status_code == 200 and got.content == b"streamed body"


def test_an_http_functions_error_is_a_502(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.get(f"{emulator.url}/2016-08-15/proxy/default/node-web/boom")
    assert reply.status_code == 502
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert reply.json()["errorMessage"] == "boom"


# The agent itself: lifecycle hooks and handler look-up, as FC's runtime contract calls them.

AGENT_CODE = """
exports.handler = async (event, context) => `handled by ${context.function.handler}`;
exports.other = async () => 'the other one';
exports.preStop = (context, callback) => {
  console.log('preStop for', context.requestId);
  setTimeout(() => callback(null, ''), 5);
};
exports.failingPreStop = async () => { throw new Error('cannot flush'); };
exports.chatty = async (event, context) => { console.log('line of', context.requestId); return 'ok'; };
exports.lastWords = async (event, context) => {
  // The first line after a quiet spell goes out at once; the second, right after it, waits for the next batch,
  // so it reaches the log only if the agent writes what it holds when the process exits.
  console.log('first words');
  process.stdout.write('last words\\n');
  process.exit(3);
};
"""


@dataclass(frozen=True)
class AgentAnswer:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> dict:
        return json.loads(self.content)


# The secret a directly driven agent is started with and called with, as the emulator does
# (emulator/pool/contract.py; tests/test_instance_isolation_docker.py checks that it is needed).
AGENT_TOKEN = {"FCEMU_AGENT_TOKEN": "node-agent-test-secret"}


class Agent:
    """One container of the Node.js image with code mounted, reached on its published port."""

    def __init__(self, container: Container, host: str, port: int) -> None:
        self.container = container
        self.host, self.port = host, port

    def call(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> AgentAnswer:
        """One request with these header lines, repeated names included, in this order, and the secret."""
        connection = HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.putrequest(method, path)
            for name, value in [*headers, ("x-fcemu-agent-token", AGENT_TOKEN["FCEMU_AGENT_TOKEN"]),
                                ("Content-Length", str(len(body)))]:
                connection.putheader(name, value)
            connection.endheaders(body)
            answer = connection.getresponse()
            return AgentAnswer(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
        finally:
            connection.close()

    def log_until(self, line: str) -> list[str]:
        lines: list[str] = []
        found = threading.Event()

        def follow() -> None:
            for raw in self.container.logs(stream=True, follow=True):
                lines.extend(raw.decode().splitlines())
                if line in lines:
                    found.set()
                    return

        threading.Thread(target=follow, daemon=True).start()
        assert found.wait(10), lines
        return lines


@pytest.fixture(scope="module")
def agent(docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    code = tmp_path_factory.mktemp("node-agent-code")
    code.chmod(0o755)
    (code / "index.js").write_text(AGENT_CODE)
    (code / "index.js").chmod(0o644)
    container = docker_client.containers.run(
        NODE_IMAGE, detach=True, ports={"9000/tcp": ("127.0.0.1", None)},
        volumes={str(code): {"bind": "/code", "mode": "ro"}},
        environment={"FC_INSTANCE_LIFECYCLE_PRE_STOP_HANDLER": "index.failingPreStop", **AGENT_TOKEN},
        labels={"fcemu.test": "node-agent"},
    )
    try:
        output_until(container, "FunctionCompute nodejs runtime inited.")
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["9000/tcp"][0]["HostPort"]
        yield Agent(container, "127.0.0.1", int(port))
    finally:
        container.remove(force=True)


def test_pre_stop_calls_the_named_hook_framed_in_the_log(agent: Agent) -> None:
    reply = agent.call("GET", "/pre-stop", [("x-fc-request-id", "stop-1"),
                                            ("x-fc-instance-lifecycle-pre-stop-handler", "index.preStop")])
    assert reply.status_code == 200 and "x-fc-status" not in reply.headers
    lines = agent.log_until("FC PreStop End RequestId: stop-1")
    start = lines.index("FC PreStop Start RequestId: stop-1")
    match = LOG_LINE.match(lines[start + 1])
    assert match and match.group(1) == "stop-1" and match.group(3) == "preStop for stop-1"


def test_a_failing_pre_stop_hook_answers_with_fc_error(agent: Agent) -> None:
    # Named by the instance's environment (FC_INSTANCE_LIFECYCLE_PRE_STOP_HANDLER) when no header names it.
    reply = agent.call("GET", "/pre-stop", [("x-fc-request-id", "stop-2")])
    assert reply.headers["x-fc-status"] == "404"
    assert reply.json()["errorMessage"] == "cannot flush"


def test_the_last_header_line_wins(agent: Agent) -> None:
    reply = agent.call("POST", "/invoke", [("x-fc-request-id", "h-1"), ("x-fc-function-handler", "index.other"),
                                           ("x-fc-function-handler", "index.handler")])
    assert reply.content == b"handled by index.handler"


@pytest.mark.parametrize(("handler", "kind", "message"), [
    ("index.missing", "HandlerNotFound", "Handler 'missing' is missing on module 'index'"),
    ("nowhere.handler", "ImportModuleError", "Cannot find module 'nowhere' in /code"),
    ("handler", "HandlerNotFound", "Invalid handler 'handler'"),
])
def test_a_handler_that_cannot_be_found(agent: Agent, handler: str, kind: str, message: str) -> None:
    reply = agent.call("POST", "/invoke", [("x-fc-request-id", "nf-1"), ("x-fc-function-handler", handler)])
    assert reply.headers["x-fc-status"] == "404"
    assert reply.json() == {"errorMessage": message, "errorType": kind, "stackTrace": []}



def test_a_burst_of_invocations_is_logged_framed_and_in_order(agent: Agent) -> None:
    # The agent gathers the stdout of invocations that follow each other closely into one write.
    ids = [f"burst-{index}" for index in range(30)]
    for request_id in ids:
        reply = agent.call("POST", "/invoke", [("x-fc-request-id", request_id), ("x-fc-function-handler", "index.chatty")])
        assert reply.content == b"ok"
    lines = agent.log_until(f"FC Invoke End RequestId: {ids[-1]}")
    start = lines.index(f"FC Invoke Start RequestId: {ids[0]}")
    for offset, request_id in enumerate(ids):
        framed = lines[start + 3 * offset:start + 3 * offset + 3]
        assert framed[0] == f"FC Invoke Start RequestId: {request_id}", framed
        match = LOG_LINE.match(framed[1])
        assert match and match.group(1) == request_id and match.group(3) == f"line of {request_id}", framed
        assert framed[2] == f"FC Invoke End RequestId: {request_id}", framed


def test_output_held_for_the_next_write_reaches_the_log_when_the_process_exits(agent: Agent,
                                                                              docker_client: docker.DockerClient) -> None:
    code_dir = agent.container.attrs["Mounts"][0]["Source"]
    container = docker_client.containers.run(
        NODE_IMAGE, detach=True, volumes={code_dir: {"bind": "/code", "mode": "ro"}}, environment=AGENT_TOKEN,
        ports={"9000/tcp": ("127.0.0.1", None)}, labels={"fcemu.test": "node-agent-exit"},
    )
    try:
        output_until(container, "FunctionCompute nodejs runtime inited.")
        container.reload()
        port = int(container.attrs["NetworkSettings"]["Ports"]["9000/tcp"][0]["HostPort"])
        with pytest.raises(ConnectionError):
            Agent(container, "127.0.0.1", port).call(
                "POST", "/invoke", [("x-fc-request-id", "exit-1"), ("x-fc-function-handler", "index.lastWords")])
        assert container.wait(timeout=10)["StatusCode"] == 3
        start, first, last = container.logs().decode().splitlines()[-3:]
        assert start == "FC Invoke Start RequestId: exit-1"
        assert LOG_LINE.match(first).group(3) == "first words"  # type: ignore[union-attr]
        assert last == "last words"
    finally:
        container.remove(force=True)
