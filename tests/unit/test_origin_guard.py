"""The Host allow-list and the cross-origin guard as logic (no server): which Host names are the emulator's own,
which browser requests come from another origin, and that a refused request reaches no route and has none of
its body read. tests/test_origin_guard_browser_docker.py drives the same through a real emulator and Chromium."""
from __future__ import annotations

import asyncio
import json

import pytest
from starlette.types import Message, Receive, Scope, Send

from emulator.api.host_names import host_name
from emulator.api.origin_guard import HostAllowList, OriginGuardMiddleware, cross_origin_problem
from emulator.settings import Settings


@pytest.mark.parametrize(("header", "name"), [
    ("127.0.0.1:9000", "127.0.0.1"), ("LocalHost:9000", "localhost"), ("[::1]:9000", "::1"), ("[::1]", "::1"),
    ("example.test.", "example.test"), ("evil.test:80", "evil.test"),
])
def test_host_name_drops_the_port_brackets_and_final_dot(header: str, name: str) -> None:
    assert host_name(header) == name


def hosts(listen: str = "127.0.0.1", allowed: str = "") -> HostAllowList:
    return HostAllowList(listen, Settings(allowed_hosts=allowed).allowed_host_patterns())


@pytest.mark.parametrize("name", [
    "127.0.0.1", "10.1.2.3", "172.17.0.1", "::1", "fe80::1", "localhost", "fn.localhost", "a.b.localhost",
    "host.docker.internal",
])
def test_loopback_names_ip_literals_and_dockers_host_name_are_served(name: str) -> None:
    assert hosts().permits(name)


@pytest.mark.parametrize("name", [
    "evil.test", "localhost.evil.test", "evillocalhost", "host.docker.internal.evil.test", "127.0.0.1.nip.io", "",
])
def test_other_names_are_refused(name: str) -> None:
    assert not hosts().permits(name)


def test_the_listen_host_is_served_when_it_is_a_name() -> None:
    assert hosts(listen="devbox.lan").permits("devbox.lan")
    assert not hosts(listen="0.0.0.0").permits("devbox.lan")


def test_allowed_hosts_names_and_wildcards() -> None:
    allowed = hosts(allowed="fcemu.team.test, .corp.test,*.dev.test")
    assert allowed.permits("fcemu.team.test")
    assert not allowed.permits("x.fcemu.team.test")
    assert allowed.permits("corp.test") and allowed.permits("a.b.corp.test")  # ".name": it and its subdomains
    assert allowed.permits("api.dev.test") and not allowed.permits("dev.test")  # "*.name": subdomains only
    assert not allowed.permits("evilcorp.test")
    assert hosts(allowed="*").permits("anything.test")


@pytest.mark.parametrize("entry", ["http://fcemu.test", "fcemu.test:9000", "fcemu.test/x", "*.", "a..b", "*x.test"])
def test_an_allowed_hosts_entry_that_is_no_host_name_is_refused_at_start_up(entry: str) -> None:
    with pytest.raises(ValueError, match="FCEMU_ALLOWED_HOSTS entry"):
        Settings(allowed_hosts=f"ok.test,{entry}").allowed_host_patterns()


def headers(**values: str) -> dict[bytes, str]:
    return {name.replace("_", "-").encode(): value for name, value in values.items()}


@pytest.mark.parametrize(("method", "given"), [
    ("POST", headers(host="127.0.0.1:9000", origin="http://evil.test")),
    ("POST", headers(host="127.0.0.1:9000", origin="http://127.0.0.1:9001")),  # another port: another origin
    ("POST", headers(host="127.0.0.1:9000", origin="http://localhost:9000")),  # another name
    ("POST", headers(host="127.0.0.1:9000", origin="null")),
    ("GET", headers(host="127.0.0.1:9000", origin="http://evil.test")),
    ("POST", headers(host="127.0.0.1:9000", sec_fetch_site="cross-site", sec_fetch_mode="no-cors")),
    ("POST", headers(host="localhost:9000", sec_fetch_site="same-site", sec_fetch_mode="cors")),
    ("GET", headers(host="127.0.0.1:9000", sec_fetch_site="cross-site", sec_fetch_mode="cors")),
    # A form's POST is a navigation too, and a frame is no top-level navigation (clickjacking).
    ("POST", headers(host="127.0.0.1:9000", sec_fetch_site="cross-site", sec_fetch_mode="navigate",
                     sec_fetch_dest="document", origin="http://evil.test")),
    ("GET", headers(host="127.0.0.1:9000", sec_fetch_site="cross-site", sec_fetch_mode="navigate",
                    sec_fetch_dest="iframe")),
    ("POST", headers(origin="http://127.0.0.1:9000")),  # no Host: no origin is its own
])
def test_requests_from_other_origins_pages_are_refused(method: str, given: dict[bytes, str]) -> None:
    assert cross_origin_problem(method, "/_fcemu/console/", given) is not None


# What Chromium sends for a link or window.open() from another site.
CROSS_SITE_NAVIGATION = headers(host="127.0.0.1:9000", sec_fetch_site="cross-site", sec_fetch_mode="navigate",
                                sec_fetch_dest="document", sec_fetch_user="?1")


@pytest.mark.parametrize("path", [
    "/_fcemu/mns/queues/q/messages", "/_fcemu/mns/topics/t/messages", "/2023-03-30/functions", "/_fcemu/logs",
    "/_fcemu/consolex", "/_fcemu/docsx/", "/", "/_fcemu/openapi.json",
])
def test_a_navigation_from_another_site_opens_only_the_emulators_pages(path: str) -> None:
    """Some GETs change state (reading an MNS queue takes its messages): a link from another site runs none."""
    assert cross_origin_problem("GET", path, CROSS_SITE_NAVIGATION) is not None
    # The same URL typed or bookmarked (Sec-Fetch-Site: none) is the developer's own doing.
    assert cross_origin_problem("GET", path, {**CROSS_SITE_NAVIGATION, b"sec-fetch-site": "none"}) is None


@pytest.mark.parametrize(("method", "given"), [
    ("POST", headers(host="127.0.0.1:9000")),  # an SDK, curl, a function: no Origin, no Sec-Fetch-*
    ("POST", headers(host="127.0.0.1:9000", origin="http://127.0.0.1:9000", sec_fetch_site="same-origin")),
    ("POST", headers(host="LOCALHOST:9000", origin="http://localhost:9000")),
    ("POST", headers(host="fcemu.team.test", origin="https://fcemu.team.test")),  # behind a TLS proxy
    ("GET", headers(host="127.0.0.1:9000", sec_fetch_site="none", sec_fetch_mode="navigate")),  # typed URL
    ("GET", CROSS_SITE_NAVIGATION),  # a link to the console
    ("HEAD", headers(host="127.0.0.1:9000", sec_fetch_site="cross-site", sec_fetch_mode="navigate")),
])
def test_own_pages_clients_that_are_no_browser_and_links_are_served(method: str, given: dict[bytes, str]) -> None:
    for path in ("/_fcemu/console/", "/_fcemu/console", "/_fcemu/console/index.html", "/_fcemu/docs/"):
        assert cross_origin_problem(method, path, given) is None


class Recorder:
    """The app behind the middleware: records whether it ran and whether anything read the body."""

    def __init__(self) -> None:
        self.ran = False
        self.body_read = False

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.ran = True
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive(self) -> Message:
        self.body_read = True
        return {"type": "http.request", "body": b"{}", "more_body": False}


def call(path: str, *, more: tuple[tuple[bytes, bytes], ...] = (), **given: str
         ) -> tuple[Recorder, int, dict[str, str]]:
    recorder = Recorder()
    guard = OriginGuardMiddleware(recorder.app, hosts(allowed="fcemu.team.test"))
    sent: list[Message] = []
    scope: Scope = {
        "type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [*((name, value.encode()) for name, value in headers(**given).items()), *more],
    }

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(guard(scope, recorder.receive, send))
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return recorder, sent[0]["status"], json.loads(body) if sent[0]["status"] != 200 else {}


def test_a_foreign_host_is_refused_before_anything_runs_or_reads_the_body() -> None:
    recorder, status, body = call("/2023-03-30/functions", host="evil.test:9000")
    assert (status, body["Code"], recorder.ran, recorder.body_read) == (403, "AccessDenied", False, False)
    assert "evil.test" in body["Message"] and "FCEMU_ALLOWED_HOSTS" in body["Message"]
    # In the error shape of the route's API version.
    recorder, status, body = call("/2016-08-15/services", host="evil.test:9000")
    assert (status, body["ErrorCode"], recorder.ran) == (403, "AccessDenied", False)


def test_another_origin_is_refused_before_anything_runs_or_reads_the_body() -> None:
    recorder, status, body = call("/_fcemu/clock/advance", host="127.0.0.1:9000", origin="http://evil.test",
                                  sec_fetch_site="cross-site", sec_fetch_mode="no-cors")
    assert (status, body["Code"], recorder.ran, recorder.body_read) == (403, "AccessDenied", False, False)


def test_http_triggers_take_any_origin_but_not_any_host() -> None:
    for path in ("/http/site/", "/http/site", "/2016-08-15/proxy/default/site/page"):
        recorder, status, _ = call(path, host="127.0.0.1:9000", origin="http://evil.test", sec_fetch_site="cross-site")
        assert (status, recorder.ran) == (200, True)
        recorder, status, _ = call(path, host="evil.test:9000")
        assert (status, recorder.ran) == (403, False)


def test_served_requests_pass_through() -> None:
    for host in ("127.0.0.1:9000", "localhost:9000", "fcemu.team.test:9000", "host.docker.internal:9000"):
        recorder, status, _ = call("/_fcemu/clock/advance", host=host)
        assert (status, recorder.ran) == (200, True)
    recorder, status, _ = call("/_fcemu/clock/advance")  # HTTP/1.0 without Host: never a browser
    assert (status, recorder.ran) == (200, True)


def test_several_host_headers_are_refused_before_anything_runs() -> None:
    """The guard and the function origins would have to pick one; a rebinding page's name could hide behind the
    other. Refused whichever comes first."""
    for first, second in ((b"127.0.0.1:9000", b"evil.test"), (b"web.localhost:9000", b"127.0.0.1:9000"),
                          (b"localhost:9000", b"localhost:9000")):
        recorder, status, body = call("/2023-03-30/functions", more=((b"host", first), (b"host", second)))
        assert (status, body["Code"], recorder.ran, recorder.body_read) == (400, "InvalidArgument", False, False)
        assert "2 Host headers" in body["Message"]
    recorder, status, body = call("/2016-08-15/services", more=((b"host", b"a"), (b"host", b"b")))
    assert (status, body["ErrorCode"]) == (400, "InvalidArgument")
