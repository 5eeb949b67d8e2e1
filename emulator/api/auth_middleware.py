"""Requires a valid FC signature on every request when access keys are configured (ASGI middleware).

Installed only when keys are set, so that the unauthenticated local default costs nothing. The signature is
checked on the headers before any of the body is read (2016-08-15 signs headers only; ACS3 signs the body's
declared hash), so an unsigned client cannot make the emulator hold a body; the body is then read up to the
route's limit and its hash checked against the signed one. Both the open paths and the limit are those of the
route the request goes to: a function's own origin is routed before this check (function_origins.py).
"""
from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.body_limit import BodyTooLarge, body_limit, read_body
from emulator.api.errors import error_response
from emulator.api.function_hosts import CLIENT_RAW_PATH
from emulator.api.signatures import SignatureProblem, SignedRequest, verify, verify_body

# Read-only views a monitor polls (Prometheus cannot sign FC's way): they show names and counts, no payload.
OPEN_PATHS = frozenset({"/_fcemu/health", "/_fcemu/metrics"})


class SignatureMiddleware:
    def __init__(self, app: ASGIApp, keys: Mapping[str, str], payload_limit: int) -> None:
        self._app = app
        self._keys = keys
        self._payload_limit = payload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        signed = SignedRequest(
            method=scope["method"],
            # What the client sent: a function's own origin routes `/x` as `/http/{function}/x`.
            raw_path=scope.get(CLIENT_RAW_PATH, scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            query=request.query_params.multi_items(),
            headers={name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]},
        )
        try:
            verify(signed, self._keys)
            body = await read_body(scope, receive, body_limit(scope["method"], scope["path"], self._payload_limit))
            verify_body(signed.headers, body)
        except SignatureProblem as problem:
            response = error_response(request, problem.status, problem.code, problem.message)
            await response(scope, receive, send)
            return
        except BodyTooLarge as error:
            response = error_response(request, error.status, error.code, error.message)
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._app(scope, replay, send)
