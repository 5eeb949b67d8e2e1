"""An HTTP function's web page in headless Chromium (Debian's), against a real `fcemu serve` and a real container
(tests/functions/page-probe, whose page reports what its script could do): on the function's own origin
`http://page-probe.localhost:PORT/` the page works as on FC (cookies, localStorage, same-origin fetches of its
function) and everything it reaches on its host is its function, never the API or the clock; on the shared
origin's route `/http/page-probe/` it runs sandboxed in an opaque origin and reads nothing."""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.chromium import BROWSER_MARKS, chromium
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer

PROBE = Path(__file__).parents[1] / "functions" / "page-probe"

pytestmark = BROWSER_MARKS

playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extras)")


@pytest.fixture()
def served(tmp_path: Path, own_redis: RedisServer) -> Iterator[EmulatorProcess]:
    """An emulator of the test's own: a page that gets through would move this clock, no one else's."""
    functions = tmp_path / "functions"
    shutil.copytree(PROBE, functions / PROBE.name)
    process = EmulatorProcess(functions, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    yield process
    process.stop()


def _probe(url: str, sent: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Opens the page at `url` and returns what its script could do; `sent` gets, by URL, the headers the browser
    sent on each of the page's requests (from DevTools: Playwright's own view leaves out Origin)."""
    # Chromium resolves every *.localhost name to loopback itself (no --host-resolver-rules needed).
    with chromium() as browser:
        page = browser.new_page()
        devtools = page.context.new_cdp_session(page)
        # A request's URL and the headers it went out with come in two events, in either order.
        urls: dict[str, str] = {}
        headers: dict[str, dict[str, str]] = {}
        devtools.on("Network.requestWillBeSent",
                    lambda event: urls.__setitem__(event["requestId"], event["request"]["url"]))
        devtools.on("Network.requestWillBeSentExtraInfo", lambda event: headers.__setitem__(
            event["requestId"], {name.lower(): value for name, value in event["headers"].items()}))
        devtools.send("Network.enable")
        # The page's request starts the function's container: generous limits, for a loaded machine.
        page.goto(url, timeout=120_000)
        playwright_api.expect(page).to_have_title("done", timeout=60_000)
        probe = dict(page.evaluate("window.probe"))
        sent.update({urls[request]: sent_headers for request, sent_headers in headers.items() if request in urls})
        return probe


def _answer(result: str) -> tuple[int, Any]:
    status, _, body = result.partition(" ")
    return int(status), json.loads(body)


def _clock_offset(served: EmulatorProcess) -> int:
    return int(requests.get(f"{served.url}/_fcemu/clock", timeout=30).json()["offsetMs"])


def test_on_its_own_origin_the_page_works_and_reaches_only_its_function(served: EmulatorProcess) -> None:
    origin = f"http://page-probe.localhost:{served.port}"
    sent: dict[str, dict[str, str]] = {}
    probe = _probe(f"{origin}/", sent)

    assert probe["origin"] == origin
    assert probe["storage"] == "v"
    assert set(probe["cookie"].split("; ")) == {"served=1", "page=1"}  # the function's cookie and the page's own
    status, own = _answer(probe["own"])
    assert status == 200 and own["function"] == "page-probe" and own["path"] == "/whoami"
    assert set(own["cookie"].split("; ")) == {"served=1", "page=1"}
    # The API's and the clock's paths on its host are its function's paths.
    assert _answer(probe["functions"]) == (200, {"function": "page-probe", "method": "GET",
                                                "path": "/2023-03-30/functions", "cookie": own["cookie"]})
    assert _answer(probe["clock"]) == (200, {"function": "page-probe", "method": "POST",
                                            "path": "/_fcemu/clock/advance", "cookie": own["cookie"]})
    assert sent[f"{origin}/_fcemu/clock/advance"]["sec-fetch-site"] == "same-origin"
    assert _clock_offset(served) == 0
    # The emulator's own address is another site: the page cannot read it, and its request says where it is from.
    assert probe["functionsByAddress"] == "error: TypeError"
    by_address = sent[f"{served.url}/2023-03-30/functions"]
    assert (by_address["origin"], by_address["sec-fetch-site"]) == (origin, "cross-site")


def test_on_the_shared_origin_the_page_is_sandboxed(served: EmulatorProcess) -> None:
    sent: dict[str, dict[str, str]] = {}
    probe = _probe(f"{served.url}/http/page-probe/", sent)

    # An opaque origin: no cookies, no storage, and every answer of the emulator's address unreadable, the
    # function's own JSON included.
    assert probe["origin"] == "null"
    assert probe["cookie"] == "error: SecurityError"
    assert probe["storage"] == "error: SecurityError"
    for attempt in ("own", "functions", "functionsByAddress", "clock"):
        assert probe[attempt] == "error: TypeError", (attempt, probe[attempt])
    # A write is still sent, as any page of another site could send it; it says where it comes from, which the
    # emulator's Origin check refuses (see docs/security.md): the clock did not move.
    clock = sent[f"{served.url}/_fcemu/clock/advance"]
    assert (clock["origin"], clock["sec-fetch-site"]) == ("null", "cross-site")
    assert _clock_offset(served) == 0


def test_the_console_links_to_the_functions_own_origin(served: EmulatorProcess) -> None:
    expect = playwright_api.expect
    origin = f"http://page-probe.localhost:{served.port}"
    with chromium() as browser:
        console = browser.new_page()
        console.goto(f"{served.url}/_fcemu/console/#function=page-probe")
        link = console.locator("#function-detail a", has_text=origin)
        expect(link).to_have_attribute("href", f"{origin}/")
        with console.expect_popup() as opened:
            link.click()
        page = opened.value
        expect(page).to_have_title("done", timeout=60_000)
        assert page.evaluate("[window.origin, window.opener]") == [origin, None]
