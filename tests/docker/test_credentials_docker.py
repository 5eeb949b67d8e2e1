"""A function with a role gets the credentials fcemu's settings hold, as FC gives it its role's: in the
ALIBABA_CLOUD_* variables, the x-fc-access-key-* headers and context.credentials. Without a role it gets none, and
no client can slip its own in (sync, async, HTTP trigger)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.credentials import FORGED, KEY_ID, ROLE, SECRET, TOKEN
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import v3
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

CREDENTIAL_VARIABLES = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                        "ALIBABA_CLOUD_SECURITY_TOKEN")

EVENT_CODE = textwrap.dedent('''
    import json
    import os


    def handler(event, context):
        credentials = context.credentials
        return {
            "context": [credentials.access_key_id, credentials.access_key_secret, credentials.security_token],
            "env": [os.environ.get(name) for name in VARIABLES],
        }
''').replace("VARIABLES", repr(CREDENTIAL_VARIABLES))

WSGI_CODE = textwrap.dedent('''
    import json


    def handler(environ, start_response):
        credentials = environ["fc.context"].credentials
        body = json.dumps({
            "context": [credentials.access_key_id, credentials.access_key_secret, credentials.security_token],
            "headers": [environ.get("HTTP_X_FC_ACCESS_KEY_ID"), environ.get("HTTP_X_FC_SECURITY_TOKEN")],
        }).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
''')


def write_function(root: Path, name: str, code: str, manifest: str) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "index.py").write_text(code)
    (folder / "function.yaml").write_text(
        f"functionName: {name}\nruntime: python3.10\nhandler: index.handler\nmemorySize: 128\ntimeout: 5\n{manifest}")


def credential_functions(root: Path) -> Path:
    write_function(root, "with-role", EVENT_CODE, f"role: {ROLE}\n")
    write_function(root, "without-role", EVENT_CODE, "")
    write_function(root, "role-no-env", EVENT_CODE, f"role: {ROLE}\ndisableInjectCredentials: Env\n")
    write_function(root, "web-with-role", WSGI_CODE, textwrap.dedent(f"""\
        role: {ROLE}
        apiVersion: "2016-08-15"
        triggers:
          - triggerName: http
            triggerType: http
            triggerConfig: {{authType: anonymous, methods: [GET, POST]}}
        """))
    return root


@pytest.fixture(scope="module")
def credentialed(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[EmulatorProcess]:
    root = tmp_path_factory.mktemp("credentials")
    emulator = EmulatorProcess(
        credential_functions(root / "functions"), root / "fcemu.log", redis_url=redis_server.url,
        function_credentials_access_key_id=KEY_ID, function_credentials_access_key_secret=SECRET,
        function_credentials_security_token=TOKEN,
    ).start()
    yield emulator
    emulator.stop()
    log = emulator.log_path.read_text()
    assert SECRET not in log and TOKEN not in log, "a secret reached the emulator's log"


def test_a_function_with_a_role_gets_the_configured_credentials_and_no_clients(
    credentialed: EmulatorProcess
) -> None:
    reply = requests.post(v3(credentialed, "with-role"), data=b"", headers=FORGED, timeout=30)
    assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text
    assert reply.json() == {"context": [KEY_ID, SECRET, TOKEN], "env": [KEY_ID, SECRET, TOKEN]}


def test_a_function_without_a_role_gets_none_as_on_fc(credentialed: EmulatorProcess) -> None:
    reply = requests.post(v3(credentialed, "without-role"), data=b"", headers=FORGED, timeout=30)
    assert reply.json() == {"context": ["", "", ""], "env": [None, None, None]}


def test_disable_inject_credentials_env_keeps_them_out_of_the_environment_only(
    credentialed: EmulatorProcess
) -> None:
    reply = requests.post(v3(credentialed, "role-no-env"), data=b"", timeout=30)
    assert reply.json() == {"context": [KEY_ID, SECRET, TOKEN], "env": [None, None, None]}


def test_an_async_invoke_cannot_forge_the_credentials(
    credentialed: EmulatorProcess, redis_server: RedisServer
) -> None:
    task_id = f"creds_{uuid.uuid4().hex[:10]}"
    watcher = TaskWatcher(redis_server.url)
    try:
        reply = requests.post(v3(credentialed, "with-role"), data=b"", timeout=30, headers={
            **FORGED, "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
        assert reply.status_code == 202, reply.text
        assert watcher.wait_for("with-role", task_id) == "Succeeded"
    finally:
        watcher.close()
    task = requests.get(f"{credentialed.url}/2023-03-30/functions/with-role/async-tasks/{task_id}", timeout=30).json()
    assert json.loads(task["returnPayload"]) == {"context": [KEY_ID, SECRET, TOKEN], "env": [KEY_ID, SECRET, TOKEN]}


def test_an_http_trigger_request_cannot_forge_the_credentials(credentialed: EmulatorProcess) -> None:
    # The FC 2.0 proxy route, where a python HTTP function is a WSGI application.
    reply = requests.get(f"{credentialed.url}/2016-08-15/proxy/default.LATEST/web-with-role/", headers=FORGED,
                         timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"context": [KEY_ID, SECRET, TOKEN], "headers": [KEY_ID, TOKEN]}


def test_credentials_from_an_sts_shaped_file(tmp_path: Path, redis_server: RedisServer) -> None:
    credentials_file = tmp_path / "sts.json"
    credentials_file.write_text(json.dumps({"RequestId": "x", "Credentials": {
        "AccessKeyId": "STS.from-file", "AccessKeySecret": "file-secret", "SecurityToken": "file-token",
        "Expiration": "2030-01-01T00:00:00Z"}}))
    emulator = EmulatorProcess(credential_functions(tmp_path / "functions"), tmp_path / "fcemu.log",
                               redis_url=redis_server.url, function_credentials_file=str(credentials_file)).start()
    try:
        reply = requests.post(v3(emulator, "with-role"), data=b"", timeout=30)
    finally:
        emulator.stop()
    assert reply.json()["context"] == ["STS.from-file", "file-secret", "file-token"]


def test_a_bad_credentials_file_stops_the_start_with_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "creds.json"
    bad.write_text('{"AccessKeyId": "only-an-id"}')
    (tmp_path / "functions").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve"], check=False, cwd=REPO, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "FCEMU_FUNCTIONS_DIR": str(tmp_path / "functions"),
             "FCEMU_FUNCTION_CREDENTIALS_FILE": str(bad)},
    )
    assert result.returncode == 2
    assert "function credentials:" in result.stderr and "secret" in result.stderr, result.stderr
