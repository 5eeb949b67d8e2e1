"""Async invoke config on both API versions: put (keeping fields it is not given), get, delete, list."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from emulator.api.errors import FCError, request_id_of, stamp_request_id
from emulator.api.json_body import NullsAreAbsent
from emulator.api.lookup import check_qualifier, function_v2, function_v3
from emulator.api.paging import page
from emulator.arns import function_arn
from emulator.catalog.async_configs import AsyncConfigChanges, ConfigEntry
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import DestinationConfig
from emulator.core import Core

router = APIRouter(dependencies=[Depends(stamp_request_id)])


class AsyncConfig(BaseModel):
    """FC 3.0's AsyncConfig."""

    asyncTask: bool
    destinationConfig: DestinationConfig | None = None
    maxAsyncEventAgeInSeconds: int
    maxAsyncRetryAttempts: int
    functionArn: str
    createdTime: str
    lastModifiedTime: str


class ListAsyncInvokeConfigOutput(BaseModel):
    configs: list[AsyncConfig]
    nextToken: str | None = None


class FunctionAsyncInvokeConfig(BaseModel):
    """FC 2.0's async invoke config."""

    service: str
    function: str
    qualifier: str
    statefulInvocation: bool
    destinationConfig: DestinationConfig | None = None
    maxAsyncEventAgeInSeconds: int
    maxAsyncRetryAttempts: int
    createdTime: str
    lastModifiedTime: str


class ListFunctionAsyncInvokeConfigsOutput(BaseModel):
    configs: list[FunctionAsyncInvokeConfig]
    nextToken: str | None = None


class V3ConfigChanges(AsyncConfigChanges, NullsAreAbsent):
    """FC 3.0's body."""


class V2ConfigChanges(NullsAreAbsent):
    """FC 2.0's body: `statefulInvocation` is 3.0's `asyncTask`."""

    statefulInvocation: bool | None = None
    destinationConfig: DestinationConfig | None = None
    maxAsyncEventAgeInSeconds: int | None = Field(None, ge=1, le=604800)
    maxAsyncRetryAttempts: int | None = Field(None, ge=0, le=8)

    def as_changes(self) -> AsyncConfigChanges:
        given = self.model_dump(exclude_unset=True)
        if "statefulInvocation" in given:
            given["asyncTask"] = given.pop("statefulInvocation")
        return AsyncConfigChanges(**given)


def _v3(core: Core, entry: ConfigEntry) -> AsyncConfig:
    config = entry.config
    return AsyncConfig(
        asyncTask=config.asyncTask, destinationConfig=config.destinationConfig,
        maxAsyncEventAgeInSeconds=config.maxAsyncEventAgeInSeconds, maxAsyncRetryAttempts=config.maxAsyncRetryAttempts,
        functionArn=function_arn(core.settings.region, core.settings.account_id, entry.function),
        createdTime=config.createdTime, lastModifiedTime=config.lastModifiedTime,
    )


def _v2(service: str, function: str, entry: ConfigEntry) -> FunctionAsyncInvokeConfig:
    config = entry.config
    return FunctionAsyncInvokeConfig(
        service=service, function=function, qualifier=entry.qualifier, statefulInvocation=config.asyncTask,
        destinationConfig=config.destinationConfig, maxAsyncEventAgeInSeconds=config.maxAsyncEventAgeInSeconds,
        maxAsyncRetryAttempts=config.maxAsyncRetryAttempts, createdTime=config.createdTime,
        lastModifiedTime=config.lastModifiedTime,
    )


def _function_v2(core: Core, service: str, name: str) -> tuple[str, str, FunctionDefinition]:
    service_name, definition = function_v2(core, service, name)
    return service_name, check_qualifier(core, definition.name, service.partition(".")[2]), definition


def _entry(core: Core, definition: FunctionDefinition, qualifier: str) -> ConfigEntry:
    entry = core.async_configs.get(definition, qualifier)
    if entry is None:
        raise FCError(404, "AsyncConfigNotExists", f"function '{definition.name}' has no async invoke config")
    return entry


async def _delete(request: Request, definition: FunctionDefinition, qualifier: str) -> Response:
    core: Core = request.app.state.core
    if not await core.async_configs.delete(definition, qualifier):
        entry = core.async_configs.get(definition, qualifier)
        if entry is not None and entry.from_manifest:
            raise FCError(400, "InvalidArgument", f"the async invoke config of '{definition.name}' comes from its "
                                                  f"manifest ({definition.source}); edit it there")
        raise FCError(404, "AsyncConfigNotExists", f"function '{definition.name}' has no async invoke config")
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


V3_PATH = "/2023-03-30/functions/{function_name}/async-invoke-config"


@router.put(V3_PATH, response_model_exclude_none=True)
async def put_async_invoke_config(
    request: Request, function_name: str, changes: V3ConfigChanges, qualifier: str | None = None
) -> AsyncConfig:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    return _v3(core, await core.async_configs.put(definition, check_qualifier(core, function_name, qualifier), changes))


@router.get(V3_PATH, response_model_exclude_none=True)
async def get_async_invoke_config(request: Request, function_name: str, qualifier: str | None = None) -> AsyncConfig:
    core: Core = request.app.state.core
    return _v3(core, _entry(core, function_v3(core, function_name), check_qualifier(core, function_name, qualifier)))


@router.delete(V3_PATH)
async def delete_async_invoke_config(request: Request, function_name: str, qualifier: str | None = None) -> Response:
    core: Core = request.app.state.core
    return await _delete(request, function_v3(core, function_name), check_qualifier(core, function_name, qualifier))


@router.get("/2023-03-30/async-invoke-configs", response_model_exclude_none=True)
async def list_async_invoke_configs(
    request: Request,
    functionName: str | None = None,  # noqa: N803 - FC's query names
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803
) -> ListAsyncInvokeConfigOutput:
    core: Core = request.app.state.core
    definitions = [function_v3(core, functionName)] if functionName else core.catalog.all()
    items, token = page(core.async_configs.entries(definitions), limit, nextToken)
    return ListAsyncInvokeConfigOutput(configs=[_v3(core, entry) for entry in items], nextToken=token)


V2_PATH = "/2016-08-15/services/{service}/functions/{function_name}/async-invoke-config"


@router.put(V2_PATH, response_model_exclude_none=True)
async def put_function_async_invoke_config(
    request: Request, service: str, function_name: str, changes: V2ConfigChanges
) -> FunctionAsyncInvokeConfig:
    core: Core = request.app.state.core
    service_name, qualifier, definition = _function_v2(core, service, function_name)
    entry = await core.async_configs.put(definition, qualifier, changes.as_changes())
    return _v2(service_name, function_name, entry)


@router.get(V2_PATH, response_model_exclude_none=True)
async def get_function_async_invoke_config(
    request: Request, service: str, function_name: str
) -> FunctionAsyncInvokeConfig:
    core: Core = request.app.state.core
    service_name, qualifier, definition = _function_v2(core, service, function_name)
    return _v2(service_name, function_name, _entry(core, definition, qualifier))


@router.delete(V2_PATH)
async def delete_function_async_invoke_config(request: Request, service: str, function_name: str) -> Response:
    core: Core = request.app.state.core
    _, qualifier, definition = _function_v2(core, service, function_name)
    return await _delete(request, definition, qualifier)


@router.get("/2016-08-15/services/{service}/functions/{function_name}/async-invoke-configs",
            response_model_exclude_none=True)
async def list_function_async_invoke_configs(
    request: Request,
    service: str,
    function_name: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803 - FC's query names
) -> ListFunctionAsyncInvokeConfigsOutput:
    core: Core = request.app.state.core
    service_name, _, definition = _function_v2(core, service, function_name)
    items, token = page(core.async_configs.entries([definition]), limit, nextToken)
    return ListFunctionAsyncInvokeConfigsOutput(
        configs=[_v2(service_name, function_name, entry) for entry in items], nextToken=token
    )
