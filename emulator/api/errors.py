"""FC's error responses, in the shape each API version's SDK parses."""
from __future__ import annotations

import json
import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from redis.exceptions import OutOfMemoryError, ReadOnlyError, RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from emulator.redis_io.health import describe, is_outage, redis_health

log = logging.getLogger(__name__)

V2_PREFIX = "/2016-08-15"


class FCError(Exception):
    """An error FC answers with a status, an ErrorCode and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def request_id_of(request: Request) -> str:
    """The request id of this request: set by its route, else made here so that every answer has one."""
    request_id: str | None = getattr(request.state, "request_id", None)
    if request_id is None:
        request_id = str(uuid.uuid4())
        request.state.request_id = request_id
    return request_id


def stamp_request_id(request: Request, response: Response) -> str:
    """A route dependency: the response carries the request id, as every FC response does."""
    request_id = request_id_of(request)
    response.headers["x-fc-request-id"] = request_id
    return request_id


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    request_id = request_id_of(request)
    # aliyun-fc2 (2016-08-15) reads ErrorCode/ErrorMessage; the tea client of 2023-03-30 reads Code/Message.
    if request.url.path.startswith(V2_PREFIX):
        body = {"ErrorCode": code, "ErrorMessage": message, "RequestId": request_id}
    else:
        body = {"Code": code, "Message": message, "RequestId": request_id}
    return Response(
        json.dumps(body), status_code=status, media_type="application/json",
        headers={"x-fc-request-id": request_id},
    )


async def _fc_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, FCError)
    return error_response(request, error.status, error.code, error.message)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if isinstance(error.__cause__, FCError):
        # FastAPI wraps what fails while it reads a body (a body over the limit) in its own 400.
        return await _fc_error(request, error.__cause__)
    # FC's message for both: "'<METHOD>' against '<path>' is not supported"; an unknown path is FC's 400, a
    # known path with the wrong method keeps HTTP's 405 and its Allow header.
    message = f"'{request.method}' against '{request.url.path}' is not supported"
    if error.status_code == 404:
        return error_response(request, 400, "PathNotSupported", message)
    if error.status_code == 405:
        response = error_response(request, 405, "PathNotSupported", message)
        if error.headers and "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    return error_response(request, error.status_code, "InvalidArgument", str(error.detail))


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
    )
    return error_response(request, 400, "InvalidArgument", problems)


def _refuses_writes(error: RedisError) -> bool:
    """Redis answers but will not write: full under noeviction, a replica, or its disk failing (MISCONF)."""
    return isinstance(error, (OutOfMemoryError, ReadOnlyError)) or str(error).startswith("MISCONF")


async def _redis_error(request: Request, error: Exception) -> Response:
    """Redis down or refusing writes is the emulator's state, not a bug: 503 (try again later) and no trace.
    An outage is logged once for the whole process (RedisHealth); any other Redis error is a bug here."""
    assert isinstance(error, RedisError)
    if is_outage(error):
        redis_health(request.app.state.core.redis).failed(error, "the API")
        return error_response(request, 503, "ServiceUnavailable", "the emulator's Redis is unavailable; retry")
    if _refuses_writes(error):
        log.error("Redis refused %s %s: %s", request.method, request.url.path, describe(error))
        return error_response(request, 503, "ServiceUnavailable",
                              f"the emulator's Redis refuses writes ({error}); retry later")
    return await _unexpected(request, error)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "InternalServerError", f"internal error: {type(error).__name__}")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FCError, _fc_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RedisError, _redis_error)
    app.add_exception_handler(Exception, _unexpected)
