"""The live console: its static page, the server-sent task events it listens to, and the small JSON views it
needs that FC's API lacks (functions with their instances, versions, aliases and invocation controls, a function's
queue)."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from emulator.api.errors import FCError
from emulator.api.event_stream import TICK_S, event_stream, join_stream
from emulator.api.function_hosts import trigger_urls
from emulator.api.page_headers import CONSOLE_CSP, CONSOLE_PATH, PageHeaders
from emulator.catalog.loader import FunctionDefinition
from emulator.console import STATIC_DIR
from emulator.core import Core
from emulator.queue.channel_hub import Gap
from emulator.queue.queue_view import QueuedTask, read_queue

router = APIRouter(prefix="/_fcemu")

class InstanceView(BaseModel):
    instanceId: str
    state: str
    active: int
    capacity: int


class TriggerView(BaseModel):
    triggerName: str
    triggerType: str
    triggerConfig: dict[str, Any]
    # An HTTP trigger's URL: the function's own origin (the console links to it).
    url: str | None = None


class VersionView(BaseModel):
    versionId: str
    description: str
    createdTime: str


class AliasView(BaseModel):
    aliasName: str
    versionId: str
    description: str
    # FC's canary: one more version and its share of the invocations (0 to 1).
    additionalVersionWeight: dict[str, float]


class RestrictionView(BaseModel):
    """FC's `invocationRestriction` (GetFunction's), once the function was disabled."""

    disable: bool
    reason: str
    lastModifiedTime: str


class ProvisionView(BaseModel):
    qualifier: str
    target: int
    # How many of the target are up in this process, and why not all (`currentError`, as FC's config says).
    current: int
    currentError: str = ""


class ConsoleFunction(BaseModel):
    functionName: str
    runtime: str
    handler: str
    memorySize: int
    timeout: int
    instanceConcurrency: int
    instances: list[InstanceView]
    triggers: list[TriggerView]
    asyncConfig: dict[str, Any]
    # FC's reservedConcurrency (the API's, else the manifest's); None: fcemu's default cap applies.
    reservedConcurrency: int | None = None
    versions: list[VersionView] = []
    aliases: list[AliasView] = []
    invocationRestriction: RestrictionView | None = None
    provisionConfigs: list[ProvisionView] = []


class QueuedView(BaseModel):
    taskId: str
    status: str
    # Due time (queued) or lease deadline (in flight), ms.
    time: int
    alreadyRetriedTimes: int
    taskMode: bool
    instanceId: str | None = None


class QueueView(BaseModel):
    functionName: str
    now: int
    due: list[QueuedView]
    deferred: list[QueuedView]
    inflight: list[QueuedView]
    counts: dict[str, int]


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(f"{CONSOLE_PATH}/", PageHeaders(StaticFiles(directory=STATIC_DIR, html=True), CONSOLE_CSP),
              name="console")


@router.get(CONSOLE_PATH.removeprefix(router.prefix), include_in_schema=False)
async def console_root() -> RedirectResponse:
    return RedirectResponse(f"{CONSOLE_PATH}/")


@router.get("/events", response_class=StreamingResponse)
async def task_events(request: Request, function: str | None = None) -> StreamingResponse:
    """Server-sent events, one per task state change: `event: task` with {function, taskId, status}; `event:
    resync` when changes were missed (the client re-reads what it shows)."""
    core: Core = request.app.state.core
    with ExitStack() as setup:
        listener = await join_stream(request, core.task_event_hub,
                                     lambda change: function is None or change.function == function, setup)
        held = setup.pop_all()  # from here on, the stream's to give back

    async def chunks() -> AsyncIterator[str | None]:
        yield "retry: 2000\n: connected\n\n"  # once subscribed: no change from now on is missed
        while True:
            change = await listener.next(TICK_S)
            if change is None:
                yield None
            elif isinstance(change, Gap):
                yield "event: resync\ndata: {}\n\n"
            else:
                data = json.dumps({"function": change.function, "taskId": change.task_id, "status": change.status})
                yield f"event: task\ndata: {data}\n\n"

    return event_stream(request, chunks(), held)


@router.get("/functions")
async def console_functions(request: Request) -> list[ConsoleFunction]:
    core: Core = request.app.state.core
    return [_function_view(core, definition) for definition in core.catalog.all()]


def _function_view(core: Core, definition: FunctionDefinition) -> ConsoleFunction:
    manifest = definition.manifest
    pool = core.pools.for_function(definition)
    return ConsoleFunction(
        functionName=definition.name, runtime=manifest.runtime, handler=manifest.handler,
        memorySize=manifest.memorySize, timeout=manifest.timeout, instanceConcurrency=manifest.instanceConcurrency,
        instances=[InstanceView(instanceId=i.instance_id, state=i.state.value, active=i.active, capacity=i.capacity)
                   for i in pool.instances],
        triggers=[TriggerView(triggerName=entry.trigger.triggerName, triggerType=entry.trigger.triggerType,
                              triggerConfig=entry.trigger.triggerConfig,
                              url=trigger_urls(core.settings, definition.name)["urlInternet"]
                              if entry.trigger.triggerType == "http" else None)
                  for entry in core.triggers.entries(definition.name)],
        asyncConfig=core.async_configs.effective(definition).model_dump(exclude_none=True),
        reservedConcurrency=core.concurrency_configs.reserved(definition),
        versions=[VersionView(versionId=version, description=record.description, createdTime=record.createdTime)
                  for version, record in core.versions.of(definition.name)],
        aliases=[AliasView(aliasName=name, versionId=record.versionId, description=record.description,
                           additionalVersionWeight=record.additionalVersionWeight)
                 for name, record in core.versions.aliases.of(definition.name)],
        invocationRestriction=_restriction(core, definition.name),
        provisionConfigs=_provision(core, definition),
    )


def _restriction(core: Core, function: str) -> RestrictionView | None:
    restriction = core.controls.restrictions.get(function)
    if restriction is None:
        return None
    return RestrictionView(disable=restriction.disable, reason=restriction.reason,
                           lastModifiedTime=restriction.lastModifiedTime)


def _provision(core: Core, definition: FunctionDefinition) -> list[ProvisionView]:
    views = []
    for _, qualifier, config in core.controls.provision.entries([definition.name]):
        current, error = core.controls.kept_warm(definition, qualifier)
        views.append(ProvisionView(qualifier=qualifier, target=config.defaultTarget, current=current,
                                   currentError=error))
    return views


def _queued(task: QueuedTask) -> QueuedView:
    return QueuedView(taskId=task.task_id, status=task.status, time=task.at_ms, alreadyRetriedTimes=task.retried,
                      taskMode=task.task_mode, instanceId=task.instance_id or None)


@router.get("/functions/{function_name}/queue")
async def function_queue(request: Request, function_name: str) -> QueueView:
    core: Core = request.app.state.core
    if core.catalog.get(function_name) is None:
        raise FCError(404, "FunctionNotFound", f"function '{function_name}' does not exist")
    snapshot = await read_queue(core.api_redis, core.store.shards, function_name, core.store.clock.ms)
    return QueueView(
        functionName=function_name, now=snapshot.now_ms, due=[_queued(t) for t in snapshot.due],
        deferred=[_queued(t) for t in snapshot.deferred], inflight=[_queued(t) for t in snapshot.inflight],
        counts=snapshot.counts,
    )
