"""FC 3.0's versions and aliases of a function: PublishFunctionVersion, ListFunctionVersions,
DeleteFunctionVersion, and Create/Get/Update/Delete/ListAliases. The rules, shared with FC 2.0's routes per service
(version_routes_v2.py), are in version_rules.py."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from emulator.api import version_rules as rules
from emulator.api.errors import request_id_of, stamp_request_id
from emulator.api.json_body import JsonObject, optional_object
from emulator.api.lookup import function_v3
from emulator.core import Core

router = APIRouter(dependencies=[Depends(stamp_request_id)])

FUNCTION = "/2023-03-30/functions/{function_name}"


@router.post(FUNCTION + "/versions")
async def publish_function_version(request: Request, function_name: str) -> rules.Version:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    # The SDK always sends PublishVersionInput; a bare POST (curl) publishes without a description.
    body = optional_object(await request.body()) or {}
    return await rules.publish(core, definition, body)


@router.get(FUNCTION + "/versions", response_model_exclude_none=True)
async def list_function_versions(
    request: Request, function_name: str, direction: str = "BACKWARD",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803 - FC's query names
) -> rules.ListVersionsOutput:
    core: Core = request.app.state.core
    function_v3(core, function_name)
    return rules.list_versions(core, function_name, direction, limit, nextToken)


@router.delete(FUNCTION + "/versions/{version_id}")
async def delete_function_version(request: Request, function_name: str, version_id: str) -> Response:
    core: Core = request.app.state.core
    function_v3(core, function_name)
    await rules.delete_version(core, function_name, version_id)
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


@router.post(FUNCTION + "/aliases")
async def create_alias(request: Request, function_name: str, body: JsonObject) -> rules.Alias:
    core: Core = request.app.state.core
    function_v3(core, function_name)
    return await rules.create_alias(core, function_name, body)


@router.get(FUNCTION + "/aliases/{alias_name}")
async def get_alias(request: Request, function_name: str, alias_name: str) -> rules.Alias:
    core: Core = request.app.state.core
    function_v3(core, function_name)
    return rules.alias_view(alias_name, rules.existing_alias(core, function_name, alias_name))


@router.put(FUNCTION + "/aliases/{alias_name}")
async def update_alias(request: Request, function_name: str, alias_name: str, body: JsonObject) -> rules.Alias:
    core: Core = request.app.state.core
    function_v3(core, function_name)
    return await rules.update_alias(core, function_name, alias_name, body)


@router.delete(FUNCTION + "/aliases/{alias_name}")
async def delete_alias(request: Request, function_name: str, alias_name: str) -> Response:
    core: Core = request.app.state.core
    function_v3(core, function_name)
    await rules.delete_alias(core, function_name, alias_name)
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


@router.get(FUNCTION + "/aliases", response_model_exclude_none=True)
async def list_aliases(
    request: Request, function_name: str, prefix: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803 - FC's query names
) -> rules.ListAliasesOutput:
    core: Core = request.app.state.core
    function_v3(core, function_name)
    aliases, token = rules.alias_page(core, function_name, prefix, limit, nextToken)
    return rules.ListAliasesOutput(aliases=aliases, nextToken=token)
