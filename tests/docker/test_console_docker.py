"""The live console's server side against a real `fcemu serve` and a real Redis: its page, its JSON views and its
server-sent task events (one shared subscription, released when the last client leaves, ended on shutdown)."""
from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models

from tests.support.console_tasks import console_functions, fc3_client_of, invoke_async, new_id
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.waits import wait_until

pytestmark = pytest.mark.docker

CHANNEL = "fcemu:task-events"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer) -> Iterator[EmulatorProcess]:
    folder = tmp_path_factory.mktemp("console")
    process = EmulatorProcess(console_functions(folder / "functions"), folder / "fcemu.log",
                              redis_url=module_redis.url, retry_base_delay_s="0.05").start()
    yield process
    process.stop()


class EventStream:
    """A client of /_fcemu/events, read line by line."""

    def __init__(self, url: str) -> None:
        # The read timeout is a guard against a hung test, not a wait.
        self.reply = requests.get(url, stream=True, timeout=60, headers={"accept": "text/event-stream"})
        assert self.reply.status_code == 200
        assert self.reply.headers["content-type"].startswith("text/event-stream")
        self.lines = self.reply.iter_lines(decode_unicode=True)
        assert next(self.lines).startswith("retry:")
        assert next(self.lines) == ": connected"  # subscribed before anything the test does next

    def events(self) -> Iterator[tuple[str, dict]]:
        name = "message"
        for line in self.lines:
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                yield name, json.loads(line[len("data: "):])
                name = "message"

    def close(self) -> None:
        self.reply.close()


def test_console_page_and_its_files_are_served(console: EmulatorProcess) -> None:
    page = requests.get(f"{console.url}/_fcemu/console/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "fcemu console" in page.text
    script = requests.get(f"{console.url}/_fcemu/console/app.js", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    style = requests.get(f"{console.url}/_fcemu/console/app.css", timeout=10)
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    bare = requests.get(f"{console.url}/_fcemu/console", timeout=10, allow_redirects=False)
    assert bare.status_code in (307, 308) and bare.headers["location"].endswith("/_fcemu/console/")


def test_functions_view_shows_settings_and_warm_instances(console: EmulatorProcess) -> None:
    assert requests.post(f"{console.url}/2023-03-30/functions/echo/invocations", data=b"hi", timeout=60).ok
    functions = {f["functionName"]: f for f in requests.get(f"{console.url}/_fcemu/functions", timeout=10).json()}
    assert set(functions) == {"fail", "echo"}
    fail = functions["fail"]
    assert (fail["runtime"], fail["memorySize"], fail["timeout"], fail["instanceConcurrency"]) == ("python3.10", 128,
                                                                                                  3, 1)
    assert fail["asyncConfig"]["maxAsyncRetryAttempts"] == 3 and fail["triggers"] == []
    [instance] = functions["echo"]["instances"]
    assert instance["state"] == "ready" and instance["capacity"] >= 1


def _views(console: EmulatorProcess) -> dict[str, dict]:
    reply = requests.get(f"{console.url}/_fcemu/functions", timeout=10).json()
    return {f["functionName"]: f for f in reply}


def test_functions_view_shows_versions_aliases_and_invocation_controls(console: EmulatorProcess) -> None:
    client = fc3_client_of(console)
    version = client.publish_function_version("fail", fc3_models.PublishFunctionVersionRequest(
        body=fc3_models.PublishVersionInput(description="as filed"))).body.version_id
    client.create_alias("fail", fc3_models.CreateAliasRequest(body=fc3_models.CreateAliasInput(
        alias_name="prod", version_id=version)))
    client.disable_function_invocation("fail", fc3_models.DisableFunctionInvocationRequest(reason="maintenance"))
    client.put_provision_config("echo", fc3_models.PutProvisionConfigRequest(
        qualifier="LATEST", body=fc3_models.PutProvisionConfigInput(default_target=1)))
    views = functools.partial(_views, console)
    try:
        fail = views()["fail"]
        assert [(v["versionId"], v["description"]) for v in fail["versions"]] == [(version, "as filed")]
        assert fail["versions"][0]["createdTime"]
        assert fail["aliases"] == [{"aliasName": "prod", "versionId": version, "description": "",
                                    "additionalVersionWeight": {}}]
        assert fail["invocationRestriction"]["disable"] is True
        assert fail["invocationRestriction"]["reason"] == "maintenance"
        assert fail["provisionConfigs"] == []
        # The target is kept warm: once its instance is up, current reaches it.
        wait_until(lambda: views()["echo"]["provisionConfigs"] == [
            {"qualifier": "LATEST", "target": 1, "current": 1, "currentError": ""}])
        assert views()["echo"]["invocationRestriction"] is None and views()["echo"]["versions"] == []
    finally:
        client.delete_provision_config("echo", fc3_models.DeleteProvisionConfigRequest(qualifier="LATEST"))
        client.enable_function_invocation("fail")
        client.delete_alias("fail", "prod")
    assert views()["fail"]["invocationRestriction"]["disable"] is False


def test_queue_view_shows_a_deferred_task_with_its_due_time(console: EmulatorProcess) -> None:
    task_id = new_id()
    invoke_async(console, "echo", b"later", **{"x-fc-async-task-id": task_id, "x-fc-async-delay": "3600"})
    queue = requests.get(f"{console.url}/_fcemu/functions/echo/queue", timeout=10).json()
    [deferred] = [task for task in queue["deferred"] if task["taskId"] == task_id]
    assert deferred["status"] == "Enqueued" and deferred["taskMode"] is True
    assert deferred["time"] - queue["now"] > 3_500_000
    assert all(task["taskId"] != task_id for task in queue["due"] + queue["inflight"])
    assert queue["counts"]["queued"] >= 1
    stopped = requests.put(f"{console.url}/2023-03-30/functions/echo/async-tasks/{task_id}/stop", timeout=10)
    assert stopped.status_code == 200
    queue = requests.get(f"{console.url}/_fcemu/functions/echo/queue", timeout=10).json()
    assert all(task["taskId"] != task_id for task in queue["deferred"])


def test_queue_view_of_an_unknown_function_is_fc_shaped_404(console: EmulatorProcess) -> None:
    reply = requests.get(f"{console.url}/_fcemu/functions/nope/queue", timeout=10)
    assert reply.status_code == 404
    assert reply.json()["Code"] == "FunctionNotFound" and "nope" in reply.json()["Message"]


def test_event_stream_reports_a_failing_task_state_by_state(console: EmulatorProcess) -> None:
    stream = EventStream(f"{console.url}/_fcemu/events")
    task_id = new_id()
    try:
        invoke_async(console, "fail", b"boom", **{"x-fc-async-task-id": task_id, "x-fc-async-delay": "0"})
        seen: list[str] = []
        for name, data in stream.events():
            if name == "task" and data["taskId"] == task_id:
                assert data["function"] == "fail"
                seen.append(data["status"])
                if data["status"] == "Failed":
                    break
    finally:
        stream.close()
    assert seen[0] == "Enqueued" and "Running" in seen and "Retrying" in seen and seen[-1] == "Failed"


def test_event_stream_filters_by_function(console: EmulatorProcess) -> None:
    stream = EventStream(f"{console.url}/_fcemu/events?function=echo")
    other, mine = new_id(), new_id()
    try:
        invoke_async(console, "fail", b"x", **{"x-fc-async-task-id": other})
        invoke_async(console, "echo", b"x", **{"x-fc-async-task-id": mine})
        for _, data in stream.events():
            assert data["function"] == "echo"
            if data["taskId"] == mine and data["status"] == "Succeeded":
                break
    finally:
        stream.close()


def test_many_streams_share_one_subscription_released_when_they_leave(
    console: EmulatorProcess, module_redis: RedisServer
) -> None:
    client = module_redis.client()

    def subscribers() -> int:
        return int(dict(client.pubsub_numsub(CHANNEL))[CHANNEL.encode()])

    streams = [EventStream(f"{console.url}/_fcemu/events") for _ in range(5)]
    try:
        assert subscribers() == 1
    finally:
        for stream in streams:
            stream.close()
    wait_until(lambda: subscribers() == 0)
    # A later console subscribes again.
    again = EventStream(f"{console.url}/_fcemu/events")
    try:
        assert subscribers() == 1
    finally:
        again.close()
    wait_until(lambda: subscribers() == 0)


def test_an_open_stream_does_not_hold_up_shutdown(tmp_path: Path, module_redis: RedisServer) -> None:
    process = EmulatorProcess(console_functions(tmp_path / "functions"), tmp_path / "fcemu.log",
                              redis_url=module_redis.url, dispatcher_enabled="false").start()
    stream = EventStream(f"{process.url}/_fcemu/events")
    try:
        process.stop()  # uvicorn ends by re-raising SIGTERM: the exit code says nothing here
        # The stream ended from the server's side, rather than being cancelled after the graceful timeout.
        assert [line for line in stream.lines if line] == []
    finally:
        stream.close()
    log = (tmp_path / "fcemu.log").read_text()
    assert "Application shutdown complete" in log
    assert "timeout graceful shutdown exceeded" not in log
