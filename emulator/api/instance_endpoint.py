"""FC's endpoint for the instances: the API served again, over HTTP and HTTPS, on the sockets Core opened on the
instances' network (emulator/fc_endpoint/endpoint.py), to the instances alone.

A request that comes this way is marked in its ASGI scope (FROM_INSTANCE), which the app's middleware reads: the
Host guard then also permits FC's endpoint names, and a signature is always required, with the role's temporary
credentials or the emulator's access keys (auth_middleware.py). A connection from anywhere but an instance's
address gets FC's 403 before anything else runs. A request addressed to one of MNS's names goes to MNS's own
protocol instead (mns_protocol.py, given by the app), which the API's own listener never serves.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Generator, Sequence
from typing import Protocol

import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.api.errors import V2_PREFIX, error_response
from emulator.api.http_protocol import bounded_protocol
from emulator.fc_endpoint.endpoint import FcEndpoint
from emulator.settings import Settings

log = logging.getLogger(__name__)

# The scope key that marks a request as an instance's, set only here (a client cannot set a scope key).
FROM_INSTANCE = "fcemu.from_instance"
# What an instance reaches under FC's names: FC's API, both versions (other APIs' names go to their own apps).
FC_API_PREFIXES = (V2_PREFIX + "/", "/2023-03-30/")


class HostApp(Protocol):
    """Another API served to the instances under names of its own (MNS's)."""

    def serves(self, scope: Scope) -> bool: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class InstanceEndpointApp:
    """The app as the instances' listeners serve it."""

    def __init__(self, app: ASGIApp, endpoint: FcEndpoint, others: Sequence[HostApp] = ()) -> None:
        self._app = app
        self._endpoint = endpoint
        self._others = others

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # FC's API has none
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return  # no lifespan here: the API's own server runs it
        client = scope.get("client")
        if not (client and self._endpoint.is_instance(client[0])):
            response = error_response(Request(scope), 403, "AccessDenied",
                                      "FC's endpoint on this address serves the emulator's function instances only")
            await response(scope, receive, send)
            return
        for other in self._others:
            if other.serves(scope):
                await other(scope, receive, send)
                return
        if not scope["path"].startswith(FC_API_PREFIXES):
            # FC's API alone: the emulator's own routes (console, clock, logs) are the host's, not a function's.
            message = f"'{scope['method']}' against '{scope['path']}' is not supported"
            await error_response(Request(scope), 400, "PathNotSupported", message)(scope, receive, send)
            return
        await self._app({**scope, FROM_INSTANCE: True}, receive, send)


class _EndpointServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signals to the API's own server, which stops this one, and the
    "Uvicorn running on" line to it too (it would name uvicorn's default address, and tools wait for it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def _log_started_message(self, listeners: Sequence[socket.SocketType]) -> None:
        pass


def _said_if_failed(task: asyncio.Task[None]) -> None:
    """A server that could not start (or stopped on an error) is said at once: functions would only see their
    connections refused."""
    if not task.cancelled() and task.exception() is not None:
        log.error("FC's endpoint for instances stopped: %s: %s", type(task.exception()).__name__, task.exception())


@contextlib.asynccontextmanager
async def serve_fc_endpoint(app: ASGIApp, endpoint: FcEndpoint, sockets: list[socket.socket], settings: Settings,
                            others: Sequence[HostApp] = ()) -> AsyncIterator[None]:
    """Serves `app` (and `others` under their names) to the instances on `sockets` (HTTP, then HTTPS) while the
    context lasts."""
    wrapped = InstanceEndpointApp(app, endpoint, others)
    servers: list[_EndpointServer] = []
    for listener, tls in zip(sockets, (False, True)):
        servers.append(_EndpointServer(uvicorn.Config(
            # No log_config or log_level: the API's server configured the process's logging already.
            wrapped, lifespan="off", log_config=None, log_level=None, access_log=False, timeout_graceful_shutdown=5,
            # The peer's own address decides who is an instance: no header may stand in for it.
            proxy_headers=False,
            http=bounded_protocol(settings.header_timeout_s, settings.max_connections),
            ssl_certfile=str(endpoint.tls.certificate) if tls else None,
            ssl_keyfile=str(endpoint.tls.private_key) if tls else None,
        )))
    tasks = [asyncio.create_task(server.serve(sockets=[listener]), name="FC endpoint server")
             for server, listener in zip(servers, sockets)]
    for task in tasks:
        task.add_done_callback(_said_if_failed)
    try:
        yield
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)  # a failure was said when it happened
