"""Fuzz test: hostile requests on every public route, against a real `fcemu serve` with real Redis and Docker.

The cases come from the OpenAPI document fcemu publishes at /_fcemu/openapi.json (tests/support/fuzz_cases.py):
FC's models for the bodies and FC's x-fc-* headers, made valid, half-valid or hostile. No answer may be a 5xx
(but for an HTTP function's own failure, which FC answers 502 with x-fc-error-type), and the emulator must answer
its health route after every case and still run a function at the end.

FCEMU_FUZZ_EXAMPLES sets how many cases in all (default 3000, shared out evenly over the operations);
derandomised, so that a CI run sends the same cases each time.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import docker
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from starlette.routing import Route

from emulator.api.app import create_app
from tests.conftest import TEST_FUNCTIONS, owned_containers
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fuzz_cases import GOOD_ZIP, Case, Document, Operation, Strategies
from tests.support.redis_server import RedisServer

EXAMPLES = int(os.environ.get("FCEMU_FUZZ_EXAMPLES", "3000"))
ROUNDS = 5  # the operations' cases are sent in rounds, the state the cases refer to made again before each
# Cheap functions only: every invoke may start a container (at most one per function, see the settings below).
FUNCTIONS = {"hello": REPO / "functions", "echo": TEST_FUNCTIONS, "web": TEST_FUNCTIONS, "fail": TEST_FUNCTIONS}
HTTP_TRIGGER_PREFIXES = ("/http/", "/2016-08-15/proxy/")
REQUEST_TIMEOUT_S = 60


@dataclass
class Finding:
    status: int
    answer: str
    first_case: str
    count: int = 0


@dataclass
class Figures:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    findings: dict[tuple[str, int, str], Finding] = field(default_factory=dict)


def _code(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:80].decode("utf-8", "replace")
    if isinstance(parsed, dict):
        return str(parsed.get("Code") or parsed.get("ErrorCode") or parsed.get("Message") or "")
    return ""


class Fuzzer:
    def __init__(self, emulator: EmulatorProcess) -> None:
        self._emulator = emulator
        self.figures = Figures()

    def _connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self._emulator.port, timeout=REQUEST_TIMEOUT_S)

    def run(self, case: Case) -> None:
        figures = self.figures
        figures.cases += 1
        connection = self._connection()
        try:
            connection.putrequest(case.operation.method.upper(), case.target, skip_accept_encoding=True)
            for name, value in case.headers.items():
                connection.putheader(name, value)
            connection.putheader("content-length", str(len(case.body)))
            connection.endheaders(case.body)
            response = connection.getresponse()
            status, headers = response.status, response.headers
            # A stream of server-sent events (the console's, logs' follow mode) never ends: its status is the answer.
            streaming = headers.get("content-type", "").startswith("text/event-stream")
            body = b"" if streaming else response.read(64 * 1024)
        except (OSError, http.client.HTTPException) as error:
            status, body, headers = 0, f"no answer: {type(error).__name__}: {error}".encode(), http.client.HTTPMessage()
        finally:
            connection.close()
        figures.statuses[status] += 1
        figures.by_operation.setdefault(case.operation.label, Counter())[status] += 1
        if self._acceptable(case, status, headers):
            self._check_health(case)
            return
        finding = figures.findings.setdefault(
            (case.operation.label, status, _code(body)),
            Finding(status, body[:300].decode("utf-8", "replace"), case.describe()),
        )
        finding.count += 1
        self._check_health(case)

    @staticmethod
    def _acceptable(case: Case, status: int, headers: http.client.HTTPMessage) -> bool:
        if 0 < status < 500:
            return True
        # FC answers an HTTP function's unhandled error, timeout or crash with 502 and x-fc-error-type: the
        # function's failure, not the emulator's. Any other 5xx on these routes is fcemu's own.
        return status == 502 and case.path.startswith(HTTP_TRIGGER_PREFIXES) and "x-fc-error-type" in headers

    def _check_health(self, case: Case) -> None:
        connection = self._connection()
        try:
            connection.request("GET", "/_fcemu/health")
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as error:
            pytest.fail(f"the emulator stopped answering after {case.describe()}: {error}")
        finally:
            connection.close()
        if status != 200:
            pytest.fail(f"GET /_fcemu/health answered {status} after {case.describe()}")


@pytest.fixture(scope="module")
def fuzz_emulator(tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient
                  ) -> Iterator[EmulatorProcess]:
    """An emulator of its own (and a Redis of its own): what the fuzz creates must not reach the other tests."""
    functions = tmp_path_factory.mktemp("fuzz-functions")
    for name, source in FUNCTIONS.items():
        shutil.copytree(source / name, functions / name)
    redis_server = RedisServer(tmp_path_factory.mktemp("fuzz-redis")).start()
    try:
        process = EmulatorProcess(
            functions, tmp_path_factory.mktemp("fuzz-logs") / "fcemu.log", redis_url=redis_server.url,
            max_instances_per_function="1", instance_start_timeout_s="10", instance_wait_timeout_s="10",
            retry_base_delay_s="0.05", destination_max_attempts="2", destination_http_timeout_s="2",
            hot_reload="false",
        ).start()
        try:
            yield process
        finally:
            process.stop()
        assert owned_containers(docker_client, process.owner) == [], "the emulator left containers behind"
    finally:
        redis_server.stop()


def _document(emulator: EmulatorProcess) -> Document:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    try:
        connection.request("GET", "/_fcemu/openapi.json")
        response = connection.getresponse()
        assert response.status == 200
        return Document(json.loads(response.read()))
    finally:
        connection.close()


def test_the_document_describes_every_public_route(fuzz_emulator: EmulatorProcess) -> None:
    described = {operation.label.lower() for operation in _document(fuzz_emulator).operations}
    routes = set()
    for route in create_app().routes:
        if isinstance(route, Route) and route.include_in_schema:
            path = route.path.replace(":path}", "}")
            routes |= {f"{method.lower()} {path}" for method in route.methods or ()}
    assert routes - described == set()
    invoke = next(op for op in _document(fuzz_emulator).operations
                  if op.label == "POST /2023-03-30/functions/{function_name}/invocations")
    headers = {parameter["name"] for parameter in invoke.parameters if parameter["in"] == "header"}
    assert {"x-fc-invocation-type", "x-fc-log-type", "x-fc-async-delay", "x-fc-async-task-id",
            "x-fc-request-id"} <= headers
    create = next(op for op in _document(fuzz_emulator).operations if op.label == "POST /2023-03-30/functions")
    assert create.body is not None and "code" in create.body["properties"]


def _fuzz(fuzzer: Fuzzer, strategies: Strategies, operation: Operation, examples: int, round_number: int) -> None:
    # A fixed seed per operation and round: the same cases on every run, different ones in every round.
    @seed(zlib.crc32(f"{round_number} {operation.label}".encode()))
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategies.case(operation))
    def one_case(case: Case) -> None:
        fuzzer.run(case)

    one_case()


def _request(emulator: EmulatorProcess, method: str, path: str, body: object = None,
             headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=REQUEST_TIMEOUT_S)
    try:
        data = json.dumps(body).encode() if body is not None else b""
        connection.request(method, path, body=data, headers={"content-type": "application/json", **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _seed_state(emulator: EmulatorProcess) -> None:
    """What the cases' names refer to, made again before each round (cases delete things): a function, a service
    with a function, triggers, an async config and queued tasks, so that requests get past the lookups."""
    function = {"runtime": "python3.10", "handler": "index.handler", "code": {"zipFile": GOOD_ZIP}}
    steps: list[tuple[str, str, object, dict[str, str]]] = [
        ("POST", "/2023-03-30/functions", {"functionName": "fuzz-fn", **function}, {}),
        ("POST", "/2016-08-15/services", {"serviceName": "fuzz-svc"}, {}),
        ("POST", "/2016-08-15/services/fuzz-svc/functions", {"functionName": "fuzz-fn", **function}, {}),
        ("POST", "/2023-03-30/functions/fuzz-fn/triggers",
         {"triggerName": "fuzz-trigger", "triggerType": "http", "triggerConfig": '{"authType": "anonymous"}'}, {}),
        ("POST", "/2016-08-15/services/fuzz-svc/functions/fuzz-fn/triggers",
         {"triggerName": "fuzz-trigger", "triggerType": "http", "triggerConfig": {"authType": "anonymous"}}, {}),
        ("POST", "/2016-08-15/services/fuzz-svc/functions/fuzz-fn/triggers",
         {"triggerName": "fuzz_timer", "triggerType": "timer", "triggerConfig": {"cronExpression": "@every 1h"}},
         {}),
        ("PUT", "/2023-03-30/functions/echo/async-invoke-config", {"asyncTask": True, "maxAsyncRetryAttempts": 0}, {}),
        ("POST", "/2023-03-30/functions/echo/invocations", "event",
         {"x-fc-invocation-type": "Async", "x-fc-async-task-id": "fuzz-task", "x-fc-async-delay": "3600"}),
        ("POST", "/2016-08-15/services/default/functions/echo/invocations", "event",
         {"x-fc-invocation-type": "Async", "x-fc-stateful-async-invocation-id": "fuzz_task_2",
          "x-fc-async-delay": "3600"}),
    ]
    # Cases may disable a function's invocation: every one is enabled again.
    steps += [("POST", f"/2023-03-30/functions/{name}/invoke/enable", None, {}) for name in [*FUNCTIONS, "fuzz-fn"]]
    for method, path, body, headers in steps:
        status = _request(emulator, method, path, body, headers)
        assert status < 300 or status == 409, f"{method} {path}: {status}"


def test_no_request_answers_a_5xx_and_the_emulator_stays_healthy(
    fuzz_emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _document(fuzz_emulator)
    strategies = Strategies(document)
    fuzzer = Fuzzer(fuzz_emulator)
    # Operations with a JSON body get three shares of the cases: their bodies have many fields to get wrong.
    shares = sum(3 if operation.json_body else 1 for operation in document.operations)
    per_share = max(1, EXAMPLES // shares // ROUNDS)
    started = time.monotonic()
    for round_number in range(ROUNDS):
        _seed_state(fuzz_emulator)
        for operation in document.operations:
            _fuzz(fuzzer, strategies, operation, per_share * (3 if operation.json_body else 1), round_number)
    elapsed = time.monotonic() - started
    figures = fuzzer.figures

    # Still serving after all that: a sync invoke runs its function (once invocation is enabled again, and a fuzzed
    # reservedConcurrency, which may have been 0, is gone).
    assert _request(fuzz_emulator, "POST", "/2023-03-30/functions/hello/invoke/enable") == 200
    assert _request(fuzz_emulator, "DELETE", "/2023-03-30/functions/hello/concurrency") in (204, 404)
    connection = http.client.HTTPConnection("127.0.0.1", fuzz_emulator.port, timeout=REQUEST_TIMEOUT_S)
    connection.request("POST", "/2023-03-30/functions/hello/invocations", body=b'{"name": "fuzz"}')
    reply = connection.getresponse()
    assert (reply.status, reply.read()) == (200, b"hello fuzz")
    connection.close()

    with capsys.disabled():
        print(f"\nfuzz: {figures.cases} cases on {len(figures.by_operation)} of {len(document.operations)} operations "
              f"in {elapsed:.0f} s; statuses "
              f"{dict(sorted(figures.statuses.items()))}")
        if os.environ.get("FCEMU_FUZZ_VERBOSE"):
            for label, statuses in figures.by_operation.items():
                print(f"fuzz: {label}: {dict(sorted(statuses.items()))}")
        for (label, status, code), finding in figures.findings.items():
            print(f"fuzz: FOUND {status} {code} on {label} ({finding.count}x)\n    {finding.first_case[:600]}\n"
                  f"    answer: {finding.answer[:200]}")
    assert len(figures.by_operation) == len(document.operations)
    assert not figures.findings, f"{len(figures.findings)} kinds of 5xx answers, listed above"
