"""A function calls FC's API from inside its instance as it does in FC: FC's SDKs, at
`https://<account>.<region>-internal.fc.aliyuncs.com` (or the public name, or plain HTTP), signed with its role's
temporary credentials, which fcemu makes up when the settings give none. A function without a role, a wrong
security token and the host itself are refused."""
from __future__ import annotations

import io
import json
import socket
import textwrap
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import fc2
import pytest
import requests

from tests.support.credentials import ROLE
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.instance_calls import ENDPOINT_LINE, call, write_function
from tests.support.log_watcher import LogWatcher
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.docker

# The code FC's samples give for calling another function from inside one (aliyun-fc2, built into FC's python
# runtime): the endpoint from the instance's account and region, the credentials from the context.
PYTHON_CALLER = textwrap.dedent('''
    import json
    import os

    import fc2
    import requests


    def handler(event, context):
        ask = json.loads(event)
        credentials = context.credentials
        endpoint = "{}://{}.{}{}.fc.aliyuncs.com".format(
            ask.get("scheme", "https"), context.account_id, context.region, ask.get("suffix", "-internal"))
        if ask.get("unsigned"):
            reply = requests.get(endpoint + ask.get("path", "/2016-08-15/services/default/functions/mailer"),
                                 headers={"Host": ask["host"]} if "host" in ask else {})
            return {"status": reply.status_code, "error": reply.json()}
        client = fc2.Client(endpoint=endpoint, accessKeyID=ask.get("key", credentials.access_key_id),
                            accessKeySecret=ask.get("secret", credentials.access_key_secret),
                            securityToken=ask.get("token", credentials.security_token))
        try:
            reply = client.invoke_function(context.service.name, "mailer", payload=json.dumps(ask["mail"]),
                                           headers={"x-fc-invocation-type": "Async", "x-fc-async-delay": "1"})
        except fc2.fc_exceptions.FcError as error:
            return {"status": error.status_code, "error": error.message}
        return {"status": 202, "requestId": reply.headers["x-fc-request-id"]}
''')

# FC 3.0's SDK (ACS3 signatures), built into the python runtimes too: the endpoint without a scheme, https.
PYTHON_FC3_CALLER = textwrap.dedent('''
    import json

    from alibabacloud_fc20230330 import models
    from alibabacloud_fc20230330.client import Client
    from alibabacloud_tea_openapi import models as openapi_models
    from alibabacloud_tea_util import models as util_models


    def handler(event, context):
        ask = json.loads(event)
        credentials = context.credentials
        client = Client(openapi_models.Config(
            access_key_id=credentials.access_key_id, access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token, protocol="https",
            endpoint="{}.{}-internal.fc.aliyuncs.com".format(context.account_id, context.region)))
        headers = models.InvokeFunctionHeaders(x_fc_invocation_type="Async", common_headers={"x-fc-async-delay": "1"})
        reply = client.invoke_function_with_options(
            "mailer", models.InvokeFunctionRequest(body=json.dumps(ask["mail"]).encode()), headers,
            util_models.RuntimeOptions())
        return {"status": reply.status_code, "requestId": reply.headers["x-fc-request-id"]}
''')

NODE_CALLER = textwrap.dedent('''
    const FCClient = require('@alicloud/fc2');

    exports.handler = async (event, context) => {
      const ask = JSON.parse(event.toString());
      const client = new FCClient(context.accountId, {
        accessKeyID: context.credentials.accessKeyId,
        accessKeySecret: context.credentials.accessKeySecret,
        securityToken: context.credentials.securityToken,
        region: context.region,
        internal: true,
        secure: true,
      });
      const reply = await client.invokeFunction(context.service.name, 'mailer', JSON.stringify(ask.mail),
        {'x-fc-invocation-type': 'Async', 'x-fc-async-delay': '1'});
      return JSON.stringify({status: 202, requestId: reply.headers['x-fc-request-id']});
    };
''')

# A custom runtime's own server (no fcemu code), calling FC's endpoint with python's standard library: the name,
# the relay and the trusted authority are the instance's, whatever runs in it.
CUSTOM_CALLER = textwrap.dedent('''
    import json
    import os
    import urllib.error
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            url = "https://{}.{}-internal.fc.aliyuncs.com/2023-03-30/functions".format(
                os.environ["FC_ACCOUNT_ID"], os.environ["FC_REGION"])
            try:
                with urllib.request.urlopen(url, timeout=10) as reply:
                    status, body = reply.status, reply.read()
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read()
            answer = json.dumps({"status": status, "error": json.loads(body)}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)


    ThreadingHTTPServer(("0.0.0.0", 9000), Handler).serve_forever()
''')

MAILER = textwrap.dedent('''
    import json


    def handler(event, context):
        mail = json.loads(event)
        print("mail sent to " + mail["to"])
        return mail["to"]
''')


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer) -> Iterator[EmulatorProcess]:
    root = tmp_path_factory.mktemp("fc-endpoint")
    functions = root / "functions"
    write_function(functions, "caller", PYTHON_CALLER, f"role: {ROLE}\n")
    write_function(functions, "caller-without-role", PYTHON_CALLER, "")
    write_function(functions, "fc3-caller", PYTHON_FC3_CALLER, f"role: {ROLE}\n")
    write_function(functions, "node-caller", NODE_CALLER, f"role: {ROLE}\n", file="index.js", runtime="nodejs18")
    write_function(functions, "mailer", MAILER, "")
    write_function(functions, "custom-caller", CUSTOM_CALLER, "customRuntimeConfig:\n"
                   "  command: [python3, server.py]\n  port: 9000\n", file="server.py", runtime="custom.debian10")
    emulator = EmulatorProcess(functions, root / "fcemu.log", redis_url=module_redis.url).start()
    yield emulator
    emulator.stop()


def mail_arrives(emulator: EmulatorProcess, redis_url: str, ask: dict[str, object], function: str = "caller") -> None:
    """The caller async-invokes the mailer with x-fc-async-delay: 1; the mailer's line reaches its logs no sooner
    than a second after the ask."""
    logs = LogWatcher(redis_url)
    try:
        asked_ms = time.time() * 1000  # before the invoke was accepted
        answer = call(emulator, function, ask)
        assert answer["status"] == 202, answer
        sent = logs.wait_for(str(answer["requestId"]), f"mail sent to {ask['mail']['to']}")  # type: ignore[index]
    finally:
        logs.close()
    assert sent["functionName"] == "mailer"
    assert sent["timestamp"] - asked_ms >= 1000, (sent, asked_ms)


@pytest.mark.parametrize(("scheme", "suffix"), [("https", "-internal"), ("https", ""), ("http", "-internal")])
def test_a_function_with_a_role_async_invokes_another_through_fcs_python_sdk(
    served: EmulatorProcess, module_redis: RedisServer, scheme: str, suffix: str
) -> None:
    mail_arrives(served, module_redis.url,
                 {"scheme": scheme, "suffix": suffix, "mail": {"to": f"{uuid.uuid4().hex[:6]}@example.com"}})


def test_a_function_async_invokes_another_through_fc3s_python_sdk(
    served: EmulatorProcess, module_redis: RedisServer
) -> None:
    mail_arrives(served, module_redis.url, {"mail": {"to": "fc3@example.com"}}, function="fc3-caller")


def test_a_nodejs_function_async_invokes_another_through_fcs_nodejs_sdk(
    served: EmulatorProcess, module_redis: RedisServer
) -> None:
    mail_arrives(served, module_redis.url, {"mail": {"to": "node@example.com"}}, function="node-caller")


def test_a_function_without_a_role_gets_fcs_error(served: EmulatorProcess) -> None:
    # As in FC, it has no credentials: FC's SDK refuses to make a client of empty ones.
    reply = requests.post(v3(served, "caller-without-role"), data=json.dumps({"mail": {}}).encode(), timeout=60)
    assert reply.headers.get("x-fc-error-type") == "UnhandledInvocationError", reply.text
    assert "AccessKeyID" in reply.json()["errorMessage"], reply.text
    # A key of its own making, or none at all, is refused by the endpoint in FC's shape.
    answer = call(served, "caller-without-role", {"key": "LTAI-made-up", "secret": "made-up", "mail": {"to": "nobody@example.com"}})
    assert answer["status"] == 403 and "InvalidAccessKeyID" in str(answer["error"]), answer
    answer = call(served, "caller-without-role", {"unsigned": True})
    assert answer["status"] == 400, answer
    error = answer["error"]
    assert isinstance(error, dict) and error["ErrorCode"] == "MissingRequiredHeader" and "role" in error["ErrorMessage"]


def test_a_wrong_security_token_is_refused(served: EmulatorProcess) -> None:
    answer = call(served, "caller", {"token": "not-the-token", "mail": {"to": "x@example.com"}})
    assert answer["status"] == 403 and "InvalidSecurityToken" in str(answer["error"]), answer


def test_the_host_cannot_use_fcs_endpoint(served: EmulatorProcess) -> None:
    found = ENDPOINT_LINE.search(served.log_path.read_text())
    assert found is not None, "the emulator did not say where FC's endpoint listens"
    address, http_port = found.group(1), int(found.group(2))
    names = "1234567890123456.cn-hangzhou-internal.fc.aliyuncs.com"
    reply = requests.get(f"http://{address}:{http_port}/2023-03-30/functions", headers={"Host": names}, timeout=30)
    assert reply.status_code == 403 and reply.json()["Code"] == "AccessDenied", reply.text
    # Nor does the API's own listener answer FC's names (a page of the host's browser could use one).
    reply = requests.get(f"{served.url}/2023-03-30/functions", headers={"Host": names}, timeout=30)
    assert reply.status_code == 403, reply.text
    # And the endpoint is not on the host's other addresses.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", http_port)) != 0


def test_a_custom_runtimes_own_server_reaches_fcs_endpoint_over_https(served: EmulatorProcess) -> None:
    answer = call(served, "custom-caller", {})
    # Name, relay and certificate all worked: the endpoint answered, refusing the unsigned request in FC's shape.
    assert answer["status"] == 400 and answer["error"]["Code"] == "MissingRequiredHeader", answer  # type: ignore[index]


def test_fcs_endpoint_serves_fcs_api_alone(served: EmulatorProcess) -> None:
    for path in ("/_fcemu/clock", "/_fcemu/console/", "/_fcemu/health", "/"):
        answer = call(served, "caller", {"unsigned": True, "path": path})
        assert answer["status"] == 400, (path, answer)
        assert answer["error"]["Code"] == "PathNotSupported", (path, answer)  # type: ignore[index]


def test_fcs_endpoint_keeps_the_host_rules(served: EmulatorProcess) -> None:
    answer = call(served, "caller", {"unsigned": True, "host": "evil.test"})
    assert answer["status"] == 403, answer
    assert answer["error"]["ErrorCode"] == "AccessDenied", answer  # type: ignore[index]


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_functions_of_an_fc2_service_with_a_role_get_its_credentials(
    served: EmulatorProcess, module_redis: RedisServer, tmp_path: Path
) -> None:
    """As FC 2.0 does: the role is the service's. Deployed through FC's API with fc2, as our users deploy."""
    client = fc2.Client(endpoint=served.url, accessKeyID="test-ak", accessKeySecret="test-sk")
    service = f"signup-{uuid.uuid4().hex[:6]}"
    client.create_service(service, role="")
    for name, code in (("caller", PYTHON_CALLER), ("mailer", MAILER)):
        archive = tmp_path / f"{name}.zip"
        archive.write_bytes(zipped({"index.py": code}))
        client.create_function(service, name, "python3.10", "index.handler", codeZipFile=str(archive), timeout=20)
    ask = {"mail": {"to": "svc@example.com"}}
    # Without a role, none: the SDK in the function refuses empty credentials.
    with pytest.raises(fc2.fc_exceptions.FcError) as failed:
        client.invoke_function(service, "caller", payload=json.dumps(ask))
    assert "AccessKeyID" in str(failed.value)
    assert client.update_service(service, role=ROLE).data["role"] == ROLE
    assert client.get_service(service).data["role"] == ROLE
    logs = LogWatcher(module_redis.url)
    try:
        answer = json.loads(client.invoke_function(service, "caller", payload=json.dumps(ask)).data)
        assert answer["status"] == 202, answer
        sent = logs.wait_for(answer["requestId"], "mail sent to svc@example.com")
    finally:
        logs.close()
    assert sent["functionName"] == f"{service}$mailer"
    with pytest.raises(fc2.fc_exceptions.FcError) as refused:
        client.create_service(f"long-{uuid.uuid4().hex[:6]}", role="r" * 301)
    assert refused.value.err_code == "InvalidArgument"
