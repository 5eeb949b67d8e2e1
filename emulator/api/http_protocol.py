"""uvicorn's HTTP protocol (httptools) with two bounds on clients that uvicorn lacks: a time limit on a request's
headers (a slowloris client, sending a byte now and then, otherwise holds its connection forever: uvicorn's
keep-alive timer only runs until the first byte), and a cap on open connections answered in FC's shape
(uvicorn's own limit_concurrency answers a plain-text 503, which FC's SDKs cannot parse)."""
from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from emulator.api.errors import error_response


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """The app a connection past the cap is served by: FC's 503 for its one request, then the connection closes."""
    response = error_response(Request(scope, receive), 503, "ResourceThrottled",
                              "fcemu has as many client connections open as it serves at once (FCEMU_MAX_CONNECTIONS)")
    response.headers["connection"] = "close"
    await response(scope, receive, send)


class BoundedHttpProtocol(HttpToolsProtocol):
    """Set the bounds with `bounded_protocol`; uvicorn makes one of these per connection."""

    header_timeout_s: float = 10.0
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.app = _refuse  # this connection's one request only; the others keep the real app
        # A connection that never sends a request is bounded too (uvicorn arms no timer before the first one).
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        # A request's first byte: its headers are due within the limit (from the connection's start for the
        # first request). Between requests, uvicorn's keep-alive timeout bounds an idle connection.
        if self._header_timer is None:
            self._arm_header_timer()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def bounded_protocol(header_timeout_s: float, max_connections: int) -> type[BoundedHttpProtocol]:
    """The protocol class to give uvicorn (`http=`), with these bounds."""
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,),
                {"header_timeout_s": header_timeout_s, "max_connections": max_connections})
