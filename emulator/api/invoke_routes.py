"""InvokeFunction on both API versions. The hot path: no body model, one dict of headers, one response."""
from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.routing import Route

from emulator.api.errors import FCError
from emulator.api.invoke_headers import parse_async_headers, parse_invoke_headers
from emulator.api.lookup import check_invocable, check_qualifier, function_v2, function_v3, qualified, service_v2
from emulator.api.numbers import whole_number
from emulator.api.task_errors import task_errors
from emulator.catalog.aliases import LATEST
from emulator.catalog.loader import FunctionDefinition
from emulator.core import Core
from emulator.metrics.counters import THROTTLED, outcome
from emulator.pool.concurrency import Throttled
from emulator.pool.function_pool import PoolExhausted
from emulator.queue.submit import submit_invocation

# Exact for any length a client could mean; only an absurd one is read as "more than this".
MAX_DECLARED_LENGTH = 2**53


async def _read_payload(request: Request, limit: int) -> bytes:
    declared = whole_number(request.headers.get("content-length", ""), MAX_DECLARED_LENGTH)
    if declared is not None and declared > limit:
        raise _too_large(declared, limit)
    payload = await request.body()
    if len(payload) > limit:
        raise _too_large(len(payload), limit)
    return payload


def refused(core: Core, definition: FunctionDefinition, kind: str, error: PoolExhausted | Throttled) -> FCError:
    """FC's 429 for an invoke no instance could take: past FC's limits at once (ResourceThrottled, FC's code and
    message), or after waiting in vain under fcemu's own cap (ResourceExhausted)."""
    core.metrics.invoked(definition.name, kind, THROTTLED)
    return FCError(429, "ResourceThrottled" if isinstance(error, Throttled) else "ResourceExhausted", str(error))


def _too_large(size: int, limit: int) -> FCError:
    return FCError(400, "EntityTooLarge", f"payload size exceeds maximum allowed size ({limit} bytes), got {size} bytes")


async def _invoke(request: Request, definition: FunctionDefinition, qualifier: str | None) -> Response:
    """`qualifier`: LATEST (or None), a version id or an alias, whose version is drawn per invocation (for an async
    one when its task runs)."""
    core: Core = request.app.state.core
    options = parse_invoke_headers(request.headers)
    request.state.request_id = options.request_id
    check_invocable(core, definition, request.path_params["function_name"])
    if options.invocation_type == "Async":
        qualifier = check_qualifier(core, definition.name, qualifier)
        return await _accept_async(request, core, definition, options.request_id, qualifier)
    version_id, told = LATEST, ""  # told: the qualifier the function is told, when not its version's own
    if qualifier and qualifier != LATEST:
        resolved = await qualified(core, definition, qualifier)
        definition, version_id, told = resolved.definition, resolved.version_id, qualifier
    payload = await _read_payload(request, core.settings.sync_payload_limit_bytes)
    try:
        result = await core.invoker.invoke(definition, payload, options.request_id, log_tail=options.log_tail,
                                           qualifier=told)
    except (PoolExhausted, Throttled) as error:
        raise refused(core, definition, "sync", error) from error
    assert result is not None  # only a before_run hook can decline a run
    core.metrics.invoked(definition.name, "sync", outcome(result.succeeded, result.timed_out),
                         result.duration_ms / 1000)
    headers = {
        "x-fc-request-id": options.request_id,
        "x-fc-instance-id": result.instance_id,
        "x-fc-invocation-duration": str(round(result.duration_ms)),
        # Which version ran (an alias's as drawn), as FC's response names it.
        "x-fc-invocation-service-version": version_id,
    }
    if result.error_type is not None:
        headers["x-fc-error-type"] = result.error_type
    if options.log_tail and result.log_result is not None:
        headers["x-fc-log-result"] = result.log_result
    media_type = "application/json" if result.error_type else "application/octet-stream"
    return Response(result.body, status_code=200, headers=headers, media_type=media_type)


async def _accept_async(request: Request, core: Core, definition: FunctionDefinition, request_id: str,
                        qualifier: str) -> Response:
    payload = await _read_payload(request, core.settings.async_payload_limit_bytes)
    return await accept_async(request, core, definition, request_id, payload, qualifier=qualifier)


async def accept_async(
    request: Request, core: Core, definition: FunctionDefinition, request_id: str, payload: bytes, kind: str = "",
    qualifier: str = LATEST,
) -> Response:
    """Persists an async invocation (one script call) and only then answers 202; for events and HTTP requests."""
    async_headers = parse_async_headers(request.headers)
    limit = core.settings.async_payload_limit_bytes
    if len(payload) > limit:
        raise _too_large(len(payload), limit)
    # The config of the qualifier invoked (an alias's governs invocations through it), not always LATEST's.
    policy = core.async_configs.task_policy(definition, qualifier)
    task_mode = policy.async_task or async_headers.task_id is not None
    task_id = async_headers.task_id or request_id
    accepted = await submit_invocation(
        core.store, policy, task_id=task_id, request_id=request_id, payload=payload,
        delay_ms=async_headers.delay_s * 1000, task_mode=task_mode, kind=kind, qualifier=qualifier,
    )
    if not accepted.created:
        raise task_errors(request).already_exists(task_id)
    headers = {"x-fc-request-id": request_id}
    if task_mode:
        headers["x-fc-async-task-id"] = task_id
        headers["x-fc-stateful-async-invocation-id"] = task_id
    return Response(status_code=202, headers=headers)


async def invoke_v3(request: Request) -> Response:
    definition = function_v3(request.app.state.core, request.path_params["function_name"])
    return await _invoke(request, definition, request.query_params.get("qualifier"))


async def invoke_v2(request: Request) -> Response:
    core: Core = request.app.state.core
    service = request.path_params["service"]
    _, qualifier = service_v2(core, service)
    _, definition = function_v2(core, service, request.path_params["function_name"])
    return await _invoke(request, definition, qualifier or request.headers.get("x-fc-qualifier"))


# Plain Starlette routes: the invoke path is the hot one, and FastAPI's dependency and validation machinery
# costs several times Starlette's routing for nothing here (no body model; headers are checked by hand).
ROUTES = [
    Route("/2023-03-30/functions/{function_name}/invocations", invoke_v3, methods=["POST"]),
    Route("/2016-08-15/services/{service}/functions/{function_name}/invocations", invoke_v2, methods=["POST"]),
]
