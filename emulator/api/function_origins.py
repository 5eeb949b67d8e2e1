"""Where HTTP functions' pages live, so that none can read or drive the emulator (ASGI middleware).

- On a function's own origin (Host `<function>.localhost[:port]`, see function_hosts.py) every path is that
  function's HTTP trigger: the request goes to the `/http/{function}/...` route (same code, same contract, same
  errors) and nothing else is served there, no API, no console, no `/_fcemu`.
- On the emulator's own origin, the shared trigger routes (`/http/...`, `/2016-08-15/proxy/...`) answer with a
  sandboxing Content-Security-Policy without `allow-same-origin`: a page served there runs in an opaque origin,
  so it cannot read the emulator's answers nor send it same-origin requests. HTTP clients do not care.

It runs outside the signature check (app.py), which so sees the route a request really goes to (a function's
path is never one of the paths a monitor reads unsigned, and it gets the body limit of an HTTP trigger) while
verifying the path the client signed, kept in the scope (CLIENT_RAW_PATH).
"""
from __future__ import annotations

from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.function_hosts import (
    CLIENT_RAW_PATH,
    HOST_PROBLEM,
    TRIGGER_PATH_PREFIX,
    AmbiguousHost,
    function_host_labels,
    function_of_host,
    on_shared_trigger_route,
)
from emulator.api.host_names import LOCALHOST_DOMAIN, SeveralHosts, host_header
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
        try:
            labels = function_host_labels(host_header(scope) or "")
        except SeveralHosts:  # refused by the origin guard before it gets here
            labels = None
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
            problem = str(error)
        else:
            if name is not None:
                await self._app(_routed(scope, name), receive, send)
                return
            problem = (f"no function is named by host '{labels}{LOCALHOST_DOMAIN}' (a function's own origin is "
                       f"<function>{LOCALHOST_DOMAIN}, or <function>.<service>{LOCALHOST_DOMAIN} for an FC 2.0 "
                       "function of another service)")
        # Answered by the trigger route, behind the signature check: an unsigned client learns no function's name.
        await self._app({**_routed(scope, labels), HOST_PROBLEM: problem}, receive, send)


def _routed(scope: Scope, target: str) -> Scope:
    """The request as the path route `/http/{target}/...` gets it: its code serves it, and its errors keep FC 3.0's
    shape (the path decides it)."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    return {**scope, "path": f"{TRIGGER_PATH_PREFIX}{target}{scope['path']}",
            "raw_path": f"{TRIGGER_PATH_PREFIX}{quote(target, safe='$')}".encode() + raw_path,
            CLIENT_RAW_PATH: raw_path}


def _sandboxed(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            # Appended, never replacing the function's own policy: every policy a response carries applies.
            message = {**message, "headers": [*message.get("headers", []), (b"content-security-policy",
                                                                            SANDBOX_POLICY)]}
        await send(message)
    return sending
