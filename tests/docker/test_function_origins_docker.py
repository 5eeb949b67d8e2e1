"""HTTP functions' own origins over raw HTTP, against the real `fcemu serve` and real containers: a Host
`<function>.localhost` is that function's HTTP trigger on every path and serves nothing of the emulator; the
shared-origin trigger routes answer with a sandboxing CSP; FC 3.0's trigger API (raw and through the official
SDK) gives each HTTP trigger its urlInternet and urlIntranet, and both URLs reach the function (curl resolves
`*.localhost` itself; Python's resolver here does not, so Python sends to 127.0.0.1 with the Host header)."""
from __future__ import annotations

import base64
import http.client
import json
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from alibabacloud_fc20230330.client import Client as FC3Client

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v3_error, zipped

SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
# FC 3.0 event contract: the handler's return value is the answer.
EVENT_CODE = """import json


def handler(event, context):
    request = json.loads(event)
    return json.dumps({"function": context.function.name, "path": request["rawPath"]})
"""
# FC 2.0's web handler: a WSGI application.
WSGI_CODE = """def handler(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("wsgi " + environ["PATH_INFO"]).encode()]
"""


def on_host(emulator: EmulatorProcess, host: str, path: str, method: str = "GET", **options: object
            ) -> requests.Response:
    """A request to the emulator's address naming `host` (Python's resolver does not resolve *.localhost)."""
    return requests.request(method, f"{emulator.url}{path}", headers={"Host": f"{host}:{emulator.port}"},
                            timeout=60, **options)  # type: ignore[arg-type]


def test_a_functions_own_host_serves_it_on_every_path(emulator: EmulatorProcess) -> None:
    for path in ("/", "/2023-03-30/functions", "/_fcemu/console/", "/_fcemu/health", "/http/page-probe/x",
                 "/2016-08-15/services"):
        reply = on_host(emulator, "page-probe.localhost", path)
        assert reply.status_code == 200, (path, reply.text)
        if path == "/":
            assert reply.headers["content-type"].startswith("text/html")
            continue
        assert reply.json() == {"function": "page-probe", "method": "GET", "path": path, "cookie": ""}
        # Its own origin: not sandboxed.
        assert "content-security-policy" not in reply.headers
    advanced = on_host(emulator, "page-probe.localhost", "/_fcemu/clock/advance", "POST", data=b'{"seconds": 1}')
    assert advanced.json()["function"] == "page-probe"
    # Host names ignore case, a trailing dot is the same name.
    assert on_host(emulator, "Page-Probe.LOCALHOST.", "/q").json()["path"] == "/q"


def test_a_functions_host_refuses_what_is_no_http_function(emulator: EmulatorProcess) -> None:
    missing = assert_v3_error(on_host(emulator, "nope.localhost", "/2023-03-30/functions"), 404, "FunctionNotFound")
    assert "nope.localhost" in missing["Message"]
    assert_v3_error(on_host(emulator, "a.b.c.localhost", "/_fcemu/health"), 404, "FunctionNotFound")
    # `hello` exists but has no HTTP trigger; `web` does not take PUT.
    assert_v3_error(on_host(emulator, "hello.localhost", "/2023-03-30/functions"), 404, "TriggerNotFound")
    assert_v3_error(on_host(emulator, "web.localhost", "/", "PUT"), 405, "MethodNotAllowed")
    # The emulator's own names still serve the API.
    for host in ("localhost", "127.0.0.1"):
        assert "functions" in on_host(emulator, host, "/2023-03-30/functions").json()


def test_the_shared_origin_routes_are_sandboxed(emulator: EmulatorProcess, http: requests.Session) -> None:
    for path in ("/http/page-probe/", "/2016-08-15/proxy/default/page-probe/", "/http/web/items",
                 "/http/nope/", "/http/hello/"):
        reply = http.get(f"{emulator.url}{path}", timeout=60)
        assert reply.headers["content-security-policy"] == SANDBOX, path
    # The function's own answer passes through unchanged beside it.
    page = http.get(f"{emulator.url}/http/page-probe/", timeout=60)
    assert page.status_code == 200 and "<script>" in page.text
    # The API and the console are not sandboxed (the console's own CSP is its own business).
    for path in ("/2023-03-30/functions", "/_fcemu/health"):
        assert "content-security-policy" not in http.get(f"{emulator.url}{path}", timeout=60).headers


def _urls(emulator: EmulatorProcess, function: str, host: str | None = None) -> dict[str, str]:
    return {"urlInternet": f"http://{host or function.lower()}.localhost:{emulator.port}/",
            "urlIntranet": f"{emulator.url}/http/{function}/"}


def _reach(emulator: EmulatorProcess, url: str, path: str) -> requests.Response:
    """A request to a trigger URL; a *.localhost one goes to 127.0.0.1 with its Host header."""
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.endswith(".localhost"):
        return on_host(emulator, parts.hostname, parts.path + path)
    return requests.get(url + path, timeout=60)


def test_trigger_urls_of_manifest_triggers(emulator: EmulatorProcess, http: requests.Session,
                                           fc3_client: FC3Client) -> None:
    api = f"{emulator.url}/2023-03-30/functions"
    got = http.get(f"{api}/page-probe/triggers/web", timeout=30).json()
    assert got["httpTrigger"] == _urls(emulator, "page-probe")
    listed = http.get(f"{api}/page-probe/triggers", timeout=30).json()["triggers"]
    assert [trigger["httpTrigger"] for trigger in listed] == [_urls(emulator, "page-probe")]
    # Only HTTP triggers have URLs; FC 2.0's trigger shape is unchanged.
    others = http.get(f"{api}/mns-subscriber/triggers", timeout=30).json()["triggers"]
    assert {trigger["triggerType"] for trigger in others} == {"mns_topic"}
    assert all("httpTrigger" not in trigger for trigger in others)
    assert "httpTrigger" not in http.get(
        f"{emulator.url}/2016-08-15/services/default/functions/page-probe/triggers/web", timeout=30).json()

    # The official SDK parses them.
    trigger = fc3_client.get_trigger("page-probe", "web").body
    assert (trigger.http_trigger.url_internet, trigger.http_trigger.url_intranet) == (
        f"http://page-probe.localhost:{emulator.port}/", f"{emulator.url}/http/page-probe/")

    # Both reach the function; curl resolves *.localhost to loopback by itself.
    for url in trigger.http_trigger.url_internet, trigger.http_trigger.url_intranet:
        assert _reach(emulator, url, "items").json()["path"] == "/items"
        fetched = subprocess.run(["curl", "-sS", "--max-time", "60", url + "items"], capture_output=True,
                                 text=True, check=True)
        assert json.loads(fetched.stdout)["path"] == "/items"


@pytest.fixture()
def created(emulator: EmulatorProcess) -> Iterator[list[str]]:
    """Functions a test creates through the API, deleted afterwards (by FC 3.0 name)."""
    names: list[str] = []
    yield names
    for name in names:
        requests.delete(f"{emulator.url}/2023-03-30/functions/{name}", timeout=60)


def _create_v3(emulator: EmulatorProcess, name: str) -> dict[str, object]:
    api = f"{emulator.url}/2023-03-30/functions"
    reply = requests.post(api, json={"functionName": name, "runtime": "python3.10", "handler": "main.handler",
                                     "code": {"zipFile": base64.b64encode(zipped({"main.py": EVENT_CODE})).decode()}},
                          timeout=60)
    assert reply.status_code == 200, reply.text
    trigger = requests.post(f"{api}/{name}/triggers", json={
        "triggerName": "web", "triggerType": "http", "triggerConfig": json.dumps({"methods": ["GET"]})}, timeout=30)
    assert trigger.status_code == 200, trigger.text
    return dict(trigger.json())


def test_created_triggers_have_urls_and_names_that_differ_only_in_case_are_refused(
    emulator: EmulatorProcess, created: list[str]
) -> None:
    suffix = uuid.uuid4().hex[:8]
    upper, lower = f"Case_{suffix}", f"case_{suffix}"
    created.append(upper)
    trigger = _create_v3(emulator, upper)
    # Host names are lower case: the URL names it so, and any case reaches it while it is the only one.
    assert trigger["httpTrigger"] == _urls(emulator, upper)
    assert _reach(emulator, str(_urls(emulator, upper)["urlInternet"]), "a").json() == {
        "function": upper, "path": "/a"}
    assert on_host(emulator, f"{upper}.localhost", "/b").json()["function"] == upper

    created.append(lower)
    _create_v3(emulator, lower)
    refused = assert_v3_error(on_host(emulator, f"{lower}.localhost", "/"), 404, "FunctionNotFound")
    assert upper in refused["Message"] and lower in refused["Message"]
    # Each stays reachable on the path route.
    for name in upper, lower:
        assert requests.get(f"{emulator.url}/http/{name}/c", timeout=60).json()["function"] == name


def test_an_fc2_function_of_another_service_is_function_dot_service(
    emulator: EmulatorProcess, created: list[str]
) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    api = f"{emulator.url}/2016-08-15/services"
    assert requests.post(api, json={"serviceName": service}, timeout=30).status_code == 200
    created.append(f"{service}$Greeter")
    reply = requests.post(f"{api}/{service}/functions", json={
        "functionName": "Greeter", "runtime": "python3.10", "handler": "main.handler",
        "code": {"zipFile": base64.b64encode(zipped({"main.py": WSGI_CODE})).decode()}}, timeout=60)
    assert reply.status_code == 200, reply.text
    trigger = requests.post(f"{api}/{service}/functions/Greeter/triggers", json={
        "triggerName": "web", "triggerType": "http", "triggerConfig": {"methods": ["GET"]}}, timeout=30)
    assert trigger.status_code == 200, trigger.text

    got = requests.get(f"{emulator.url}/2023-03-30/functions/{service}$Greeter/triggers/web", timeout=30).json()
    assert got["httpTrigger"] == _urls(emulator, f"{service}$Greeter", host=f"greeter.{service}")
    for url in got["httpTrigger"].values():
        reached = _reach(emulator, url, "hi")
        assert reached.status_code == 200 and reached.text == "wsgi /hi", (url, reached.text)


def test_several_host_headers_are_refused(emulator: EmulatorProcess) -> None:
    """One Host read as the emulator's and another as a function's would be two requests in one: refused (400)
    before any function or route runs, whichever comes first."""
    for hosts in (("page-probe.localhost", "127.0.0.1"), ("127.0.0.1", "page-probe.localhost")):
        connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=60)
        try:
            connection.putrequest("GET", "/2023-03-30/functions", skip_host=True)
            for host in hosts:
                connection.putheader("Host", f"{host}:{emulator.port}")
            connection.endheaders()
            reply = connection.getresponse()
            body = json.loads(reply.read())
        finally:
            connection.close()
        assert (reply.status, body["Code"]) == (400, "InvalidArgument"), body
        assert "2 Host headers" in body["Message"] and reply.getheader("x-fc-request-id") == body["RequestId"]
