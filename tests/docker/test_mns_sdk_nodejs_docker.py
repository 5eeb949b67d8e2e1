"""A Node.js function publishes to an MNS topic and sends to an MNS queue with ali-mns (built into FC's Node.js
runtime), unchanged from FC. ali-mns signs with an AccessKey pair and has no security token, so it cannot use a
role's temporary credentials (in FC either): the function gets a long-term key through its environment, which
is one of the emulator's configured access keys here."""
from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import textwrap
import uuid
from collections.abc import Iterator

import fc2
import pytest
import requests
from fc2.auth import Auth

from tests.support.emulator_process import EmulatorProcess
from tests.support.instance_calls import write_function
from tests.support.log_watcher import LogWatcher
from tests.support.mns_signups import QUEUE, QUEUE_ARN, SUBSCRIBER, TOPIC
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

pytestmark = pytest.mark.docker

KEY, SECRET = "node-ak", "node-sk"

# ali-mns's README: an Account of the account id and a key pair, a Region, then a Topic or an MQ.
NODE_PUBLISHER = textwrap.dedent('''
    const AliMNS = require('ali-mns');

    exports.handler = async (event, context) => {
      const ask = JSON.parse(event.toString());
      const account = new AliMNS.Account(context.accountId, process.env.MNS_ACCESS_KEY_ID,
                                         ask.secret || process.env.MNS_ACCESS_KEY_SECRET);
      account.setHttps(ask.https !== false);
      const [zone, ...city] = context.region.split('-');
      const region = new AliMNS.Region(city.join('-'), AliMNS.NetworkType.Internal, zone);
      try {
        const reply = ask.op === 'publish'
          ? await new AliMNS.Topic(ask.topic, account, region).publishP(ask.body, false)
          : await new AliMNS.MQ(ask.queue, account, region).sendP(ask.body);
        return JSON.stringify({messageId: reply.Message.MessageId, md5: reply.Message.MessageBodyMD5});
      } catch (error) {
        return JSON.stringify({error: error && error.Error ? error.Error.Code : String(error)});
      }
    };
''')


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer) -> Iterator[EmulatorProcess]:
    root = tmp_path_factory.mktemp("mns-sdk-nodejs")
    functions = root / "functions"
    write_function(functions, "node-publisher", NODE_PUBLISHER,
                   f"environmentVariables:\n  MNS_ACCESS_KEY_ID: {KEY}\n  MNS_ACCESS_KEY_SECRET: {SECRET}\n"
                   f"asyncInvokeConfig:\n  destinationConfig:\n    onFailure:\n      destination: {QUEUE_ARN}\n",
                   file="index.js", runtime="nodejs18")
    write_function(functions, "subscriber", SUBSCRIBER,
                   f"triggers:\n  - triggerName: signup\n    triggerType: mns_topic\n"
                   f"    triggerConfig:\n      topicName: {TOPIC}\n      notifyContentFormat: STREAM\n")
    emulator = EmulatorProcess(functions, root / "fcemu.log", redis_url=module_redis.url,
                               access_keys=f"{KEY}:{SECRET}").start()
    yield emulator
    emulator.stop()


def call(emulator: EmulatorProcess, ask: dict[str, object]) -> dict[str, str]:
    client = fc2.Client(endpoint=emulator.url, accessKeyID=KEY, accessKeySecret=SECRET)
    reply = client.invoke_function("default", "node-publisher", payload=json.dumps(ask).encode())
    assert "x-fc-error-type" not in reply.headers, reply.data
    answer = json.loads(reply.data)
    return json.loads(answer) if isinstance(answer, str) else answer


@pytest.mark.parametrize("https", [True, False])
def test_a_nodejs_function_publishes_with_ali_mns_and_the_subscriber_runs(
    served: EmulatorProcess, module_redis: RedisServer, https: bool
) -> None:
    body = f"node-{uuid.uuid4().hex[:8]}@example.com"
    watcher, logs = TaskWatcher(module_redis.url), LogWatcher(module_redis.url)
    try:
        answer = call(served, {"op": "publish", "topic": TOPIC, "body": body, "https": https})
        assert answer.get("md5") == hashlib.md5(body.encode()).hexdigest().upper(), answer
        task_id = f"mns-signup-{answer['messageId']}"
        assert watcher.wait_for("subscriber", task_id) == "Succeeded"
        assert logs.wait_for(task_id, "signed up: ")["message"] == f"signed up: {body}"
    finally:
        watcher.close()
        logs.close()


def test_a_nodejs_function_sends_to_a_queue_with_ali_mns(served: EmulatorProcess) -> None:
    body = f"node-job-{uuid.uuid4().hex[:8]}"
    answer = call(served, {"op": "send", "queue": QUEUE, "body": body})
    assert "messageId" in answer, answer
    path = f"/_fcemu/mns/queues/{QUEUE}/messages"
    headers = {"date": email.utils.formatdate(usegmt=True)}
    headers["authorization"] = Auth(KEY, SECRET).sign_request("GET", path, headers)
    reply = requests.get(served.url + path, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    stored = reply.json()["Messages"]
    assert [message["MessageId"] for message in stored] == [answer["messageId"]]
    assert base64.b64decode(stored[0]["MessageBody"]).decode() == body  # ali-mns sends a queue's body in base64


def test_a_wrong_secret_gets_mns_error_in_ali_mns(served: EmulatorProcess) -> None:
    answer = call(served, {"op": "publish", "topic": TOPIC, "body": "x", "secret": "not-the-secret"})
    assert answer.get("error") == "SignatureDoesNotMatch", answer
