"""The headers of the emulator's own web pages (the console, /_fcemu/docs): no other page may frame them
(clickjacking), and they run only scripts and styles served by the emulator itself."""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# frame-ancestors is CSP's X-Frame-Options; both, for browsers that know only the older one.
_COMMON = "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
# The console: plain files of its own, its reads same-origin (fetch, EventSource).
CONSOLE_CSP = f"default-src 'self'; {_COMMON}"
# Swagger UI sets style attributes and draws its icons from data: URLs.
DOCS_CSP = f"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; {_COMMON}"


class PageHeaders:
    """ASGI wrapper: every response of `app` carries X-Frame-Options: DENY, nosniff and the given CSP."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self._app = app
        self._headers = {"x-frame-options": "DENY", "x-content-type-options": "nosniff",
                         "content-security-policy": csp}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    headers[name] = value
            await send(message)

        await self._app(scope, receive, send_with_headers)
