"""Who may talk to the emulator from a browser (ASGI middleware, outermost): the Host allow-list against DNS
rebinding, and the cross-origin guard against other sites' pages.

A page whose name an attacker re-resolves to 127.0.0.1 is same-origin with whatever answers there, so a request
is served only when its `Host` is one of the emulator's own names (`HostAllowList`). A page of any other origin
can still send requests (a `no-cors` POST, a form) without reading the answers, so a request a browser marks as
coming from another origin (`Origin`, `Sec-Fetch-Site`) is refused too, unless it is a top-level navigation to
one of the emulator's pages (a link to the console) or goes to an HTTP trigger, a function's public endpoint. Clients that are not browsers
(FC's SDKs, curl, a function calling the API) send neither header and are not concerned. Both checks run on the
headers alone, before any route, body limit or signature check reads or runs anything. A request with several
Host headers is refused (400) here too, so that no later layer reads another Host than the one checked.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.api.errors import error_response
from emulator.api.function_hosts import is_public_endpoint
from emulator.api.host_names import LOCALHOST, LOCALHOST_DOMAIN, SeveralHosts, host_header, host_name, is_ip_literal
from emulator.api.instance_endpoint import FROM_INSTANCE
from emulator.api.page_headers import is_own_page

# Names that are the emulator's own wherever it runs: loopback (`localhost` and every name below it) and the
# name Docker gives the host inside containers (a function calling the API).
OWN_NAMES = frozenset({LOCALHOST, "host.docker.internal"})


class HostAllowList:
    """The Host names the emulator answers: IP literals, its own names, its listen host when that is a name,
    and FCEMU_ALLOWED_HOSTS's entries ("name", ".name" for it and its subdomains, "*.name" for its
    subdomains, "*" for any)."""

    def __init__(self, listen_host: str, patterns: Iterable[str]) -> None:
        self._names = set(OWN_NAMES)
        self._suffixes = [LOCALHOST_DOMAIN]
        self.any = False
        listen = host_name(listen_host)
        if listen and not is_ip_literal(listen):
            self._names.add(listen)
        for pattern in patterns:
            if pattern == "*":
                self.any = True
            elif pattern.startswith("*."):
                self._suffixes.append(pattern[1:])
            elif pattern.startswith("."):
                self._names.add(pattern[1:])
                self._suffixes.append(pattern)
            else:
                self._names.add(pattern)

    def permits(self, name: str) -> bool:
        return (self.any or name in self._names or is_ip_literal(name)
                or any(name.endswith(suffix) for suffix in self._suffixes))


def _headers(scope: Scope) -> dict[bytes, str]:
    return {name: value.decode("latin-1") for name, value in scope["headers"]
            if name in (b"origin", b"sec-fetch-site", b"sec-fetch-mode", b"sec-fetch-dest")}


def cross_origin_problem(method: str, path: str, headers: dict[bytes, str]) -> str | None:
    """Why a browser's request comes from a page that is not the emulator's own, or None when it does not (or
    is no browser's, or is a top-level navigation to one of the emulator's pages: what a page opened that way
    shows, the other page cannot read, and a GET or HEAD of a page changes nothing). A navigation to any other
    path is refused: some GETs change state (reading an MNS queue takes its messages), and a link or
    window.open() from another site would run them."""
    site = headers.get(b"sec-fetch-site", "").strip().lower()
    if (headers.get(b"sec-fetch-mode", "").strip().lower() == "navigate" and method in ("GET", "HEAD")
            and headers.get(b"sec-fetch-dest", "document").strip().lower() == "document" and is_own_page(path)):
        return None
    origin = headers.get(b"origin")
    if origin is not None:
        host = headers.get(b"host", "").strip().lower()
        # An https origin of the same host:port is a TLS proxy in front of the emulator: still its own page.
        if not host or origin.strip().lower() not in (f"http://{host}", f"https://{host}"):
            return f"a page of origin '{origin}'"
    if site in ("cross-site", "same-site"):
        return f"a page of another origin (Sec-Fetch-Site: {site})"
    return None


class OriginGuardMiddleware:
    """`public(host name, path)` says which requests are a function's public endpoint, exempt from the origin
    check (never from the Host check): a function's own origin and the trigger routes of the shared one. FC's
    anonymous HTTP triggers take any origin; the function answers CORS itself."""

    def __init__(self, app: ASGIApp, hosts: HostAllowList,
                 public: Callable[[str, str], bool] = is_public_endpoint,
                 instance_names: frozenset[str] = frozenset()) -> None:
        self._app = app
        self._hosts = hosts
        self._public = public
        # FC's endpoint names, permitted on what comes through FC's endpoint for instances (instance_endpoint.py)
        # only: the host's own clients and pages never reach the API by them.
        self._instance_names = instance_names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        try:
            host = host_header(scope)
        except SeveralHosts as several:
            await self._refuse(scope, receive, send, 400, "InvalidArgument", str(several))
            return
        headers = _headers(scope)
        if host is not None:
            headers[b"host"] = host
        problem = self._problem(scope, host, headers)
        if problem is None:
            await self._app(scope, receive, send)
        else:
            await self._refuse(scope, receive, send, 403, "AccessDenied", problem)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await error_response(Request(scope), status, code, message)(scope, receive, send)

    def _problem(self, scope: Scope, host: str | None, headers: dict[bytes, str]) -> str | None:
        name = host_name(host) if host is not None else ""
        # No Host at all is an HTTP/1.0 client: never a browser (they all send one), so never a rebinding page.
        if host is not None and not (self._hosts.permits(name)
                                     or (scope.get(FROM_INSTANCE) and name in self._instance_names)):
            return (f"host '{name}' is not one of this emulator's names (loopback names and addresses, "
                    "FCEMU_HOST, FCEMU_ALLOWED_HOSTS): add it to FCEMU_ALLOWED_HOSTS to serve it")
        if self._public(name, scope["path"]):
            return None
        source = cross_origin_problem(scope["method"] if scope["type"] == "http" else "GET", scope["path"], headers)
        if source is not None:
            return (f"{source} may not call the emulator's API, console or /_fcemu routes; only the emulator's own "
                    "pages and clients that are not browsers may")
        return None
