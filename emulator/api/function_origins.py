"""Where HTTP functions' pages live, so that none can read or drive the emulator (ASGI middleware).

- On a function's own origin (Host `<function>.localhost[:port]`, see function_hosts.py) every path is that
  function's HTTP trigger: the request goes to the `/http/{function}/...` route (same code, same contract, same
  errors) and nothing else is served there, no API, no console, no `/_fcemu`.
- On the emulator's own origin, the shared trigger routes (`/http/...`, `/2016-08-15/proxy/...`) answer with a
  sandboxing Content-Security-Policy without `allow-same-origin`: a page served there runs in an opaque origin,
  so it cannot read the emulator's answers nor send it same-origin requests. HTTP clients do not care.
"""
from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.errors import error_response
from emulator.api.function_hosts import (
    TRIGGER_PATH_PREFIX,
    AmbiguousHost,
    function_host_labels,
    function_of_host,
    on_shared_trigger_route,
)
from emulator.core import Core

# Scripts, forms, pop-ups, dialogs and downloads keep working; the page's origin is opaque (no allow-same-origin).
SANDBOX_POLICY = b"sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"


class FunctionOriginMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        labels = function_host_labels(Headers(scope=scope).get("host", ""))
        if labels is not None:
            await self._own_origin(scope, receive, send, labels)
        elif on_shared_trigger_route(scope["path"]):
            await self._app(scope, receive, _sandboxed(send))
        else:
            await self._app(scope, receive, send)

    async def _own_origin(self, scope: Scope, receive: Receive, send: Send, labels: str) -> None:
        core: Core = scope["app"].state.core
        # A function that failed to deploy is not in the catalog but its route still has something to say (412).
        names = {*core.catalog.names(), *core.deployments.failures}
        try:
            name = function_of_host(labels, names)
        except AmbiguousHost as error:
            await _not_found(_routed(scope, labels), receive, send, str(error))
            return
        if name is None:
            await _not_found(_routed(scope, labels), receive, send,
                             f"no function is named by host '{labels}.localhost' (a function's own origin is "
                             "<function>.localhost, or <function>.<service>.localhost for an FC 2.0 function of "
                             "another service)")
            return
        await self._app(_routed(scope, name), receive, send)


def _routed(scope: Scope, target: str) -> Scope:
    """The request as the path route `/http/{target}/...` gets it: its code serves it, and its errors keep FC 3.0's
    shape (the path decides it)."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    return {**scope, "path": f"{TRIGGER_PATH_PREFIX}{target}{scope['path']}",
            "raw_path": f"{TRIGGER_PATH_PREFIX}{quote(target, safe='$')}".encode() + raw_path}


async def _not_found(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    await error_response(Request(scope), 404, "FunctionNotFound", message)(scope, receive, send)


def _sandboxed(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            # Appended, never replacing the function's own policy: every policy a response carries applies.
            message = {**message, "headers": [*message.get("headers", []), (b"content-security-policy",
                                                                            SANDBOX_POLICY)]}
        await send(message)
    return sending
