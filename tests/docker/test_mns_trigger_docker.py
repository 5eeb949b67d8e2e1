"""MNS topic triggers: a message published to a local topic (through fcemu's route or a destination) invokes
every subscribed function asynchronously with FC's MNS event, honouring the format, filterTag and enable."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid

import requests

from tests.support.async_tasks import invoke_task, task
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import assert_v3_error
from tests.support.task_watcher import TaskWatcher

TOPIC = "mns-fanout"


def publish(http: requests.Session, emulator: EmulatorProcess, body: str, tag: str = "") -> str:
    reply = http.post(f"{emulator.url}/_fcemu/mns/topics/{TOPIC}/messages",
                      json={"MessageBody": body, **({"MessageTag": tag} if tag else {})})
    assert reply.status_code == 201, reply.text
    assert reply.json()["MessageBodyMD5"] == hashlib.md5(body.encode()).hexdigest().upper()
    return str(reply.json()["MessageId"])


def result(http: requests.Session, emulator: EmulatorProcess, watcher: TaskWatcher, trigger: str,
           message_id: str) -> str:
    task_id = f"mns-{trigger}-{message_id}"
    assert watcher.wait_for("mns-subscriber", task_id) == "Succeeded"
    return str(task(http, emulator, "mns-subscriber", task_id)["returnPayload"])


def not_invoked(http: requests.Session, emulator: EmulatorProcess, trigger: str, message_id: str) -> bool:
    # The route submits every invocation before it answers: a task absent now is never created.
    reply = http.get(f"{emulator.url}/2023-03-30/functions/mns-subscriber/async-tasks/mns-{trigger}-{message_id}")
    return reply.status_code == 404


def test_a_published_message_invokes_each_subscribed_trigger_with_fc_event(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    body = f"order-{uuid.uuid4().hex[:8]}"
    message_id = publish(http, emulator, body)
    assert result(http, emulator, watcher, "stream", message_id) == body
    event = json.loads(result(http, emulator, watcher, "json", message_id))
    assert event["Message"] == body and event["TopicName"] == TOPIC and event["MessageId"] == message_id
    assert event["MessageMD5"] == hashlib.md5(body.encode()).hexdigest().upper()
    assert event["TopicOwner"] == event["Subscriber"] == "1234567890123456"
    assert isinstance(event["PublishTime"], int) and "MessageTag" not in event
    assert not_invoked(http, emulator, "vip", message_id), "filterTag vip: an untagged message is filtered out"
    assert not_invoked(http, emulator, "disabled", message_id), "a disabled trigger is never invoked"
    assert watcher.seen[f"mns-subscriber/mns-stream-{message_id}"].count("Enqueued") == 1


def test_filter_tag_lets_its_tag_through(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    body = f"vip-{uuid.uuid4().hex[:8]}"
    message_id = publish(http, emulator, body, tag="vip")
    assert result(http, emulator, watcher, "vip", message_id) == body
    assert json.loads(result(http, emulator, watcher, "json", message_id))["MessageTag"] == "vip"
    other = publish(http, emulator, body, tag="other")
    assert result(http, emulator, watcher, "stream", other) == body
    assert not_invoked(http, emulator, "vip", other)


def test_a_destination_record_fans_out_to_the_subscribed_function(
    emulator: EmulatorProcess, http: requests.Session, watcher: TaskWatcher
) -> None:
    order = f"chain-{uuid.uuid4().hex[:8]}"
    task_id = invoke_task(http, emulator, "mns-publisher", order.encode())
    assert watcher.wait_for("mns-publisher", task_id, "DestinationSucceeded")
    detail = [e for e in task(http, emulator, "mns-publisher", task_id)["events"]
              if e["status"] == "DestinationSucceeded"]
    assert detail, task(http, emulator, "mns-publisher", task_id)
    messages = http.get(f"{emulator.url}/_fcemu/mns/topics/{TOPIC}/messages", params={"peekonly": "true"}).json()
    [message] = [m for m in messages["Messages"] if order in m["MessageBody"]]
    record = json.loads(result(http, emulator, watcher, "stream", message["MessageId"]))
    assert record["responsePayload"] == f"published: {order}"
    assert record["requestContext"]["functionArn"].endswith(":functions/mns-publisher")


def test_bad_publish_bodies_get_fc_errors(emulator: EmulatorProcess, http: requests.Session) -> None:
    url = f"{emulator.url}/_fcemu/mns/topics/{TOPIC}/messages"
    assert "MessageBody" in assert_v3_error(http.post(url, json={}), 400, "InvalidArgument")["Message"]
    too_big = {"MessageBody": "x" * (64 * 1024 + 1)}
    assert "65536 bytes" in assert_v3_error(http.post(url, json=too_big), 400, "InvalidArgument")["Message"]


def test_the_cli_publishes_through_the_running_emulator(
    emulator: EmulatorProcess, watcher: TaskWatcher, http: requests.Session
) -> None:
    port = emulator.url.rsplit(":", 1)[1]
    env = {**os.environ, "FCEMU_HOST": "127.0.0.1", "FCEMU_PORT": port}
    body = f"cli-{uuid.uuid4().hex[:8]}"
    out = subprocess.run([sys.executable, "-m", "emulator", "mns", "publish", TOPIC, body, "--tag", "vip"], cwd=REPO,
                         env=env, capture_output=True, text=True, check=True).stdout
    message_id = json.loads(out)["MessageId"]
    assert result(http, emulator, watcher, "vip", message_id) == body
