"""The Host allow-list and the cross-origin guard against a real `fcemu serve` (real Redis, real Docker), with raw
HTTP and in Debian's headless Chromium: a DNS rebinding page (a name mapped to 127.0.0.1) reads nothing, pages of
other origins (served by a small HTTP server of the test's own) change nothing with no-cors fetches, a CORS
request or a form, and cannot frame the console; the console works on an allowed name, and /_fcemu/docs renders
with no request leaving the emulator's origin."""
from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.conftest import TEST_FUNCTIONS
from tests.support.chromium import BROWSER_MARKS, chromium
from tests.support.emulator_process import EmulatorProcess, free_port
from tests.support.redis_server import RedisServer

ALLOWED = "fcemu.team.test"

pytestmark = BROWSER_MARKS

playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extras)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer) -> Iterator[EmulatorProcess]:
    folder = tmp_path_factory.mktemp("origins")
    shutil.copytree(TEST_FUNCTIONS / "echo", folder / "functions" / "echo")
    process = EmulatorProcess(folder / "functions", folder / "fcemu.log", redis_url=module_redis.url,
                              allowed_hosts=ALLOWED).start()
    yield process
    process.stop()


class AttackerSite:
    """A page of another origin: an empty HTML page on a port of its own, whatever the path."""

    def __init__(self) -> None:
        self.port = free_port()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"<!doctype html><title>another site</title><p>nothing to see</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def attacker() -> Iterator[AttackerSite]:
    site = AttackerSite()
    yield site
    site.stop()


@pytest.fixture()
def browser() -> Iterator[Any]:
    # Names a rebinding attacker (evil.test), another site (attacker.test) and a team's name for the emulator
    # (fcemu.team.test, in FCEMU_ALLOWED_HOSTS) all resolve to 127.0.0.1, as their DNS would make them.
    rules = ", ".join(f"MAP {name} 127.0.0.1" for name in ("evil.test", "attacker.test", ALLOWED))
    with chromium(f"--host-resolver-rules={rules}") as browser:
        yield browser


def clock_offset(served: EmulatorProcess) -> int:
    reply = requests.get(f"{served.url}/_fcemu/clock", timeout=30)
    assert reply.status_code == 200, reply.text
    return int(reply.json()["offsetMs"])


def nothing_ran(served: EmulatorProcess) -> None:
    """No instance of echo started (none is pre-warmed), nothing is queued, no task of either API version."""
    functions = requests.get(f"{served.url}/_fcemu/functions", timeout=30).json()
    assert [f["instances"] for f in functions if f["functionName"] == "echo"] == [[]]
    counts = requests.get(f"{served.url}/_fcemu/functions/echo/queue", timeout=30).json()["counts"]
    assert set(counts.values()) == {0}, counts
    v3 = requests.get(f"{served.url}/2023-03-30/functions/echo/async-tasks", timeout=30)
    assert v3.status_code == 200 and v3.json()["tasks"] == [], v3.text
    v2 = requests.get(f"{served.url}/2016-08-15/services/default/functions/echo/stateful-async-invocations",
                      timeout=30)
    assert v2.status_code == 200 and v2.json()["invocations"] == [], v2.text
    one = requests.get(f"{served.url}/2023-03-30/functions/echo/async-tasks/xsite-task", timeout=30)
    assert one.status_code == 404, one.text


# ---- raw HTTP ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/2023-03-30/functions", "/2016-08-15/services/default/functions",
                                  "/_fcemu/functions", "/_fcemu/console/", "/http/echo/"])
def test_a_foreign_host_gets_an_fc_error_and_no_function_data(served: EmulatorProcess, path: str) -> None:
    reply = requests.get(f"{served.url}{path}", headers={"Host": f"evil.test:{served.port}"}, timeout=30)
    assert reply.status_code == 403, reply.text
    body = reply.json()
    code = body.get("Code") or body.get("ErrorCode")
    message = body.get("Message") or body.get("ErrorMessage")
    assert code == "AccessDenied" and "evil.test" in message and "FCEMU_ALLOWED_HOSTS" in message
    assert ("ErrorCode" in body) == path.startswith("/2016-08-15")
    assert reply.headers["x-fc-request-id"] == body["RequestId"]
    assert "functionName" not in reply.text and "index.handler" not in reply.text


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", ALLOWED, "host.docker.internal"])
def test_the_emulators_own_names_are_served(served: EmulatorProcess, host: str) -> None:
    reply = requests.get(f"{served.url}/2023-03-30/functions", headers={"Host": f"{host}:{served.port}"}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert [f["functionName"] for f in reply.json()["functions"]] == ["echo"]


def test_another_origins_request_is_refused_but_a_client_without_origin_is_not(served: EmulatorProcess) -> None:
    before = clock_offset(served)
    refused = requests.post(f"{served.url}/_fcemu/clock/advance", json={"seconds": 60}, timeout=30,
                            headers={"Origin": "http://attacker.test:8000"})
    assert refused.status_code == 403 and refused.json()["Code"] == "AccessDenied", refused.text
    assert clock_offset(served) == before
    own = requests.post(f"{served.url}/_fcemu/clock/advance", json={"seconds": 60}, timeout=30,
                        headers={"Origin": served.url})
    assert own.status_code == 200, own.text
    plain = requests.post(f"{served.url}/_fcemu/clock/advance", json={"seconds": 60}, timeout=30)
    assert plain.status_code == 200, plain.text
    assert clock_offset(served) == before + 120_000


def test_console_and_docs_pages_cannot_be_framed(served: EmulatorProcess) -> None:
    for path in ("/_fcemu/console/", "/_fcemu/docs/"):
        reply = requests.get(f"{served.url}{path}", timeout=30)
        assert reply.status_code == 200, reply.text
        assert reply.headers["x-frame-options"] == "DENY"
        policy = reply.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        # Scripts and styles from the page's own folder on the emulator's origin only, not a function's /http/.
        assert f"script-src {served.url}{path}; style-src {served.url}{path}" in policy


# ---- Chromium ----------------------------------------------------------------------------------------------

def test_a_rebinding_page_reads_nothing(served: EmulatorProcess, browser: Any) -> None:
    page = browser.new_page()
    # The attacker's page once its name re-resolves to 127.0.0.1: whatever its document, its script runs in the
    # origin http://evil.test:PORT, where every request of the page now reaches the emulator.
    rebinding = f"http://evil.test:{served.port}"
    reply = page.goto(f"{rebinding}/_fcemu/console/")
    assert reply is not None and reply.status == 403
    result = page.evaluate("""async () => {
        const read = async (path) => { const r = await fetch(path); return {status: r.status, text: await r.text()}; };
        return [await read('/2023-03-30/functions'), await read('/_fcemu/functions'),
                await read('/2016-08-15/services/default/functions')];
    }""")
    for answer in result:
        assert answer["status"] == 403, answer
        assert "AccessDenied" in answer["text"] and "functionName" not in answer["text"]


ATTACK = """async (target) => {
    const post = (path, body) => fetch(target + path, {mode: 'no-cors', method: 'POST',
        headers: {'content-type': 'text/plain'}, body}).then(() => 'sent', (e) => 'error ' + e);
    const sent = [
        await post('/_fcemu/clock/advance', '{"seconds": 7200}'),
        await post('/2023-03-30/functions/echo/invocations', 'from another site'),
        await post('/2016-08-15/services/default/functions/echo/invocations', 'from another site'),
    ];
    // An async invoke needs FC's header, so a CORS request: its preflight is refused too.
    const cors = (path) => fetch(target + path, {method: 'POST', body: 'from another site',
        headers: {'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': 'xsite-task'}})
        .then((r) => 'status ' + r.status, (e) => 'error ' + e);
    sent.push(await cors('/2023-03-30/functions/echo/invocations'));
    sent.push(await cors('/2016-08-15/services/default/functions/echo/invocations'));
    return sent;
}"""


def test_pages_of_other_origins_change_nothing(served: EmulatorProcess, attacker: AttackerSite, browser: Any) -> None:
    before = clock_offset(served)
    page = browser.new_page()
    # Another site, and another port of the same address (same-site, another origin).
    for origin in (f"http://attacker.test:{attacker.port}", f"http://127.0.0.1:{attacker.port}"):
        page.goto(f"{origin}/")
        sent = page.evaluate(ATTACK, served.url)
        # The no-cors requests went out (their answers are opaque); the CORS ones failed at their preflight.
        assert sent[:3] == ["sent"] * 3 and all(result.startswith("error") for result in sent[3:]), sent

        # A form posting JSON as text/plain (the last of a duplicated key wins): a navigation, refused too.
        with page.expect_navigation() as navigation:
            page.evaluate("""(target) => {
                const form = document.createElement('form');
                form.method = 'POST'; form.enctype = 'text/plain'; form.action = target + '/_fcemu/clock/advance';
                const field = document.createElement('input');
                field.name = '{"by": "'; field.value = '", "by": "2h"}';
                form.append(field); document.body.append(form); form.submit();
            }""", served.url)
        assert navigation.value is not None and navigation.value.status == 403
        assert "AccessDenied" in page.content()
    assert clock_offset(served) == before
    nothing_ran(served)


FOLLOW_LINK = """(url) => {
    const link = document.createElement('a');
    link.href = url; link.textContent = 'a link'; document.body.append(link); link.click();
}"""


def test_a_link_from_another_site_opens_the_console_but_takes_no_message(
    served: EmulatorProcess, attacker: AttackerSite, browser: Any,
) -> None:
    """Reading a local MNS queue takes its messages: a link (or window.open) from another site must not do it,
    though it is a top-level GET navigation, as a link to the console is."""
    topic = f"xsite-{uuid.uuid4().hex[:8]}"
    published = requests.post(f"{served.url}/_fcemu/mns/topics/{topic}/messages", json={"MessageBody": "keep me"},
                              timeout=30)
    assert published.status_code == 201, published.text
    page = browser.new_page()
    page.goto(f"http://attacker.test:{attacker.port}/")
    with page.expect_navigation() as navigation:
        page.evaluate(FOLLOW_LINK, f"{served.url}/_fcemu/mns/topics/{topic}/messages")
    assert navigation.value is not None and navigation.value.status == 403
    assert "AccessDenied" in page.content() and "keep me" not in page.content()
    peeked = requests.get(f"{served.url}/_fcemu/mns/topics/{topic}/messages", params={"peekonly": "true"},
                          timeout=30).json()["Messages"]
    assert [message["MessageBody"] for message in peeked] == ["keep me"]
    # A link to the console still opens it, live.
    page.goto(f"http://attacker.test:{attacker.port}/")
    with page.expect_navigation() as navigation:
        page.evaluate(FOLLOW_LINK, f"{served.url}/_fcemu/console/#function=echo")
    assert navigation.value is not None and navigation.value.status == 200
    playwright_api.expect(page.locator("#live")).to_have_text("live")


def test_the_console_works_on_an_allowed_name_and_no_other_site_can_frame_it(
    served: EmulatorProcess, attacker: AttackerSite, browser: Any,
) -> None:
    expect = playwright_api.expect
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    before = clock_offset(served)
    page.goto(f"http://{ALLOWED}:{served.port}/_fcemu/console/#function=echo")
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator('#function-list button[aria-current="true"]')).to_have_attribute("data-function", "echo")
    # Its POSTs carry its own origin: served.
    page.locator("#advance-by").fill("1h")
    page.get_by_role("button", name="Advance clock").click()
    expect(page.locator("#message")).to_contain_text("clock advanced by 1h")
    assert clock_offset(served) == before + 3_600_000
    # Enter in the filter does not submit (reload) the page: its handler is in app.js, not inline.
    page.locator("#prefix-filter").fill("none")
    page.keyboard.press("Enter")
    expect(page.locator("#task-rows")).to_contain_text("No tasks match.")
    assert violations == []
    # A script a function serves on the same origin does not run in the console, were one injected there.
    # (A script the policy lets load fires load or error, after the request; a blocked one a violation first.)
    blocked = page.evaluate("""() => new Promise((done) => {
        document.addEventListener('securitypolicyviolation', (event) => done('blocked ' + event.blockedURI));
        const script = document.createElement('script');
        script.onload = () => done('loaded'); script.onerror = () => done('requested');
        script.src = '/http/echo/evil.js'; document.body.append(script);
    })""")
    assert blocked == f"blocked http://{ALLOWED}:{served.port}/http/echo/evil.js"

    # Another site frames it: the console never loads in the frame.
    framing = browser.new_page()
    framing.goto(f"http://attacker.test:{attacker.port}/")
    framing.evaluate("""(url) => new Promise((done) => {
        const frame = document.createElement('iframe');
        frame.onload = done; frame.src = url; document.body.append(frame);
    })""", f"{served.url}/_fcemu/console/")
    frames = [frame for frame in framing.frames if frame != framing.main_frame]
    assert len(frames) == 1
    assert frames[0].locator("#live").count() == 0


def test_docs_render_with_nothing_loaded_from_elsewhere(served: EmulatorProcess, browser: Any) -> None:
    page = browser.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: problems.append(f"{message.text} ({message.location.get('url')})")
            if message.type == "error" else None)
    page.goto(f"{served.url}/_fcemu/docs")
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() > 50
    playwright_api.expect(page.locator(".info .title")).to_contain_text("fcemu")
    page.get_by_text("/_fcemu/clock/advance", exact=True).first.click()  # open one: it renders its schema
    playwright_api.expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert f"{served.url}/_fcemu/openapi.json" in requested
    assert [url for url in requested if not url.startswith(f"{served.url}/")] == []
    assert [text for text in problems if "/favicon.ico" not in text] == []
