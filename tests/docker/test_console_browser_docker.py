"""The live console in headless Chromium (Debian's), against a real `fcemu serve`: a failing async task's row, its
timeline and its logs appear without reloading the page, driven from the keyboard; "Re-run" makes a new task, and
"Advance clock" by 1 h runs a task deferred 3,600 s at once and expires one past its max event age."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.chromium import BROWSER_MARKS, chromium
from tests.support.console_tasks import console_functions, invoke_async, new_id
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer

# Set to a path to keep the screenshot (the docs' is emulator/console/screenshots/console.png).
SCREENSHOT_ENV = "FCEMU_CONSOLE_SCREENSHOT"

pytestmark = BROWSER_MARKS

playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extras)")


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[EmulatorProcess]:
    redis = RedisServer(tmp_path / "redis").start()
    process = EmulatorProcess(console_functions(tmp_path / "functions"), tmp_path / "fcemu.log",
                              redis_url=redis.url, retry_base_delay_s="0.05").start()
    try:
        yield process
    finally:
        process.stop()
        redis.stop()


def test_a_failing_task_and_its_timeline_appear_live(served: EmulatorProcess, tmp_path: Path) -> None:
    expect = playwright_api.expect
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{served.url}/_fcemu/console/#function=fail")
        expect(page.locator("#live")).to_have_text("live")
        expect(page.locator('#function-list button[aria-current="true"]')).to_have_text("fail")
        expect(page.locator("#task-rows")).to_contain_text("No tasks match.")

        task_id = new_id()
        invoke_async(served, "fail", b"from the browser", **{"x-fc-async-task-id": task_id})
        row = page.locator(f'#task-rows tr[data-task-id="{task_id}"]')
        expect(row).to_have_attribute("data-status", "Failed")

        # Keyboard: "/" focuses the filter, then Tab reaches the row and Enter opens it.
        page.keyboard.press("/")
        expect(page.locator("#prefix-filter")).to_be_focused()
        page.keyboard.type(task_id[:6])
        expect(page.locator("#task-rows tr[data-task-id]")).to_have_count(1)
        row.focus()
        page.keyboard.press("Enter")
        timeline = page.locator("#timeline")
        expect(timeline.locator('li[data-status="Failed"]')).to_be_visible()
        expect(timeline.locator('li[data-status="Retrying"]')).to_have_count(3)
        expect(page.locator("#task-error")).to_contain_text("bad input: from the browser")
        expect(page.locator("#task-status")).to_have_text("Failed")
        # Its log lines, followed live: what it printed and its traceback.
        expect(page.locator("#task-logs")).to_contain_text("about to fail")
        expect(page.locator("#task-logs")).to_contain_text("ValueError: bad input: from the browser")

        # A second task shows up in the open list without a reload, and the open timeline stays.
        second = f"{task_id[:6]}b"
        invoke_async(served, "fail", b"again", **{"x-fc-async-task-id": second})
        expect(page.locator(f'#task-rows tr[data-task-id="{second}"]')).to_have_attribute("data-status", "Failed")
        expect(page.locator("#task-status")).to_have_text("Failed")

        page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
        keep = os.environ.get(SCREENSHOT_ENV)
        if keep:
            shutil.copyfile(tmp_path / "console.png", keep)


def test_re_run_and_advancing_the_clock_from_the_console(served: EmulatorProcess) -> None:
    expect = playwright_api.expect
    reply = requests.put(f"{served.url}/2023-03-30/functions/fail/async-invoke-config",
                         json={"maxAsyncEventAgeInSeconds": 60, "maxAsyncRetryAttempts": 0}, timeout=30)
    assert reply.status_code == 200, reply.text
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{served.url}/_fcemu/console/#function=fail")
        expect(page.locator("#live")).to_have_text("live")

        # Re-run a failed task with an edited payload: a new task, opened, failing on the new payload.
        failed = new_id()
        invoke_async(served, "fail", b"first", **{"x-fc-async-task-id": failed})
        row = page.locator(f'#task-rows tr[data-task-id="{failed}"]')
        expect(row).to_have_attribute("data-status", "Failed")
        row.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#task-status")).to_have_text("Failed")
        page.locator("#rerun-payload").fill("edited")
        page.get_by_role("button", name="Re-run").click()
        expect(page.locator("#task-error")).to_contain_text("bad input: edited")
        expect(page.locator("#task-rows tr[data-task-id]")).to_have_count(2)

        # Deferred past fail's max event age (60 s), and an hour on echo.
        stale = new_id()
        invoke_async(served, "fail", b"too old", **{"x-fc-async-task-id": stale, "x-fc-async-delay": "120"})
        deferred = new_id()
        invoke_async(served, "echo", b"later", **{"x-fc-async-task-id": deferred, "x-fc-async-delay": "3600"})
        expect(page.locator(f'#task-rows tr[data-task-id="{stale}"]')).to_have_attribute("data-status", "Enqueued")
        page.locator("#advance-by").fill("1h")
        page.locator("#advance").click()
        expect(page.locator(f'#task-rows tr[data-task-id="{stale}"]')).to_have_attribute("data-status", "Expired")
        expect(page.locator("#clock-now")).to_contain_text("+3600 s")
        page.locator('#function-list button[data-function="echo"]').click()
        expect(page.locator(f'#task-rows tr[data-task-id="{deferred}"]')).to_have_attribute(
            "data-status", "Succeeded")
