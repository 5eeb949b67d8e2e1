"""Requires a valid FC signature on every request when access keys are configured (ASGI middleware).

Installed only when keys are set, so that the unauthenticated local default costs nothing. The signature is
checked on the headers before any of the body is read (2016-08-15 signs headers only; ACS3 signs the body's
declared hash), so an unsigned client cannot make the emulator hold a body; the body is then read up to the
route's limit and its hash checked against the signed one.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.errors import error_response
from emulator.api.signatures import SignatureProblem, SignedRequest, verify, verify_body
from emulator.catalog.code_archive import MAX_ZIP_BYTES

OPEN_PATHS = frozenset({"/_fcemu/health"})
# Create/UpdateFunction carry the code zip in base64 (4 bytes per 3) within a JSON body.
CODE_BODY_LIMIT_BYTES = MAX_ZIP_BYTES * 4 // 3 + 1024 * 1024
FUNCTION_WRITE = re.compile(r"^/(2023-03-30/functions|2016-08-15/services/[^/]+/functions)(/[^/]+)?/?$")


class BodyTooLarge(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"request body exceeds maximum allowed size ({limit} bytes), got {size} bytes or more")


def body_limit(method: str, path: str, payload_limit: int) -> int:
    """The most a request may send: the code zip's limit for function writes, the sync payload's otherwise."""
    if method in ("POST", "PUT") and FUNCTION_WRITE.match(path):
        return max(CODE_BODY_LIMIT_BYTES, payload_limit)
    return payload_limit


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as it (or its declared length) passes the limit."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge(int(value), limit)
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size, limit)
        chunks.append(chunk)
        if not message.get("more_body", False) or message["type"] != "http.request":
            return b"".join(chunks)


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
            raw_path=scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
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
            response = error_response(request, 400, "EntityTooLarge", str(error))
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
