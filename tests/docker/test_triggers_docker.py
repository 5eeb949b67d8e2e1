"""Time triggers: the trigger APIs of both versions, and firings that are exact, once per period with two
dispatchers, and absent when disabled."""
from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client

from emulator.redis_io.keys import ShardKeys
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher


def test_trigger_round_trip_with_the_fc3_sdk(fc3_client: FC3Client) -> None:
    name = f"nightly-{uuid.uuid4().hex[:6]}"
    config = json.dumps({"cronExpression": "CRON_TZ=Asia/Shanghai 0 0 3 * * *", "enable": True, "payload": "p"})
    created = fc3_client.create_trigger("echo", fc3_models.CreateTriggerRequest(body=fc3_models.CreateTriggerInput(
        trigger_name=name, trigger_type="timer", trigger_config=config))).body
    assert created.trigger_name == name and created.trigger_type == "timer"
    assert json.loads(created.trigger_config)["payload"] == "p"
    got = fc3_client.get_trigger("echo", name).body
    assert json.loads(got.trigger_config)["cronExpression"].startswith("CRON_TZ=")
    fc3_client.update_trigger("echo", name, fc3_models.UpdateTriggerRequest(body=fc3_models.UpdateTriggerInput(
        trigger_config=json.dumps({"enable": False}))))
    assert json.loads(fc3_client.get_trigger("echo", name).body.trigger_config)["enable"] is False
    listed = fc3_client.list_triggers("echo", fc3_models.ListTriggersRequest(prefix=name)).body.triggers
    assert [t.trigger_name for t in listed] == [name]
    fc3_client.delete_trigger("echo", name)
    assert fc3_client.list_triggers("echo", fc3_models.ListTriggersRequest(prefix=name)).body.triggers == []


def test_trigger_api_on_the_2016_routes_and_bad_configs(emulator: EmulatorProcess, http: requests.Session) -> None:
    url = f"{emulator.url}/2016-08-15/services/default/functions/echo/triggers"
    body = {"triggerName": "hourly", "triggerType": "timer", "triggerConfig": {"cronExpression": "0 0 * * * *"}}
    assert http.post(url, json=body).json()["triggerConfig"] == {"cronExpression": "0 0 * * * *", "enable": True,
                                                                 "payload": ""}
    assert_v2_error(http.post(url, json=body), 409, "TriggerAlreadyExists")
    assert http.delete(f"{url}/hourly").status_code == 204
    assert_v2_error(http.get(f"{url}/hourly"), 404, "TriggerNotFound")
    bad_cron = {**body, "triggerConfig": {"cronExpression": "every now and then"}}
    assert "cronExpression" in assert_v2_error(http.post(url, json=bad_cron), 400, "InvalidArgument")["ErrorMessage"]
    v3_url = f"{emulator.url}/2023-03-30/functions/echo/triggers"
    unknown = {"triggerName": "o", "triggerType": "oss", "triggerConfig": "{}"}
    assert "not supported" in assert_v3_error(http.post(v3_url, json=unknown), 400, "InvalidArgument")["Message"]


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


def test_a_timer_fires_on_time_once_per_period_with_two_dispatchers(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer
) -> None:
    api = EmulatorProcess(functions_dir, tmp_path / "api.log", redis_url=own_redis.url,
                          dispatcher_enabled="false").start()
    dispatchers = [
        EmulatorProcess(functions_dir, tmp_path / f"d{index}.log", redis_url=own_redis.url, command="dispatcher",
                        owner=f"timer-{index}").start()
        for index in range(2)
    ]
    watcher = TaskWatcher(own_redis.url)
    url = f"{api.url}/2023-03-30/functions/echo/triggers"
    try:
        for name, enable in (("tick", True), ("never", False)):
            config = json.dumps({"cronExpression": "@every 2s", "enable": enable, "payload": name})
            reply = requests.post(url, json={"triggerName": name, "triggerType": "timer", "triggerConfig": config},
                                  timeout=10)
            assert reply.status_code == 200, reply.text
        watcher.wait_for_count({"Succeeded"}, 3, timeout=30)
    finally:
        for dispatcher in dispatchers:
            dispatcher.stop()
        api.stop()
        watcher.close()
    members = sorted(watcher.seen)
    assert all(member.startswith("echo/timer-tick-") for member in members), "a disabled trigger never fires"
    seconds = sorted(int(member.rsplit("-", 1)[1]) for member in members)
    assert all(later - earlier == 2 for earlier, later in itertools.pairwise(seconds)), seconds
    with own_redis.client() as client:
        for member, slot in zip(members, seconds):
            assert watcher.seen[member].count("Enqueued") == 1
            keys = ShardKeys(0)
            record = client.hgetall(keys.task(member))
            event = json.loads(record[b"payload"])
            assert event == {"triggerTime": datetime.fromtimestamp(slot, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "triggerName": "tick", "payload": "tick"}
            assert int(record[b"created"]) >= slot * 1000, "never early"
            assert json.loads(record[b"ret"]) == event


NEVER_FIRING = ["0 0 0 30 2 *", "@every 2000000000h"]


@pytest.mark.parametrize("expression", NEVER_FIRING)
def test_an_expression_that_never_fires_is_refused_on_both_api_versions(
    emulator: EmulatorProcess, http: requests.Session, expression: str
) -> None:
    name = f"never-{uuid.uuid4().hex[:6]}"
    v3_url = f"{emulator.url}/2023-03-30/functions/echo/triggers"
    config = {"cronExpression": expression}
    reply = http.post(v3_url, json={"triggerName": name, "triggerType": "timer", "triggerConfig": json.dumps(config)})
    assert expression in assert_v3_error(reply, 400, "InvalidArgument")["Message"]
    v2_url = f"{emulator.url}/2016-08-15/services/default/functions/echo/triggers"
    reply = http.post(v2_url, json={"triggerName": name, "triggerType": "timer", "triggerConfig": config})
    assert expression in assert_v2_error(reply, 400, "InvalidArgument")["ErrorMessage"]
    # Nor may an update bring one in.
    good = {"triggerName": name, "triggerType": "timer", "triggerConfig": {"cronExpression": "0 0 3 * * *"}}
    assert http.post(v2_url, json=good).status_code == 200
    reply = http.put(f"{v3_url}/{name}", json={"triggerConfig": json.dumps(config)})
    assert expression in assert_v3_error(reply, 400, "InvalidArgument")["Message"]
    assert http.delete(f"{v2_url}/{name}").status_code == 204


def stored_trigger(function: str, name: str, expression: str) -> str:
    return json.dumps({
        "functionName": function, "triggerName": name, "triggerType": "timer",
        "triggerConfig": {"cronExpression": expression, "enable": True, "payload": ""}, "description": "",
        "qualifier": "LATEST", "triggerId": name, "createdTime": "2024-01-01T00:00:00Z",
        "lastModifiedTime": "2024-01-01T00:00:00Z",
    })


def test_triggers_stored_before_the_check_do_not_stop_the_others(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer
) -> None:
    # As an fcemu without the check left them (and one no fcemu could read): there before the emulator starts.
    with own_redis.client() as client:
        client.hset("fcemu:triggers", mapping={
            **{f"echo/bad-{index}": stored_trigger("echo", f"bad-{index}", expression)
               for index, expression in enumerate(NEVER_FIRING)},
            "echo/unreadable": "{not json",
        })
    emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    watcher = TaskWatcher(own_redis.url)
    url = f"{emulator.url}/2023-03-30/functions/echo/triggers"
    try:
        config = json.dumps({"cronExpression": "@every 1s", "payload": "tick"})
        reply = requests.post(url, json={"triggerName": "tick", "triggerType": "timer", "triggerConfig": config},
                              timeout=10)
        assert reply.status_code == 200, reply.text
        watcher.wait_for_count({"Succeeded"}, 3, timeout=60)
        listed = {t["triggerName"] for t in requests.get(url, timeout=10).json()["triggers"]}
        assert listed == {"bad-0", "bad-1", "tick"}, "a stored trigger that never fires is shown, to be deleted"
        assert requests.delete(f"{url}/bad-0", timeout=10).status_code == 204
    finally:
        emulator.stop()
        watcher.close()
    assert all(member.startswith("echo/timer-tick-") for member in watcher.seen)
    log = emulator.log_path.read_text()
    for index, expression in enumerate(NEVER_FIRING):
        # Logged once, however often the scheduler wakes.
        assert log.count(f"timer trigger bad-{index} of echo is skipped") == 1, log
        assert f"'{expression}' has no next firing" in log
    assert log.count("trigger echo/unreadable in Redis hash fcemu:triggers is unreadable") == 1, log
    assert "Traceback" not in log, log
