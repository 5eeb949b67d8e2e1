"""FC-shaped errors for bad requests: status, code, message and request id."""
from __future__ import annotations

import requests

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error, v2, v3


def test_unknown_function(emulator: EmulatorProcess, http: requests.Session) -> None:
    body = assert_v3_error(http.post(v3(emulator, "nope"), data=b""), 404, "FunctionNotFound")
    assert body["Message"] == "function 'nope' does not exist"
    assert_v2_error(http.post(v2(emulator, "nope"), data=b""), 404, "FunctionNotFound")


def test_unknown_service(emulator: EmulatorProcess, http: requests.Session) -> None:
    body = assert_v2_error(http.post(v2(emulator, "hello", "other"), data=b""), 404, "ServiceNotFound")
    assert body["ErrorMessage"] == "service 'other' does not exist"


def test_unknown_qualifier(emulator: EmulatorProcess, http: requests.Session) -> None:
    assert_v3_error(http.post(v3(emulator, "hello") + "?qualifier=prod", data=b""), 404, "AliasNotFound")
    assert_v2_error(http.post(v2(emulator, "hello", "default.3"), data=b""), 404, "VersionNotFound")


def test_bad_invocation_type_header(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "hello"), data=b"", headers={"x-fc-invocation-type": "Later"})
    body = assert_v3_error(reply, 400, "InvalidArgument")
    assert "x-fc-invocation-type" in body["Message"]


def test_bad_log_type_header(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v2(emulator, "hello"), data=b"", headers={"x-fc-log-type": "Everything"})
    assert "x-fc-log-type" in assert_v2_error(reply, 400, "InvalidArgument")["ErrorMessage"]


def test_payload_over_the_sync_limit(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.post(v3(emulator, "hello"), data=b"x" * (32 * 1024 * 1024 + 1))
    body = assert_v3_error(reply, 400, "EntityTooLarge")
    assert "33554432" in body["Message"]


def test_wrong_method(emulator: EmulatorProcess, http: requests.Session) -> None:
    reply = http.get(v3(emulator, "hello"))
    assert_v3_error(reply, 405, "PathNotSupported")
    assert reply.headers["allow"] == "POST"


def test_unknown_path(emulator: EmulatorProcess, http: requests.Session) -> None:
    body = assert_v2_error(http.get(f"{emulator.url}/2016-08-15/nothing-here"), 400, "PathNotSupported")
    assert body["ErrorMessage"] == "'GET' against '/2016-08-15/nothing-here' is not supported"
