"""An emulator with access keys: the SDKs with the right keys work, wrong keys get FC's 403 through the SDKs'
own exceptions, and unsigned requests are refused."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.redis_server import RedisServer


@pytest.fixture(scope="module")
def signed_emulator(
    functions_dir: Path, tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[EmulatorProcess]:
    keys = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys.write_text("# id:secret\nfile-ak:file-secret\n")
    process = EmulatorProcess(
        functions_dir, tmp_path_factory.mktemp("signed") / "fcemu.log", redis_url=redis_server.url,
        dispatcher_enabled="false", access_keys="test-ak:test-sk", access_keys_file=str(keys),
    ).start()
    yield process
    process.stop()


def fc2_for(emulator: EmulatorProcess, ak: str, secret: str) -> fc2.Client:
    return fc2.Client(endpoint=emulator.url, accessKeyID=ak, accessKeySecret=secret)


def fc3_for(emulator: EmulatorProcess, ak: str, secret: str) -> FC3Client:
    return FC3Client(openapi_models.Config(
        access_key_id=ak, access_key_secret=secret, endpoint=f"127.0.0.1:{emulator.port}", protocol="http"))


def test_fc2_with_the_right_keys(signed_emulator: EmulatorProcess) -> None:
    client = fc2_for(signed_emulator, "test-ak", "test-sk")
    assert client.invoke_function("default", "hello", payload=b'{"name": "signed"}').data == b"hello signed"
    reply = client.invoke_function("default", "hello", payload=b"{}", headers={
        "x-fc-invocation-type": "Async", "x-fc-async-delay": "3600", "x-fc-stateful-async-invocation-id": "signed_1"})
    assert reply.headers["x-fc-stateful-async-invocation-id"] == "signed_1"
    assert client.list_function_async_invoke_configs("default", "hello", limit=5).data == {"configs": []}


def test_keys_from_the_file_work_too(signed_emulator: EmulatorProcess) -> None:
    client = fc2_for(signed_emulator, "file-ak", "file-secret")
    assert client.invoke_function("default", "hello", payload=b"{}").data == b"hello world"


def test_fc2_with_a_wrong_secret(signed_emulator: EmulatorProcess) -> None:
    with pytest.raises(fc2.FcError) as raised:
        fc2_for(signed_emulator, "test-ak", "wrong").invoke_function("default", "hello", payload=b"{}")
    assert raised.value.status_code == 403
    assert raised.value.err_code == "SignatureNotMatch"


def test_fc2_with_an_unknown_key(signed_emulator: EmulatorProcess) -> None:
    with pytest.raises(fc2.FcError) as raised:
        fc2_for(signed_emulator, "nobody", "x").invoke_function("default", "hello", payload=b"{}")
    assert raised.value.err_code == "InvalidAccessKeyID"


def test_fc3_with_the_right_keys(signed_emulator: EmulatorProcess) -> None:
    client = fc3_for(signed_emulator, "test-ak", "test-sk")
    reply = client.invoke_function("hello", fc3_models.InvokeFunctionRequest(body=b'{"name": "acs3"}'))
    assert reply.body.read() == b"hello acs3"
    listed = client.list_async_tasks("hello", fc3_models.ListAsyncTasksRequest(prefix="a b", limit=5))
    assert listed.body.tasks == []


def test_fc3_with_a_wrong_secret(signed_emulator: EmulatorProcess) -> None:
    with pytest.raises(ClientException) as raised:
        fc3_for(signed_emulator, "test-ak", "wrong").invoke_function(
            "hello", fc3_models.InvokeFunctionRequest(body=b"{}"))
    assert raised.value.status_code == 403
    assert raised.value.code == "SignatureNotMatch"


def test_unsigned_requests_are_refused(signed_emulator: EmulatorProcess) -> None:
    reply = requests.post(f"{signed_emulator.url}/2023-03-30/functions/hello/invocations", data=b"{}", timeout=10)
    assert reply.status_code == 400
    assert reply.json()["Code"] == "MissingRequiredHeader"
    assert requests.get(f"{signed_emulator.url}/_fcemu/health", timeout=10).status_code == 200


def test_without_keys_it_will_not_listen_beyond_loopback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--host", "0.0.0.0"], cwd=REPO, capture_output=True, text=True,
        timeout=60, check=False, env={k: v for k, v in os.environ.items() if not k.startswith("FCEMU_")},
    )
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without access keys" in result.stderr


def fc2_signed_headers(path: str, *, content_md5: str = "", content_type: str = "application/octet-stream",
                       ak: str = "test-ak", secret: str = "test-sk") -> dict[str, str]:
    """The headers of a 2016-08-15 request signed as aliyun-fc2 signs it."""
    date = formatdate(usegmt=True)
    string_to_sign = f"POST\n{content_md5}\n{content_type}\n{date}\n{path}"
    signature = base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).digest())
    headers = {"date": date, "content-type": content_type, "authorization": f"FC {ak}:{signature.decode()}"}
    if content_md5:
        headers["content-md5"] = content_md5
    return headers


def answer_without_sending_the_body(emulator: EmulatorProcess, path: str, headers: dict[str, str],
                                    length: int) -> tuple[int, dict]:
    """Sends only the head of a request that declares `length` bytes: the answer must not wait for them."""
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    try:
        connection.putrequest("POST", path, skip_accept_encoding=True, skip_host="host" in headers)
        for name, value in {**headers, "content-length": str(length)}.items():
            connection.putheader(name, value)
        connection.endheaders()
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read())
    finally:
        connection.close()


def test_an_unsigned_request_is_refused_before_its_body_is_read(signed_emulator: EmulatorProcess) -> None:
    status, body = answer_without_sending_the_body(
        signed_emulator, "/2023-03-30/functions/hello/invocations", {}, 10 * 1024 * 1024)
    assert (status, body["Code"]) == (400, "MissingRequiredHeader")


def test_a_signed_body_over_the_limit_is_refused_before_it_is_read(signed_emulator: EmulatorProcess) -> None:
    path = "/2016-08-15/services/default/functions/hello/invocations"
    status, body = answer_without_sending_the_body(signed_emulator, path, fc2_signed_headers(path), 33 * 1024 * 1024)
    assert (status, body["ErrorCode"]) == (400, "EntityTooLarge")
    assert "33554432 bytes" in body["ErrorMessage"], "names the sync payload limit"
    # CreateFunction takes more (a 50 MB zip, in base64), but not without end.
    path = "/2016-08-15/services/default/functions"
    status, body = answer_without_sending_the_body(signed_emulator, path, fc2_signed_headers(
        path, content_type="application/json"), 80 * 1024 * 1024)
    assert (status, body["ErrorCode"]) == (400, "EntityTooLarge")


def test_a_body_that_does_not_match_its_signed_md5_is_refused(signed_emulator: EmulatorProcess) -> None:
    path = "/2016-08-15/services/default/functions/hello/invocations"
    signed_md5 = base64.b64encode(hashlib.md5(b'{"name": "signed"}').digest()).decode()
    url = signed_emulator.url + path
    good = requests.post(url, data=b'{"name": "signed"}', headers=fc2_signed_headers(path, content_md5=signed_md5),
                         timeout=30)
    assert good.status_code == 200 and good.content == b"hello signed"
    bad = requests.post(url, data=b'{"name": "forged"}', headers=fc2_signed_headers(path, content_md5=signed_md5),
                        timeout=30)
    assert bad.status_code == 403 and bad.json()["ErrorCode"] == "SignatureNotMatch"


def on_function_host(emulator: EmulatorProcess, path: str, headers: dict[str, str], body: bytes = b"{}"
                     ) -> requests.Response:
    """A POST to `web`'s own origin (Python's resolver does not resolve *.localhost: the Host header names it)."""
    return requests.post(f"{emulator.url}{path}", data=body, timeout=60,
                         headers={**headers, "Host": f"web.localhost:{emulator.port}"})


def test_a_functions_own_host_is_signed_like_every_route(signed_emulator: EmulatorProcess) -> None:
    """On `web.localhost` every path is web's trigger, `/_fcemu/health` too: the paths a monitor reads unsigned
    are the emulator's own, not a function's, so an unsigned request there runs nothing."""
    for path in ("/_fcemu/health", "/_fcemu/metrics", "/items"):
        reply = on_function_host(signed_emulator, path, {})
        assert reply.status_code == 400 and reply.json()["Code"] == "MissingRequiredHeader", (path, reply.text)
    # A host naming no function says so only to a signed client.
    reply = requests.get(f"{signed_emulator.url}/", headers={"Host": f"nope.localhost:{signed_emulator.port}"},
                         timeout=60)
    assert reply.status_code == 400 and reply.json()["Code"] == "MissingRequiredHeader"
    # Signed over the path the client sent (not the /http/web route it is served by), it reaches the function.
    served = on_function_host(signed_emulator, "/_fcemu/health", fc2_signed_headers("/_fcemu/health"))
    assert served.status_code == 201, served.text  # web answers a POST with 201
    assert (served.json()["path"], served.json()["body"]) == ("/_fcemu/health", "{}")
    forged = on_function_host(signed_emulator, "/_fcemu/health", fc2_signed_headers("/http/web/_fcemu/health"))
    assert forged.status_code == 403 and forged.json()["Code"] == "SignatureNotMatch"


def test_a_functions_own_host_gets_an_http_triggers_body_limit(signed_emulator: EmulatorProcess) -> None:
    """A POST to `/2023-03-30/functions` on a function's host is the function's request: the sync payload limit,
    not CreateFunction's code-upload one (answered without waiting for the 40 MB the request declares)."""
    path = "/2023-03-30/functions"
    headers = {**fc2_signed_headers(path, content_type="application/json"),
               "host": f"web.localhost:{signed_emulator.port}"}
    status, body = answer_without_sending_the_body(signed_emulator, path, headers, 40 * 1024 * 1024)
    assert (status, body["Code"]) == (400, "EntityTooLarge")
    assert "33554432 bytes" in body["Message"]


def test_the_code_url_is_presigned(signed_emulator: EmulatorProcess) -> None:
    """GetFunctionCode's URL downloads without an FC signature (as FC's presigned OSS URL does), and only as given."""
    url = fc3_for(signed_emulator, "test-ak", "test-sk").get_function_code(
        "hello", fc3_models.GetFunctionCodeRequest()).body.url
    assert "Signature=" in url and "Expires=" in url
    download = requests.get(url, timeout=10)
    assert download.status_code == 200 and download.content.startswith(b"PK")
    plain = url.split("?", 1)[0]
    assert requests.get(plain, timeout=10).status_code == 400, "unsigned: MissingRequiredHeader"
    tampered = url.replace("Signature=", "Signature=x")
    assert requests.get(tampered, timeout=10).status_code == 400
    other = url.replace("/functions/hello/", "/functions/echo/")
    assert requests.get(other, timeout=10).status_code == 400, "a signature is for its own function"
