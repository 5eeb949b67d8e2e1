"""The console in headless Chromium (Debian's) shows what FC's versions, aliases and concurrency make of a function
and its tasks: its published versions, an alias with its canary weight, a task's qualifier and the version that
ran, and a task FC's limits throttled, marked in the list and in its timeline."""
from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client

from tests.support.chromium import BROWSER_MARKS, chromium
from tests.support.console_tasks import console_functions, fc3_client_of, new_id
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import code_saying
from tests.support.redis_server import RedisServer

pytestmark = BROWSER_MARKS

playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extras)")

FUNCTION = "canary"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[EmulatorProcess]:
    redis = RedisServer(tmp_path / "redis").start()
    process = EmulatorProcess(console_functions(tmp_path / "functions"), tmp_path / "fcemu.log",
                              redis_url=redis.url).start()
    try:
        yield process
    finally:
        process.stop()
        redis.stop()


def _code(word: str) -> fc3_models.InputCodeLocation:
    return fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying(word)).decode())


def _two_versions_and_a_canary(client: FC3Client) -> None:
    """Versions 1 ("first") and 2 ("second") of FUNCTION, and its alias `prod`: 1, with 2 taking a quarter."""
    client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=FUNCTION, runtime="python3.10", handler="main.handler", memory_size=128, timeout=5,
        code=_code("one"))))
    publish = fc3_models.PublishFunctionVersionRequest
    client.publish_function_version(FUNCTION, publish(body=fc3_models.PublishVersionInput(description="first")))
    client.update_function(FUNCTION, fc3_models.UpdateFunctionRequest(
        body=fc3_models.UpdateFunctionInput(code=_code("two"))))
    client.publish_function_version(FUNCTION, publish(body=fc3_models.PublishVersionInput(description="second")))
    client.create_alias(FUNCTION, fc3_models.CreateAliasRequest(body=fc3_models.CreateAliasInput(
        alias_name="prod", version_id="1", additional_version_weight={"2": 0.25}, description="canary")))


def _invoke_prod(served: EmulatorProcess, task_id: str) -> None:
    """An async task through the alias `prod` (FC 3.0's `?qualifier=`)."""
    reply = requests.post(f"{served.url}/2023-03-30/functions/{FUNCTION}/invocations", params={"qualifier": "prod"},
                          data=b"x", headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id},
                          timeout=30)
    assert reply.status_code == 202, reply.text


def test_versions_an_alias_weight_and_a_throttled_task_in_the_console(served: EmulatorProcess) -> None:
    expect = playwright_api.expect
    client = fc3_client_of(served)
    _two_versions_and_a_canary(client)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{served.url}/_fcemu/console/#function={FUNCTION}")
        expect(page.locator("#live")).to_have_text("live")
        expect(page.locator('#versions tr[data-version="2"]')).to_contain_text("second")
        expect(page.locator('#versions tr[data-version="1"]')).to_contain_text("first")
        expect(page.locator('#aliases li[data-alias="prod"]')).to_have_text("prod → 1 (75%), 2 (25%) — canary")
        expect(page.locator("#invocation")).to_have_text("enabled")

        # A task through the alias: its row names the alias and the version that ran.
        ran = new_id()
        _invoke_prod(served, ran)
        row = page.locator(f'#task-rows tr[data-task-id="{ran}"]')
        expect(row).to_have_attribute("data-status", "Succeeded")
        expect(row.locator("td.qualifier")).to_have_text(re.compile(r"^prod → [12]$"))
        expect(row).not_to_have_attribute("data-throttled", "true")

        # No instance may run: the next task waits, throttled, and says so in the list and in its timeline.
        client.put_concurrency_config(FUNCTION, fc3_models.PutConcurrencyConfigRequest(
            body=fc3_models.PutConcurrencyInput(reserved_concurrency=0)))
        held = new_id()
        _invoke_prod(served, held)
        waiting = page.locator(f'#task-rows tr[data-task-id="{held}"]')
        expect(waiting).to_have_attribute("data-throttled", "true")
        expect(waiting).to_have_attribute("data-status", "Enqueued")
        expect(waiting.locator(".mark.throttled")).to_be_visible()
        waiting.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#task-status")).to_have_text("Enqueued")
        expect(page.locator("#task-qualifier")).to_have_text("prod")
        throttled = page.locator('#timeline li[data-throttled="true"]')
        expect(throttled.first).to_contain_text("ResourceThrottled")
        expect(page.locator("#timeline-panel .mark.throttled")).to_be_visible()
