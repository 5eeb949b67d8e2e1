"""The emulator's own web pages (the console, /_fcemu/docs): where they live, and their headers: no other page
may frame them (clickjacking), and they run only the scripts and styles served from their own folder, not what
a function serves on the same origin (`/http/{function}/...`)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.host_names import SeveralHosts, host_header

CONSOLE_PATH = "/_fcemu/console"
DOCS_PATH = "/_fcemu/docs"
# The pages a link from another site may open (origin_guard.py): each path and everything below it.
OWN_PAGES = (CONSOLE_PATH, DOCS_PATH)

# frame-ancestors is CSP's X-Frame-Options; both, for browsers that know only the older one.
_COMMON = "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
# A Host that can stand in a CSP source as it is: a name or IPv4 address and a port. Another one (an IPv6
# literal, which CSP has no syntax for) gets 'self' for the page's files, which also trusts functions' files.
_SOURCE_HOST = re.compile(r"[a-z0-9.-]+(:[0-9]{1,5})?")


def is_own_page(path: str) -> bool:
    return any(path == page or path.startswith(page + "/") for page in OWN_PAGES)


@dataclass(frozen=True)
class PagePolicy:
    """A page's CSP: its scripts and styles from its own folder only (`http://<host>/<folder>/`, which a browser
    also matches over https behind a TLS proxy), its reads same-origin (fetch, EventSource)."""

    folder: str
    # What else the page needs, appended to its style-src and as directives of their own.
    style_extra: str = ""
    extra: str = ""

    def header(self, host: str | None) -> str:
        files = (f"http://{host}{self.folder}/" if host is not None and _SOURCE_HOST.fullmatch(host)
                 else "'self'")
        return (f"default-src 'self'; script-src {files}; style-src {files}{self.style_extra}; {self.extra}"
                f"{_COMMON}")


CONSOLE_CSP = PagePolicy(CONSOLE_PATH)
# Swagger UI sets style attributes and draws its icons from data: URLs.
DOCS_CSP = PagePolicy(DOCS_PATH, style_extra=" 'unsafe-inline'", extra="img-src 'self' data:; ")


def _host(scope: Scope) -> str | None:
    try:
        header = host_header(scope)
    except SeveralHosts:  # refused before it gets here (origin_guard.py); no source is made of a guess
        return None
    return header.strip().lower() if header is not None else None


class PageHeaders:
    """ASGI wrapper: every response of `app` carries X-Frame-Options: DENY, nosniff and the page's CSP."""

    def __init__(self, app: ASGIApp, policy: PagePolicy) -> None:
        self._app = app
        self._policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        values = {"x-frame-options": "DENY", "x-content-type-options": "nosniff",
                  "content-security-policy": self._policy.header(_host(scope))}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in values.items():
                    headers[name] = value
            await send(message)

        await self._app(scope, receive, send_with_headers)
