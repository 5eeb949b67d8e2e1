"""A function's answer is bounded as FC bounds payloads: past the sync payload limit it is a function error in
FC's shape, the emulator never holds it (its peak memory does not grow by it) and Redis never stores it. Real
containers, a real Redis, an emulator of the module's own (its memory is measured)."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import redis
import requests

from emulator.redis_io.keys import shard_of, task_member
from emulator.settings import Settings
from tests.conftest import owned_containers
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

LIMIT = Settings().sync_payload_limit_bytes
OVER = LIMIT + 48 * 1024 * 1024  # well past the limit, so that holding it would show in the peak memory
SMALL = 10


@pytest.fixture(scope="module")
def limited(functions_dir: Path, tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer,
            docker_client: docker.DockerClient) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(functions_dir, tmp_path_factory.mktemp("answer-logs") / "fcemu.log",
                              redis_url=module_redis.url).start()
    yield process
    process.stop()
    assert owned_containers(docker_client, process.owner) == [], "the emulator left containers behind"


def _memory_kib(pid: int) -> dict[str, int]:
    """The process's resident memory now (VmRSS) and its peak since start or the last reset (VmHWM)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0])
    assert found.keys() == {"VmHWM", "VmRSS"}, "no VmHWM or VmRSS in /proc/<pid>/status"
    return found


def _peak_memory_kib(pid: int) -> int:
    """The process's peak resident memory since the last _reset_peak_memory: a bound, read after the fact, not a
    timing."""
    return _memory_kib(pid)["VmHWM"]


def _reset_peak_memory(pid: int) -> int:
    """Starts a new peak at the current resident memory (Linux: 5 to clear_refs), so that what the module's earlier
    tests made the shared emulator hold cannot hide a peak of this one; returns that starting peak."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    memory = _memory_kib(pid)
    # The peak now is what is resident (give or take what moved since the reset), not an earlier high.
    assert memory["VmHWM"] - memory["VmRSS"] < 8 * 1024, f"clear_refs did not reset the peak: {memory}"
    return memory["VmHWM"]


def _v3(emulator: EmulatorProcess, function: str) -> str:
    return f"{emulator.url}/2023-03-30/functions/{function}/invocations"


def _v2(emulator: EmulatorProcess, function: str) -> str:
    return f"{emulator.url}/2016-08-15/services/default/functions/{function}/invocations"


def _ask(size: int) -> bytes:
    return json.dumps({"bytes": size}).encode()


def _assert_too_large(reply: requests.Response) -> None:
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert reply.headers["x-fc-request-id"]
    assert len(reply.content) < 1024
    assert f"exceeds the limit of {LIMIT} bytes" in reply.json()["errorMessage"]


@pytest.mark.parametrize("function", ["big-answer", "node-big-answer"])
def test_a_sync_answer_past_the_limit_is_an_fc_error_and_never_held(
    limited: EmulatorProcess, http: requests.Session, function: str,
) -> None:
    warm = http.post(_v3(limited, function), data=_ask(SMALL))
    assert warm.status_code == 200 and warm.content == b"x" * SMALL, warm.text
    instance = warm.headers["x-fc-instance-id"]
    peak_before = _reset_peak_memory(limited.pid)
    for url in (_v3(limited, function), _v2(limited, function)):
        reply = http.post(url, data=_ask(OVER))
        _assert_too_large(reply)
        # The instance answered in full (it was not at fault), so it serves on.
        assert reply.headers["x-fc-instance-id"] == instance
    grown_kib = _peak_memory_kib(limited.pid) - peak_before
    assert grown_kib * 1024 < OVER // 4, f"the emulator's peak memory grew by {grown_kib} KiB"
    again = http.post(_v3(limited, function), data=_ask(SMALL))
    assert again.status_code == 200 and again.content == b"x" * SMALL
    assert again.headers["x-fc-instance-id"] == instance


def test_an_answer_of_exactly_the_limit_comes_back_whole(limited: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(_v3(limited, "big-answer"), data=_ask(LIMIT))
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers
    assert len(reply.content) == LIMIT


def test_an_async_answer_past_the_limit_fails_the_task_and_stays_out_of_redis(
    limited: EmulatorProcess, module_redis: RedisServer, http: requests.Session,
) -> None:
    watcher = TaskWatcher(module_redis.url)
    try:
        accepted = http.post(_v3(limited, "big-answer"), data=_ask(OVER),
                             headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "big-1"})
        assert accepted.status_code == 202, accepted.text
        assert watcher.wait_for("big-answer", "big-1", timeout=120) == "Failed"
    finally:
        watcher.close()
    task = http.get(f"{limited.url}/2023-03-30/functions/big-answer/async-tasks/big-1").json()
    assert f"exceeds the limit of {LIMIT} bytes" in task["taskErrorMessage"]
    assert len(task.get("returnPayload", "")) < 1024
    member = task_member("big-answer", "big-1")
    client = redis.Redis.from_url(module_redis.url)
    try:
        key = shard_of(member, 1).task(member)
        assert client.exists(key)
        assert client.hstrlen(key, "ret") < 1024
        assert client.memory_usage(key) < 64 * 1024
    finally:
        client.close()
    # The function still answers, on the same kind of call.
    assert http.post(_v3(limited, "big-answer"), data=_ask(SMALL)).content == b"x" * SMALL


def test_an_http_trigger_answer_past_the_limit_is_a_502_function_error(
    limited: EmulatorProcess, http: requests.Session,
) -> None:
    # FC 3.0's event mapping: the handler's return value is read whole, so the limit applies to it.
    reply = http.get(f"{limited.url}/http/big-answer/?bytes={OVER}")
    assert reply.status_code == 502, reply.text[:200]
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert f"exceeds the limit of {LIMIT} bytes" in reply.json()["errorMessage"]
    small = http.get(f"{limited.url}/http/big-answer/?bytes={SMALL}")
    assert small.status_code == 200 and small.content == b"x" * SMALL


def test_an_async_http_answer_whose_record_would_pass_the_limit_fails_the_task(
    limited: EmulatorProcess, module_redis: RedisServer, http: requests.Session,
) -> None:
    size = LIMIT * 7 // 8  # within the limit, but a third larger in base64, as the task records a binary body
    watcher = TaskWatcher(module_redis.url)
    try:
        accepted = http.get(f"{limited.url}/2016-08-15/proxy/default/big-web/?bytes={size}",
                            headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "web-1"})
        assert accepted.status_code == 202, accepted.text
        assert watcher.wait_for("big-web", "web-1", timeout=120) == "Failed"
    finally:
        watcher.close()
    task = http.get(f"{limited.url}/2023-03-30/functions/big-web/async-tasks/web-1").json()
    assert f"exceeds the limit of {LIMIT} bytes" in task["taskErrorMessage"]
    member = task_member("big-web", "web-1")
    client = redis.Redis.from_url(module_redis.url)
    try:
        assert client.hstrlen(shard_of(member, 1).task(member), "ret") < 1024
    finally:
        client.close()
    # Sync, the same answer is streamed to its client whole: a forwarded body has no limit.
    reply = http.get(f"{limited.url}/2016-08-15/proxy/default/big-web/?bytes={size}")
    assert reply.status_code == 200 and len(reply.content) == size


def test_a_log_tail_is_cut_from_a_custom_runtimes_output_without_holding_it(
    limited: EmulatorProcess, http: requests.Session,
) -> None:
    megabytes = 96
    warm = http.post(_v3(limited, "custom-printer"), data=b"{}", headers={"x-fc-log-type": "Tail"})
    assert warm.status_code == 200 and warm.content == b"done", warm.text
    peak_before = _reset_peak_memory(limited.pid)
    reply = http.post(_v3(limited, "custom-printer"), data=json.dumps({"megabytes": megabytes}),
                      headers={"x-fc-log-type": "Tail"})
    assert reply.status_code == 200 and reply.content == b"done", reply.text
    request_id = reply.headers["x-fc-request-id"]
    tail = base64.b64decode(reply.headers["x-fc-log-result"]).decode()
    assert len(tail.encode()) <= 4096
    assert tail.endswith(f"the last line of {request_id}\nFC Invoke End RequestId: {request_id}\n"), tail[-200:]
    grown_kib = _peak_memory_kib(limited.pid) - peak_before
    assert grown_kib * 1024 < megabytes * 1024 * 1024 // 4, f"the emulator's peak memory grew by {grown_kib} KiB"


@pytest.mark.parametrize("path", ["/http/big-answer/", "/2016-08-15/proxy/default/big-web/"],
                         ids=["fc3-event", "forwarded"])
def test_http_answer_headers_past_fcs_8_kb_are_a_502_bad_response(
    limited: EmulatorProcess, http: requests.Session, path: str,
) -> None:
    fits = http.get(f"{limited.url}{path}?bytes=1&headerBytes=7000")
    assert fits.status_code == 200 and len(fits.headers["x-big-0"] + fits.headers["x-big-1"]) == 7000
    reply = http.get(f"{limited.url}{path}?bytes=1&headerBytes=9000")
    assert reply.status_code == 502
    error = reply.json()  # each route's own shape: FC 3.0's, or FC 2.0's on the proxy route
    assert (error.get("Code") or error["ErrorCode"]) == "BadResponse"
    assert "8192 bytes" in (error.get("Message") or error["ErrorMessage"])
    assert reply.headers["x-fc-request-id"]
    assert http.get(f"{limited.url}{path}?bytes=3").content in (b"xxx", b"\xff" * 3)
