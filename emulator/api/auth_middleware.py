"""Requires a valid FC signature on every request when access keys are configured (ASGI middleware).

Installed only when keys are set, so that the unauthenticated local default costs nothing.
"""
from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.errors import error_response
from emulator.api.signatures import SignatureProblem, SignedRequest, verify

OPEN_PATHS = frozenset({"/_fcemu/health"})


class SignatureMiddleware:
    def __init__(self, app: ASGIApp, keys: Mapping[str, str]) -> None:
        self._app = app
        self._keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self._app(scope, receive, send)
            return
        # The body is part of the 2023-03-30 signature: read it here and hand the same bytes on.
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False) or message["type"] != "http.request":
                break
        body = b"".join(chunks)
        request = Request(scope)
        signed = SignedRequest(
            method=scope["method"],
            raw_path=scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
            query=request.query_params.multi_items(),
            headers={name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]},
            body=body,
        )
        try:
            verify(signed, self._keys)
        except SignatureProblem as problem:
            response = error_response(request, problem.status, problem.code, problem.message)
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
