"""A function publishes to an MNS topic and sends to an MNS queue with MNS's official python SDK (aliyun-mns, built
into FC's python runtime), unchanged from FC: `http(s)://<account>.mns.<region>-internal.aliyuncs.com`, signed
with its role's temporary credentials. The topic's subscribed function runs; the queue's messages are what
fcemu's own route reads. Bad signatures, a wrong token, a function without a role, unknown topics and queues, and
bad XML get MNS's XML errors; the host cannot reach MNS's protocol."""
from __future__ import annotations

import base64
import hashlib
import re
import textwrap
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.support.credentials import ROLE
from tests.support.emulator_process import EmulatorProcess
from tests.support.instance_calls import ENDPOINT_LINE, call, write_function
from tests.support.log_watcher import LogWatcher
from tests.support.mns_signups import QUEUE, QUEUE_ARN, SUBSCRIBER, TOPIC
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

pytestmark = pytest.mark.docker

# What a function in FC writes to notify a topic or feed a queue with aliyun-mns.
PUBLISHER = textwrap.dedent('''
    import json

    import requests
    from mns.account import Account
    from mns.mns_exception import MNSExceptionBase
    from mns.mns_http import RequestInternal
    from mns.mns_request import RequestBase
    from mns.queue import Message
    from mns.topic import TopicMessage


    def handler(event, context):
        ask = json.loads(event)
        credentials = context.credentials
        endpoint = "{}://{}.mns.{}{}.aliyuncs.com".format(
            ask.get("scheme", "https"), context.account_id, context.region, ask.get("suffix", "-internal"))
        if "raw" in ask:
            reply = requests.post(endpoint + ask["path"], data=ask["raw"].encode(), headers=ask.get("headers", {}))
            return {"status": reply.status_code, "xml": reply.text}
        account = Account(endpoint, ask.get("key", credentials.access_key_id),
                          ask.get("secret", credentials.access_key_secret),
                          ask.get("token", credentials.security_token))
        if "signed" in ask:  # a body of the test's making, signed as the SDK signs its own
            inner = RequestInternal("POST", ask["path"], data=ask["signed"].encode())
            account.mns_client.build_header(RequestBase(), inner)
            reply = account.mns_client.http.send_request(inner)
            return {"status": reply.status, "xml": reply.data.decode()}
        try:
            if ask["op"] == "publish":
                reply = account.get_topic(ask["topic"]).publish_message(TopicMessage(ask["body"], ask.get("tag", "")))
            elif ask["op"] == "send":
                reply = account.get_queue(ask["queue"]).send_message(Message(ask["body"]))
            elif ask["op"] == "batch":
                queue = account.get_queue(ask["queue"])
                sent = queue.batch_send_message([Message(body) for body in ask["bodies"]])
                received = queue.receive_message()
                queue.delete_message(received.receipt_handle)
                peeked = queue.peek_message()
                return {"sent": [entry.message_id for entry in sent],
                        "received": [received.message_id, received.message_body],
                        "peeked": [peeked.message_id, peeked.message_body]}
        except MNSExceptionBase as error:
            return {"error": error.type, "message": error.message}
        return {"messageId": reply.message_id, "md5": reply.message_body_md5}
''')


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer) -> Iterator[EmulatorProcess]:
    root = tmp_path_factory.mktemp("mns-sdk")
    functions = root / "functions"
    # The publisher names the queue as its failure destination: that is how a local queue exists before use.
    write_function(functions, "publisher", PUBLISHER, f"role: {ROLE}\nasyncInvokeConfig:\n  destinationConfig:\n"
                                                      f"    onFailure:\n      destination: {QUEUE_ARN}\n")
    write_function(functions, "publisher-without-role", PUBLISHER, "")
    write_function(functions, "subscriber", SUBSCRIBER,
                   f"triggers:\n  - triggerName: signup\n    triggerType: mns_topic\n"
                   f"    triggerConfig:\n      topicName: {TOPIC}\n      notifyContentFormat: STREAM\n")
    emulator = EmulatorProcess(functions, root / "fcemu.log", redis_url=module_redis.url).start()
    yield emulator
    emulator.stop()


def subscriber_ran(watcher: TaskWatcher, logs: LogWatcher, message_id: str, body: str) -> None:
    """The subscriber's invocation (its task id is the trigger and the message id) succeeded and printed the body."""
    task_id = f"mns-signup-{message_id}"
    assert watcher.wait_for("subscriber", task_id) == "Succeeded"
    assert logs.wait_for(task_id, "signed up: ")["message"] == f"signed up: {body}"


@pytest.mark.parametrize(("scheme", "suffix"), [("https", "-internal"), ("http", ""), ("https", "-internal-vpc")])
def test_a_function_publishes_to_a_topic_with_mns_sdk_and_the_subscriber_runs(
    served: EmulatorProcess, module_redis: RedisServer, scheme: str, suffix: str
) -> None:
    body = f"user-{uuid.uuid4().hex[:8]}@example.com"
    watcher, logs = TaskWatcher(module_redis.url), LogWatcher(module_redis.url)
    try:
        answer = call(served, "publisher", {"op": "publish", "topic": TOPIC, "body": body, "scheme": scheme,
                                            "suffix": suffix})
        assert answer.get("md5") == hashlib.md5(body.encode()).hexdigest().upper(), answer
        subscriber_ran(watcher, logs, str(answer["messageId"]), body)
    finally:
        watcher.close()
        logs.close()


def test_a_function_sends_to_a_queue_with_mns_sdk_and_the_route_reads_it(served: EmulatorProcess) -> None:
    body = f"job-{uuid.uuid4().hex[:8]}"
    answer = call(served, "publisher", {"op": "send", "queue": QUEUE, "body": body})
    assert "messageId" in answer, answer
    reply = requests.get(f"{served.url}/_fcemu/mns/queues/{QUEUE}/messages", timeout=30)
    messages = reply.json()["Messages"]
    assert [message["MessageId"] for message in messages] == [answer["messageId"]], messages
    # aliyun-mns sends a queue's body in base64 by default (Queue.set_encoding): MNS stores it so.
    assert base64.b64decode(messages[0]["MessageBody"]).decode() == body
    assert messages[0]["MessageBodyMD5"] == answer["md5"]


def test_batch_send_receive_and_delete_with_mns_sdk(served: EmulatorProcess) -> None:
    bodies = [f"batch-{n}-{uuid.uuid4().hex[:6]}" for n in range(3)]
    answer = call(served, "publisher", {"op": "batch", "queue": QUEUE, "bodies": bodies})
    assert "sent" in answer and len(answer["sent"]) == 3, answer
    assert answer["received"] == [answer["sent"][0], bodies[0]], answer
    assert answer["peeked"] == [answer["sent"][1], bodies[1]], answer
    left = requests.get(f"{served.url}/_fcemu/mns/queues/{QUEUE}/messages", timeout=30).json()["Messages"]
    assert [message["MessageId"] for message in left] == answer["sent"][1:]


def test_unknown_topic_and_queue_get_mns_errors(served: EmulatorProcess) -> None:
    answer = call(served, "publisher", {"op": "publish", "topic": "nobody-listens", "body": "x"})
    assert answer.get("error") == "TopicNotExist", answer
    answer = call(served, "publisher", {"op": "send", "queue": "no-such-queue", "body": "x"})
    assert answer.get("error") == "QueueNotExist", answer


def test_only_signed_requests_of_instances_are_served(served: EmulatorProcess) -> None:
    answer = call(served, "publisher", {"op": "publish", "topic": TOPIC, "body": "x", "secret": "not-the-secret"})
    assert answer.get("error") == "SignatureDoesNotMatch", answer
    answer = call(served, "publisher", {"op": "publish", "topic": TOPIC, "body": "x", "token": "not-the-token"})
    assert answer.get("error") == "AccessDenied" and "security token" in answer["message"], answer
    # Without a role a function has no credentials: a key of its own making, or none, is refused.
    answer = call(served, "publisher-without-role", {"op": "publish", "topic": TOPIC, "body": "x",
                                                     "key": "LTAI-made-up", "secret": "made-up", "token": ""})
    assert answer.get("error") == "InvalidAccessKeyId" and "role" in answer["message"], answer
    answer = call(served, "publisher-without-role", {"raw": "<Message/>", "path": f"/topics/{TOPIC}/messages"})
    assert answer["status"] == 400 and "<Code>MissingAuthorizationHeader</Code>" in answer["xml"], answer
    assert re.search(r"<RequestId>[0-9A-F]+</RequestId>", answer["xml"]) and "<HostId>" in answer["xml"], answer
    # The host's own processes reach neither: not the instances' listener (not an instance's address) nor the API's.
    found = ENDPOINT_LINE.search(served.log_path.read_text())
    assert found is not None
    name = "1234567890123456.mns.cn-hangzhou-internal.aliyuncs.com"
    reply = requests.post(f"http://{found.group(1)}:{found.group(2)}/topics/{TOPIC}/messages", data=b"<Message/>",
                          headers={"Host": name}, timeout=30)
    assert reply.status_code == 403, reply.text
    # The API's own listener does not answer MNS's names at all.
    reply = requests.post(f"{served.url}/topics/{TOPIC}/messages", data=b"<Message/>", headers={"Host": name},
                          timeout=30)
    assert reply.status_code == 403 and reply.json()["Code"] == "AccessDenied", reply.text


def test_bad_xml_and_oversized_bodies_get_mns_errors(served: EmulatorProcess) -> None:
    answer = call(served, "publisher", {"op": "publish", "topic": TOPIC, "body": "é" * 40000})
    assert answer.get("error") == "InvalidArgument" and "MessageBody" in answer["message"], answer
    path = f"/topics/{TOPIC}/messages"
    cases = {
        "<Message><MessageBody>unclosed": (400, "MalformedXML"),
        '<!DOCTYPE m [<!ENTITY a "aaaa">]><Message><MessageBody>&a;</MessageBody></Message>': (400, "MalformedXML"),
        "<Message><MessageTag>no-body</MessageTag></Message>": (400, "InvalidArgument"),
        "<Queue><MessageBody>x</MessageBody></Queue>": (400, "InvalidArgument"),
        "<Message><MessageBody>" + "x" * 70_000 + "</MessageBody></Message>": (400, "InvalidArgument"),
        # Over what a request may carry: refused before the XML is parsed.
        "<Message><MessageBody>" + "x" * 400_000 + "</MessageBody></Message>": (400, "InvalidArgument"),
    }
    for raw, (status, code) in cases.items():
        answer = call(served, "publisher", {"signed": raw, "path": path})
        assert answer["status"] == status and f"<Code>{code}</Code>" in answer["xml"], (raw[:60], answer)
        assert "Traceback" not in answer["xml"]
    # An operation fcemu does not serve gets MNS's error shape too.
    answer = call(served, "publisher", {"signed": "<Queue/>", "path": f"/queues/{QUEUE}"})
    assert answer["status"] == 501 and "<Code>NotImplemented</Code>" in answer["xml"], answer

