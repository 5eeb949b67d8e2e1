"""`fcemu clock advance`: due times, retry backoff, max event age and timers move with the advanced clock;
leases do not (a running task is not run twice). Against a real redis-server, real Docker and `fcemu serve`.
The clock is shared through Redis, so this module has a Redis and an emulator of its own."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulator.redis_io.keys import shard_of, task_member
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import v3
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher


@pytest.fixture(scope="module")
def clocked(functions_dir: Path, tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer
            ) -> Iterator[EmulatorProcess]:
    # A backoff of 5 minutes (the cap) and a lease of 2 s, so that a run outlives several leases.
    process = EmulatorProcess(functions_dir, tmp_path_factory.mktemp("clock-logs") / "fcemu.log",
                              redis_url=module_redis.url, retry_base_delay_s="300", lease_s="2").start()
    yield process
    process.stop()


@pytest.fixture()
def events(module_redis: RedisServer) -> Iterator[TaskWatcher]:
    watching = TaskWatcher(module_redis.url)
    yield watching
    watching.close()


def advance(emulator: EmulatorProcess, body: object) -> requests.Response:
    return requests.post(f"{emulator.url}/_fcemu/clock/advance", json=body, timeout=10)


def invoke_async(emulator: EmulatorProcess, function: str, task_id: str, delay_s: int = 0) -> None:
    headers = {"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id}
    if delay_s:
        headers["x-fc-async-delay"] = str(delay_s)
    reply = requests.post(v3(emulator, function), data=b'{"sleep": 0}', headers=headers, timeout=10)
    assert reply.status_code == 202, reply.text


def stored_events(redis: RedisServer, function: str, task_id: str) -> list[dict[str, object]]:
    member = task_member(function, task_id)
    with redis.client() as client:
        return [json.loads(raw) for raw in client.lrange(shard_of(member, 1).events(member), 0, -1)]


def test_a_task_deferred_an_hour_runs_after_advancing_an_hour(
    clocked: EmulatorProcess, module_redis: RedisServer, events: TaskWatcher
) -> None:
    task_id = f"deferred_{uuid.uuid4().hex[:6]}"
    invoke_async(clocked, "echo", task_id, delay_s=3600)
    events.wait_for("echo", task_id, "Enqueued")
    reply = advance(clocked, {"by": "1h"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["offsetMs"] >= 3_600_000
    assert events.wait_for("echo", task_id, timeout=60) == "Succeeded"
    history = stored_events(module_redis, "echo", task_id)
    # Real timestamps stay; the ones written after the advance also carry the advanced time.
    assert "virtualTimestamp" in history[-1]
    assert int(history[-1]["virtualTimestamp"]) - int(history[-1]["timestamp"]) >= 3_600_000  # type: ignore[call-overload]
    shown = requests.get(f"{clocked.url}/2023-03-30/functions/echo/async-tasks/{task_id}", timeout=10).json()
    assert shown["events"][-1]["virtualTimestamp"] == history[-1]["virtualTimestamp"]


def test_a_task_deferred_past_its_max_age_expires_after_an_advance(
    clocked: EmulatorProcess, events: TaskWatcher
) -> None:
    reply = requests.put(f"{clocked.url}/2023-03-30/functions/event-echo/async-invoke-config",
                         json={"maxAsyncEventAgeInSeconds": 60}, timeout=10)
    assert reply.status_code == 200, reply.text
    task_id = f"aged_{uuid.uuid4().hex[:6]}"
    invoke_async(clocked, "event-echo", task_id, delay_s=120)
    events.wait_for("event-echo", task_id, "Enqueued")
    assert advance(clocked, {"seconds": 180}).status_code == 200
    assert events.wait_for("event-echo", task_id, timeout=60) == "Expired"


def test_a_retry_backoff_is_skipped_by_an_advance(clocked: EmulatorProcess, events: TaskWatcher) -> None:
    reply = requests.put(f"{clocked.url}/2023-03-30/functions/flaky/async-invoke-config",
                         json={"maxAsyncRetryAttempts": 1}, timeout=10)
    assert reply.status_code == 200, reply.text
    task_id = f"backoff_{uuid.uuid4().hex[:6]}"
    invoke_async(clocked, "flaky", task_id)
    events.wait_for("flaky", task_id, "Retrying", timeout=60)  # due again in 300 s
    assert advance(clocked, {"by": "5m"}).status_code == 200
    assert events.wait_for("flaky", task_id, timeout=60) == "Failed"
    assert events.seen[task_member("flaky", task_id)].count("Running") == 2


def test_a_timer_fires_once_for_several_skipped_periods(clocked: EmulatorProcess, events: TaskWatcher) -> None:
    name = f"hourly{uuid.uuid4().hex[:6]}"
    mark = clocked.log_lines
    reply = requests.post(f"{clocked.url}/2023-03-30/functions/echo/triggers", timeout=10, json={
        "triggerName": name, "triggerType": "timer", "triggerConfig": json.dumps({"cronExpression": "0 0 * * * *"})})
    assert reply.status_code == 200, reply.text
    clocked.wait_for_log(f"trigger {name} of echo: next firing at", after=mark)
    prefix = f"echo/timer-{name}-"

    def fired() -> list[str]:
        return sorted(member for member, seen in events.seen.items()
                      if member.startswith(prefix) and "Succeeded" in seen)

    assert advance(clocked, {"by": "5h"}).status_code == 200
    events.wait_until(lambda: len(fired()) >= 1, timeout=60)
    # The next period's firing comes after the first one's: had the skipped span fired once per period, its
    # firings would all be in before it.
    assert advance(clocked, {"by": "1h"}).status_code == 200
    events.wait_until(lambda: len(fired()) >= 2, timeout=60)
    first, second = (int(member.rsplit("-", 1)[1]) for member in fired())
    assert second - first >= 3600, fired()
    assert len(fired()) == 2, fired()
    requests.delete(f"{clocked.url}/2023-03-30/functions/echo/triggers/{name}", timeout=10)


def test_an_advance_does_not_run_a_running_task_twice(clocked: EmulatorProcess, events: TaskWatcher) -> None:
    task_id = f"long_{uuid.uuid4().hex[:6]}"
    reply = requests.post(v3(clocked, "patient"), data=json.dumps({"sleep": 6}), timeout=10, headers={
        "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
    assert reply.status_code == 202, reply.text
    events.wait_for("patient", task_id, "Running", timeout=60)
    assert advance(clocked, {"by": "2d"}).status_code == 200
    assert events.wait_for("patient", task_id, timeout=60) == "Succeeded"
    assert events.seen[task_member("patient", task_id)].count("Running") == 1
    assert "expired leases" not in clocked.log_path.read_text()


@pytest.mark.parametrize("body", [
    {"seconds": 0}, {"seconds": -5}, {"seconds": 366 * 86_400 + 1}, {"seconds": "60"}, {"seconds": True},
    {"by": "soon"}, {"by": "-1h"}, {"by": 60}, {"by": "400d"}, {}, {"seconds": 1, "by": "1s"}, {"hours": 1},
    [], "1h",
])
def test_bad_advances_are_refused_with_fc_errors(clocked: EmulatorProcess, body: object) -> None:
    before = requests.get(f"{clocked.url}/_fcemu/clock", timeout=10).json()["offsetMs"]
    reply = advance(clocked, body)
    assert reply.status_code == 400, reply.text
    error = reply.json()
    assert error["Code"] == "InvalidArgument" and error["Message"] and error["RequestId"], error
    assert requests.get(f"{clocked.url}/_fcemu/clock", timeout=10).json()["offsetMs"] == before


def test_the_cli_advances_and_shows_the_clock(clocked: EmulatorProcess) -> None:
    env = {**os.environ, "FCEMU_PORT": str(clocked.port)}
    before = requests.get(f"{clocked.url}/_fcemu/clock", timeout=10).json()["offsetMs"]

    def fcemu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "emulator", "clock", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    done = fcemu("advance", "30s")
    assert done.returncode == 0, done.stderr
    assert requests.get(f"{clocked.url}/_fcemu/clock", timeout=10).json()["offsetMs"] == before + 30_000
    assert fcemu("show").returncode == 0
    refused = fcemu("advance", "soon")
    assert refused.returncode == 2 and "duration" in refused.stderr, refused.stderr


def test_run_now_runs_a_deferred_task_and_refuses_others(clocked: EmulatorProcess, events: TaskWatcher) -> None:
    task_id = f"later_{uuid.uuid4().hex[:6]}"
    invoke_async(clocked, "echo", task_id, delay_s=3000)
    events.wait_for("echo", task_id, "Enqueued")
    env = {**os.environ, "FCEMU_PORT": str(clocked.port)}
    done = subprocess.run([sys.executable, "-m", "emulator", "task", "run-now", "echo", task_id], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert events.wait_for("echo", task_id, timeout=60) == "Succeeded"
    url = f"{clocked.url}/_fcemu/tasks/echo/{task_id}/run-now"
    finished = requests.post(url, timeout=10)
    assert finished.status_code == 400 and finished.json()["Code"] == "InvalidArgument", finished.text
    assert "Succeeded" in finished.json()["Message"]
    unknown = requests.post(f"{clocked.url}/_fcemu/tasks/echo/no-such-task/run-now", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["Code"] == "AsyncTaskNotFound", unknown.text
    nowhere = requests.post(f"{clocked.url}/_fcemu/tasks/no-such-function/{task_id}/run-now", timeout=10)
    assert nowhere.status_code == 404 and nowhere.json()["Code"] == "FunctionNotFound", nowhere.text


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"by": "1h"', b'{"by": "\\ud800"}'])
def test_bodies_the_parser_cannot_read_are_fc_400s(clocked: EmulatorProcess, raw: bytes) -> None:
    reply = requests.post(f"{clocked.url}/_fcemu/clock/advance", data=raw, timeout=10,
                          headers={"content-type": "application/json"})
    assert reply.status_code == 400 and reply.json()["Code"] == "InvalidArgument", reply.text
