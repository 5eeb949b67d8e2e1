"""HTTP functions: FC 2.0's `/2016-08-15/proxy/{service}/{function}/{path}` and fcemu's path route
`/http/{function}/{path}`, which also serves each function's own origin `<function>.localhost` (function_origins.py
routes that host's every path here). The contract follows the function, not the route: an FC 3.0
function on a built-in runtime gets FC 3.0's event and its return value is mapped to the answer
(emulator/http_event.py); any other goes to the function's server (WSGI in the python agent, a custom
runtime's own) and its answer comes back as it is, its body streamed. `x-fc-invocation-type: Async` persists the
request like any async invoke (202)."""
from __future__ import annotations

import time
from dataclasses import replace

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.routing import Route

from emulator.api.errors import FCError
from emulator.api.function_hosts import (
    HOST_PROBLEM,
    PROXY_PATH_PREFIX,
    SHARED_TRIGGER_ROUTES,
    TRIGGER_PATH_PREFIX,
)
from emulator.api.invoke_headers import parse_invoke_headers
from emulator.api.invoke_routes import accept_async, refused
from emulator.api.lookup import check_invocable, check_qualifier, function_v2, function_v3, qualified
from emulator.catalog.aliases import LATEST
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.trigger_config import HTTP_METHODS
from emulator.core import Core
from emulator.http_event import BadResponse, build_event, map_response, takes_http_event
from emulator.invoker import HttpRequest, HttpStream, InvocationResult
from emulator.metrics.counters import SUCCESS, outcome
from emulator.pool.concurrency import Throttled
from emulator.pool.contract import is_contract_header
from emulator.pool.function_pool import PoolExhausted
from emulator.triggers.definitions import StoredTrigger

# Not passed to the function: they describe this hop. Every x-fc-* header is dropped too (is_contract_header):
# those are the emulator's own on the way to an instance, and a client's would pick the handler or control path.
DROPPED_REQUEST_HEADERS = frozenset(
    # `expect`: fcemu has read the whole body already, so a 100-continue handshake with the instance would stall.
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "authorization", "date", "expect"}
)

# FC's limit on an HTTP function's response headers (all names and values together), past which it answers 502
# BadResponse (its web functions' "limits on HTTP responses").
RESPONSE_HEADERS_LIMIT_BYTES = 8 * 1024


def _check_header_size(headers: tuple[tuple[str, str], ...]) -> None:
    size = sum(len(name.encode()) + len(value.encode()) for name, value in headers)
    if size > RESPONSE_HEADERS_LIMIT_BYTES:
        raise FCError(502, "BadResponse", f"the function's response headers take {size} bytes, more than FC's "
                                          f"limit of {RESPONSE_HEADERS_LIMIT_BYTES} bytes")


def _http_trigger(core: Core, definition: FunctionDefinition, method: str, shown_as: str) -> StoredTrigger:
    """The HTTP trigger that serves this request: the first by name that accepts its method."""
    triggers = [entry.trigger for entry in core.triggers.entries(definition.name) if entry.trigger.triggerType == "http"]
    if not triggers:
        raise FCError(404, "TriggerNotFound", f"function '{shown_as}' has no HTTP trigger")
    accepting = [trigger for trigger in triggers if method in trigger.triggerConfig.get("methods", HTTP_METHODS)]
    if not accepting:
        raise FCError(405, "MethodNotAllowed", f"the HTTP trigger of '{shown_as}' does not accept {method}")
    check_invocable(core, definition, shown_as)
    return accepting[0]


def _raw_path_below(request: Request, segments_before: int) -> str:
    """The path below the function as the client encoded it (the route's own segments dropped)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    segments = raw.decode("latin-1").split("?", 1)[0].split("/")
    return "/" + "/".join(segments[segments_before + 1:])


async def _serve(request: Request, definition: FunctionDefinition, shown_as: str, segments_before: int
                 ) -> Response:
    core: Core = request.app.state.core
    options = parse_invoke_headers(request.headers)
    request.state.request_id = options.request_id
    qualifier = check_qualifier(core, definition.name, _http_trigger(core, definition, request.method, shown_as).qualifier)
    # BodyLimitMiddleware stops reading at the sync payload limit: what arrives here is within it.
    body = await request.body()
    query = request.url.query
    client = request.client
    # Forwarded as the client encoded it: decoded, a '%3F' in the path would start the query.
    raw_below = _raw_path_below(request, segments_before)
    http = HttpRequest(
        method=request.method,
        path=raw_below + (f"?{query}" if query else ""),
        headers=[(name, value) for name, value in request.headers.items()
                 if name not in DROPPED_REQUEST_HEADERS and not is_contract_header(name)],
        body=body,
        raw_path=raw_below,
        host=request.headers.get("host", ""),
        domain_prefix=definition.name,
        source_ip=client.host if client else "",
        protocol="HTTP/" + str(request.scope.get("http_version", "1.1")),
        received_ms=int(time.time() * 1000),
    )
    if options.invocation_type == "Async":
        return await accept_async(request, core, definition, options.request_id, http.to_payload(), kind="http",
                                  qualifier=qualifier)
    told = ""  # the qualifier the function is told, when the trigger names one (its alias's version drawn now)
    if qualifier != LATEST:
        definition, told = (await qualified(core, definition, qualifier)).definition, qualifier
    if takes_http_event(definition.manifest):
        return await _serve_event(core, definition, http, options.request_id, options.log_tail, told)
    result: InvocationResult | HttpStream | None
    try:
        if options.log_tail:
            # The log tail is known only once the invocation ended: buffer this one.
            result = await core.invoker.invoke(definition, b"", options.request_id, log_tail=True, http=http,
                                               qualifier=told)
        else:
            result = await core.invoker.stream_http(definition, http, options.request_id, qualifier=told)
    except (PoolExhausted, Throttled) as error:
        raise refused(core, definition, "http", error) from error
    assert result is not None
    _count(core, definition, result)
    headers = {"x-fc-request-id": options.request_id}
    if isinstance(result, HttpStream):
        try:
            _check_header_size(result.headers)
        except FCError:
            await result.abandon()
            raise
        streamed = StreamingResponse(result.body, status_code=result.status, headers=headers)
        for name, value in result.headers:
            streamed.headers.append(name, value)
        return streamed
    return _buffered_answer(result, options.request_id, options.log_tail)


async def _serve_event(core: Core, definition: FunctionDefinition, http: HttpRequest, request_id: str,
                       log_tail: bool, qualifier: str) -> Response:
    """FC 3.0's built-in runtime contract: an ordinary event invocation whose return value is the answer."""
    event = build_event(http, request_id, core.settings.account_id)
    try:
        result = await core.invoker.invoke(definition, event, request_id, log_tail=log_tail, qualifier=qualifier)
    except (PoolExhausted, Throttled) as error:
        raise refused(core, definition, "http", error) from error
    assert result is not None
    _count(core, definition, result)
    if result.succeeded:
        try:
            answer = map_response(result.body)
        except BadResponse as error:
            raise FCError(502, "BadResponse", f"the function's return value is not a valid HTTP response: {error}"
                          ) from error
        result = replace(result, status=answer.status, headers=answer.headers, body=answer.body)
    return _buffered_answer(result, request_id, log_tail)


def _count(core: Core, definition: FunctionDefinition, result: InvocationResult | HttpStream) -> None:
    """A streamed answer counts once its headers came (its body's time is the client's as much as the
    function's)."""
    if isinstance(result, HttpStream):
        core.metrics.invoked(definition.name, "http", SUCCESS)
    else:
        core.metrics.invoked(definition.name, "http", outcome(result.succeeded, result.timed_out),
                             result.duration_ms / 1000)


def _buffered_answer(result: InvocationResult, request_id: str, log_tail: bool) -> Response:
    _check_header_size(result.headers)
    headers = {"x-fc-request-id": request_id}
    if log_tail and result.log_result is not None:
        headers["x-fc-log-result"] = result.log_result
    if not result.succeeded:
        # FC answers an HTTP function's unhandled error (or timeout, or crash) with a 502 and the error.
        headers["x-fc-error-type"] = result.error_type or "UnhandledInvocationError"
        return Response(result.body, status_code=502, headers=headers, media_type="application/json")
    response = Response(result.body, status_code=result.status, headers=headers)
    for name, value in result.headers:
        response.headers.append(name, value)
    return response


# Each shared trigger route's path up to the function (`/http/{function_name}`), by its prefix.
BASES = {prefix: prefix + naming for prefix, naming in SHARED_TRIGGER_ROUTES}


def _segments_before(prefix: str) -> int:
    """How many path segments come before the function's own path: /http/{function_name}/... has 2."""
    return BASES[prefix].count("/")


async def proxy_v2(request: Request) -> Response:
    function = request.path_params["function_name"]
    _, definition = function_v2(request.app.state.core, request.path_params["service"], function)
    return await _serve(request, definition, function, _segments_before(PROXY_PATH_PREFIX))


async def trigger_url_v3(request: Request) -> Response:
    problem = request.scope.get(HOST_PROBLEM)
    if problem is not None:  # a function's own origin whose host names none (function_origins.py)
        raise FCError(404, "FunctionNotFound", problem)
    function = request.path_params["function_name"]
    definition = function_v3(request.app.state.core, function)
    return await _serve(request, definition, function, _segments_before(TRIGGER_PATH_PREFIX))


HANDLERS = {TRIGGER_PATH_PREFIX: trigger_url_v3, PROXY_PATH_PREFIX: proxy_v2}
# Each route naming the function, and the one with a path below it.
ROUTES = [Route(path, HANDLERS[prefix], methods=list(HTTP_METHODS))
          for prefix, base in BASES.items() for path in (f"{base}/{{path:path}}", base)]
