"""Async tasks (FC 3.0 `async-tasks`) and stateful async invocations (FC 2.0): get, list, stop."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from emulator.api.errors import FCError, request_id_of, stamp_request_id
from emulator.api.lookup import function_v2, function_v3, service_v2
from emulator.api.paging import cursor_of, cursor_token
from emulator.api.task_errors import V2_TASK_ERRORS, V3_TASK_ERRORS, TaskErrors
from emulator.arns import function_arn
from emulator.catalog.loader import FunctionDefinition
from emulator.core import Core
from emulator.queue.listing import ListFilter
from emulator.queue.models import TaskRecord, TaskStatus
from emulator.queue.store import StopOutcome

router = APIRouter(dependencies=[Depends(stamp_request_id)])


class TaskEventView(BaseModel):
    eventId: int
    status: str
    timestamp: int
    eventDetail: str
    # Not FC's: the advanced time of the event, present once `fcemu clock advance` moved the clock.
    virtualTimestamp: int | None = None


class _TaskFields(BaseModel):
    status: str
    startedTime: int
    endTime: int | None = None
    durationMs: int | None = None
    alreadyRetriedTimes: int
    destinationStatus: str | None = None
    returnPayload: str | None = None
    requestId: str
    instanceId: str | None = None
    qualifier: str
    # fcemu's field (FC's AsyncTask has none): the version that ran, when invoked with a version or an alias.
    versionId: str | None = None
    events: list[TaskEventView]


class AsyncTask(_TaskFields):
    """FC 3.0's AsyncTask."""

    taskId: str
    functionArn: str
    taskErrorMessage: str | None = None
    taskPayload: str | None = None


class StatefulAsyncInvocation(_TaskFields):
    """FC 2.0's StatefulAsyncInvocation."""

    invocationId: str
    serviceName: str
    functionName: str
    invocationErrorMessage: str | None = None
    invocationPayload: str | None = None


class ListAsyncTasksOutput(BaseModel):
    tasks: list[AsyncTask]
    nextToken: str | None = None


class ListStatefulAsyncInvocationsOutput(BaseModel):
    invocations: list[StatefulAsyncInvocation]
    nextToken: str | None = None


def _common(record: TaskRecord) -> dict[str, object]:
    duration = record.end_ms - record.ran_ms if record.end_ms and record.ran_ms else None
    return {
        "status": record.status,
        "startedTime": record.created_ms,
        "endTime": record.end_ms,
        "durationMs": duration,
        "alreadyRetriedTimes": record.retried,
        "destinationStatus": record.destination_status or None,
        "returnPayload": record.return_payload.decode(errors="replace") if record.return_payload else None,
        "requestId": record.request_id,
        "instanceId": record.instance_id or None,
        "qualifier": record.qualifier,
        "versionId": record.version_id or None,
        "events": [TaskEventView(**vars(event)) for event in record.events],
    }


def _v3_view(core: Core, record: TaskRecord, include_payload: bool = True) -> AsyncTask:
    settings = core.settings
    return AsyncTask(
        **_common(record),
        taskId=record.task_id,
        functionArn=function_arn(settings.region, settings.account_id, record.function),
        taskErrorMessage=record.error_message or None,
        taskPayload=record.payload.decode(errors="replace") if include_payload else None,
    )


def _v2_view(core: Core, service: str, function: str, record: TaskRecord, include_payload: bool = True
             ) -> StatefulAsyncInvocation:
    return StatefulAsyncInvocation(
        **_common(record),
        invocationId=record.task_id,
        serviceName=service,
        functionName=function,
        invocationErrorMessage=record.error_message or None,
        invocationPayload=record.payload.decode(errors="replace") if include_payload else None,
    )


async def _task(core: Core, definition: FunctionDefinition, task_id: str, errors: TaskErrors,
                qualifier: str | None = None) -> TaskRecord:
    """The task, if it is one; with a qualifier, only if it was invoked with that qualifier (FC's tasks belong to
    the qualifier they were invoked with)."""
    record = await core.task_reads.get(definition.name, task_id)
    # Only task-mode invocations are tasks in FC; the others are not visible through these APIs.
    if record is None or not record.task_mode or (qualifier and record.qualifier != qualifier):
        raise errors.not_found(task_id)
    return record


async def _stop(request: Request, definition: FunctionDefinition, task_id: str, errors: TaskErrors,
                qualifier: str | None = None) -> Response:
    core: Core = request.app.state.core
    record = await _task(core, definition, task_id, errors, qualifier)
    outcome = await core.store.stop(definition.name, task_id)
    if outcome is StopOutcome.NOT_FOUND:
        raise errors.not_found(task_id)
    if outcome is StopOutcome.COMPLETED:
        raise errors.already_completed(task_id, record.status)
    # A Response returned as is does not take the headers that stamp_request_id set.
    return Response(status_code=200, headers={"x-fc-request-id": request_id_of(request)})


def _filter(
    status: str | None, prefix: str | None, begin: int | None, end: int | None, order: str | None, limit: int,
    next_token: str | None, qualifier: str | None,
) -> ListFilter:
    if status is not None and status not in {item.value for item in TaskStatus}:
        raise FCError(400, "InvalidArgument", f"status '{status}' is not one of {', '.join(s.value for s in TaskStatus)}")
    return ListFilter(
        status=status, prefix=prefix, started_begin_ms=begin, started_end_ms=end,
        descending=(order or "asc").lower() == "desc", limit=limit, after=cursor_of(next_token),
        qualifier=qualifier or None,
    )


SortOrder = Annotated[Literal["asc", "desc", "ASC", "DESC"] | None, Query()]


@router.get("/2023-03-30/functions/{function_name}/async-tasks/{task_id}", response_model_exclude_none=True)
async def get_async_task(request: Request, function_name: str, task_id: str, qualifier: str | None = None
                         ) -> AsyncTask:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    return _v3_view(core, await _task(core, definition, task_id, V3_TASK_ERRORS, qualifier))


@router.get("/2023-03-30/functions/{function_name}/async-tasks", response_model_exclude_none=True)
async def list_async_tasks(
    request: Request,
    function_name: str,
    status: str | None = None,
    prefix: str | None = None,
    startedTimeBegin: int | None = None,  # noqa: N803 - FC's query names
    startedTimeEnd: int | None = None,  # noqa: N803
    sortOrderByTime: SortOrder = None,  # noqa: N803
    includePayload: bool = False,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803
    qualifier: str | None = None,
) -> ListAsyncTasksOutput:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    query = _filter(status, prefix, startedTimeBegin, startedTimeEnd, sortOrderByTime, limit, nextToken, qualifier)
    records, cursor = await core.task_reads.list(definition.name, query)
    return ListAsyncTasksOutput(
        tasks=[_v3_view(core, record, includePayload) for record in records], nextToken=cursor_token(cursor),
    )


@router.put("/2023-03-30/functions/{function_name}/async-tasks/{task_id}/stop")
async def stop_async_task(request: Request, function_name: str, task_id: str, qualifier: str | None = None
                          ) -> Response:
    core: Core = request.app.state.core
    return await _stop(request, function_v3(core, function_name), task_id, V3_TASK_ERRORS, qualifier)


V2_TASK_PATH = "/2016-08-15/services/{service}/functions/{function_name}/stateful-async-invocations"


@router.get(V2_TASK_PATH + "/{task_id}", response_model_exclude_none=True)
async def get_stateful_async_invocation(
    request: Request, service: str, function_name: str, task_id: str
) -> StatefulAsyncInvocation:
    core: Core = request.app.state.core
    service_name, definition = function_v2(core, service, function_name)
    record = await _task(core, definition, task_id, V2_TASK_ERRORS, service_v2(core, service)[1])
    return _v2_view(core, service_name, function_name, record)


@router.get(V2_TASK_PATH, response_model_exclude_none=True)
async def list_stateful_async_invocations(
    request: Request,
    service: str,
    function_name: str,
    status: str | None = None,
    invocationIdPrefix: str | None = None,  # noqa: N803 - FC's query names
    startedTimeBegin: int | None = None,  # noqa: N803
    startedTimeEnd: int | None = None,  # noqa: N803
    sortOrderByTime: SortOrder = None,  # noqa: N803
    includePayload: bool = False,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    nextToken: str | None = None,  # noqa: N803
) -> ListStatefulAsyncInvocationsOutput:
    core: Core = request.app.state.core
    service_name, definition = function_v2(core, service, function_name)
    query = _filter(status, invocationIdPrefix, startedTimeBegin, startedTimeEnd, sortOrderByTime, limit, nextToken,
                    service_v2(core, service)[1])
    records, cursor = await core.task_reads.list(definition.name, query)
    return ListStatefulAsyncInvocationsOutput(
        invocations=[_v2_view(core, service_name, function_name, record, includePayload) for record in records],
        nextToken=cursor_token(cursor),
    )


@router.put(V2_TASK_PATH + "/{task_id}")
async def stop_stateful_async_invocation(request: Request, service: str, function_name: str, task_id: str
                                         ) -> Response:
    core: Core = request.app.state.core
    _, definition = function_v2(core, service, function_name)
    return await _stop(request, definition, task_id, V2_TASK_ERRORS, service_v2(core, service)[1])
