"""FC's official Python SDKs, unchanged, against the emulator: sync invoke and error handling."""
from __future__ import annotations

import base64

import fc2
import pytest
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions


def test_fc2_invokes_sync_with_log_tail(fc2_client: fc2.Client) -> None:
    reply = fc2_client.invoke_function(
        "default", "hello", payload=b'{"name": "sdk"}', headers={"x-fc-log-type": "Tail"}
    )
    assert reply.data == b"hello sdk"
    assert "saying hello to sdk" in base64.b64decode(reply.headers["x-fc-log-result"]).decode()


def test_fc2_invokes_with_a_qualifier(fc2_client: fc2.Client) -> None:
    assert fc2_client.invoke_function("default", "hello", payload=b"{}", qualifier="LATEST").data == b"hello world"


def test_fc2_raises_fc_error_for_a_function_error(fc2_client: fc2.Client) -> None:
    with pytest.raises(fc2.FcError) as raised:
        fc2_client.invoke_function("default", "fail", payload=b"sdk")
    assert raised.value.status_code == 200
    assert "bad input: sdk" in raised.value.message


def test_fc2_sees_function_not_found(fc2_client: fc2.Client) -> None:
    with pytest.raises(fc2.FcError) as raised:
        fc2_client.invoke_function("default", "missing", payload=b"{}")
    assert raised.value.status_code == 404
    assert raised.value.err_code == "FunctionNotFound"
    assert raised.value.request_id


def test_fc3_invokes_sync(fc3_client: FC3Client) -> None:
    reply = fc3_client.invoke_function_with_options(
        "hello",
        fc3_models.InvokeFunctionRequest(body=b'{"name": "fc3"}'),
        fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Sync", x_fc_log_type="Tail"),
        RuntimeOptions(),
    )
    assert reply.status_code == 200
    assert reply.body.read() == b"hello fc3"
    assert reply.headers["x-fc-log-result"]


def test_fc3_reports_a_function_error_in_the_header(fc3_client: FC3Client) -> None:
    reply = fc3_client.invoke_function("fail", fc3_models.InvokeFunctionRequest(body=b"v3"))
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"


def test_fc3_sees_function_not_found(fc3_client: FC3Client) -> None:
    with pytest.raises(ClientException) as raised:
        fc3_client.invoke_function("missing", fc3_models.InvokeFunctionRequest(body=b"{}"))
    assert raised.value.code == "FunctionNotFound"
    assert raised.value.status_code == 404
    assert raised.value.request_id
