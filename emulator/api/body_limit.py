"""How much of a request's body the emulator reads: never more than the route can take, whatever the client
declares or streams (a chunked body has no Content-Length to check first)."""
from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.errors import FCError, error_response
from emulator.api.numbers import whole_number
from emulator.catalog.code_archive import MAX_ZIP_BYTES

# Create/UpdateFunction carry the code zip in base64 (4 bytes per 3) within a JSON body.
CODE_BODY_LIMIT_BYTES = MAX_ZIP_BYTES * 4 // 3 + 1024 * 1024
FUNCTION_WRITE = re.compile(r"^/(2023-03-30/functions|2016-08-15/services/[^/]+/functions)(/[^/]+)?/?$")
# Create/PublishLayerVersion carry the layer zip the same way.
LAYER_WRITE = re.compile(r"^/(2023-03-30|2016-08-15)/layers/[^/]+/versions/?$")


class BodyTooLarge(FCError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(400, "EntityTooLarge",
                         f"request body exceeds maximum allowed size ({limit} bytes), got {size} bytes or more")


def body_limit(method: str, path: str, payload_limit: int) -> int:
    """The most a request may send: the code zip's limit for function and layer writes, the sync payload's otherwise."""
    if method in ("POST", "PUT") and (FUNCTION_WRITE.match(path) or LAYER_WRITE.match(path)):
        return max(CODE_BODY_LIMIT_BYTES, payload_limit)
    return payload_limit


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return whole_number(value.decode("latin-1"), 2**62)
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as it (or its declared length) passes the limit."""
    declared = declared_length(scope)
    if declared is not None and declared > limit:
        raise BodyTooLarge(declared, limit)
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


class BodyLimitMiddleware:
    """Refuses a declared length over the route's limit at once, and stops reading a streamed body the moment
    it passes the limit (BodyTooLarge, an FCError, reaches the route's error handler as FC's 400)."""

    def __init__(self, app: ASGIApp, payload_limit: int) -> None:
        self._app = app
        self._payload_limit = payload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = body_limit(scope["method"], scope["path"], self._payload_limit)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            error = BodyTooLarge(declared, limit)
            await error_response(Request(scope), error.status, error.code, error.message)(scope, receive, send)
            return
        size = 0

        async def limited() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(size, limit)
            return message

        await self._app(scope, limited, send)
