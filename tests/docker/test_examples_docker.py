"""The example functions shipped in functions/, end to end."""
from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path

import pytest
import requests

from emulator.devtools.mail_sink import MailSink
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.redis_server import RedisServer
from tests.support.waits import docker_bridge_gateway


def copy_send_email(functions_dir: Path, target: Path, smtp_port: int, name: str = "send-email") -> None:
    """A copy of the example whose manifest points SMTP at a test sink's free port."""
    copy = target / name
    shutil.copytree(functions_dir / name, copy)
    manifest = copy / "function.yaml"
    manifest.write_text(manifest.read_text().replace('SMTP_PORT: "1025"', f'SMTP_PORT: "{smtp_port}"'))


# The same example in each runtime: python, Node.js's is in test_nodejs_runtime_docker.py, Go's and Java's built
# offline by scripts/build-functions.sh (the functions_dir fixture runs it).
MAILERS = ["send-email", "send-email-go", "send-email-java"]


@pytest.mark.parametrize("mailer", MAILERS)
def test_send_email_delivers_a_registration_mail(
    functions_dir: Path, tmp_path: Path, redis_server: RedisServer, mailer: str
) -> None:
    gateway = docker_bridge_gateway()

    async def scenario() -> None:
        sink = MailSink()
        port = await sink.start(gateway, 0)
        copy_send_email(functions_dir, tmp_path / "functions", port, mailer)
        emulator = EmulatorProcess(tmp_path / "functions", tmp_path / "fcemu.log", redis_url=redis_server.url,
                                   dispatcher_enabled="false").start()
        try:
            reply = await asyncio.to_thread(
                requests.post, v3(emulator, mailer), data=json.dumps({"to": "ada@example.com", "name": "Ada"}),
                headers={"x-fc-request-id": "signup-1"}, timeout=30,
            )
            assert reply.json() == {"sent": True, "to": "ada@example.com"}, reply.text
            [mail] = await sink.wait_for(1, timeout=10)
        finally:
            emulator.stop()
            await sink.close()
        assert mail.recipients == ["ada@example.com"]
        assert mail.message["Subject"] == "Welcome aboard"
        assert mail.message["X-Request-Id"] == "signup-1"
        assert "Hello Ada" in mail.message.get_body().get_content()

    asyncio.run(scenario())


@pytest.mark.parametrize("bad", [{"fileName": "a.txt", "targetFormat": "json", "content": ""}])
def test_convert_file_refuses_an_unknown_conversion(
    emulator: EmulatorProcess, http: requests.Session, bad: dict[str, str]
) -> None:
    reply = http.post(v3(emulator, "convert-file"), data=json.dumps(bad))
    assert reply.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert "cannot convert txt to json" in reply.json()["errorMessage"]


@pytest.mark.parametrize("mailer", MAILERS)
def test_a_sign_up_hands_the_registration_mail_to_send_email_asynchronously(
    functions_dir: Path, tmp_path: Path, mailer: str
) -> None:
    """FC's own scenario: the sign-up answers at once (202) and the mail goes out in the background, a second
    later (x-fc-async-delay)."""
    # A Redis of its own: the shared one's dispatchers know send-email with another SMTP port.
    redis_server = RedisServer(tmp_path / "redis").start()
    gateway = docker_bridge_gateway()

    async def scenario() -> None:
        sink = MailSink()
        port = await sink.start(gateway, 0)
        copy_send_email(functions_dir, tmp_path / "functions", port, mailer)
        emulator = EmulatorProcess(tmp_path / "functions", tmp_path / "fcemu.log", redis_url=redis_server.url).start()
        try:
            asked = time.monotonic()
            reply = await asyncio.to_thread(
                requests.post, v3(emulator, mailer), data=json.dumps({"to": "lin@example.com", "name": "Lin"}),
                headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "signup_lin",
                         "x-fc-async-delay": "1"}, timeout=30,
            )
            assert reply.status_code == 202
            [mail] = await sink.wait_for(1, timeout=30)
            waited = time.monotonic() - asked
        finally:
            emulator.stop()
            await sink.close()
            redis_server.kill()
        assert mail.recipients == ["lin@example.com"]
        assert "Hello Lin" in mail.message.get_body().get_content()
        assert waited >= 1.0  # x-fc-async-delay

    asyncio.run(scenario())


@pytest.mark.parametrize(("sign_up", "mailer"), [("sign-up", "send-email"), ("sign-up-node", "send-email-node")])
def test_the_sign_up_chain_mails_through_fcs_api_from_inside_the_function(
    functions_dir: Path, tmp_path: Path, sign_up: str, mailer: str
) -> None:
    """The seed's chain as FC runs it: the HTTP sign-up answers 202 and async-invokes the mailer itself, through FC's
    SDK at https://<account>.<region>-internal.fc.aliyuncs.com with x-fc-async-delay; the mail arrives a second
    later."""
    redis_server = RedisServer(tmp_path / "redis").start()
    gateway = docker_bridge_gateway()

    async def scenario() -> None:
        sink = MailSink()
        port = await sink.start(gateway, 0)
        copy_send_email(functions_dir, tmp_path / "functions", port, mailer)
        shutil.copytree(functions_dir / sign_up, tmp_path / "functions" / sign_up)
        emulator = EmulatorProcess(tmp_path / "functions", tmp_path / "fcemu.log", redis_url=redis_server.url).start()
        try:
            asked = time.monotonic()
            reply = await asyncio.to_thread(
                requests.post, f"{emulator.url}/http/{sign_up}/", json={"email": "ada@example.com", "name": "Ada"},
                timeout=60)
            assert reply.status_code == 202, reply.text
            assert reply.json()["registered"] == "ada@example.com"
            [mail] = await sink.wait_for(1, timeout=30)
            waited = time.monotonic() - asked
            refused = await asyncio.to_thread(
                requests.post, f"{emulator.url}/http/{sign_up}/", json={"email": "not-an-address"}, timeout=60)
        finally:
            emulator.stop()
            await sink.close()
            redis_server.kill()
        assert mail.recipients == ["ada@example.com"]
        assert mail.message["X-Request-Id"] == reply.json()["mailRequestId"]
        assert waited >= 1.0  # MAIL_DELAY_SECONDS, as x-fc-async-delay
        assert refused.status_code == 400 and "not an e-mail address" in refused.json()["error"]

    asyncio.run(scenario())
