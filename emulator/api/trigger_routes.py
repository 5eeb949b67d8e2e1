"""Triggers on both API versions (Create/Get/List/Update/DeleteTrigger); fcemu runs time triggers."""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from emulator.api.errors import V2_PREFIX, FCError, request_id_of, stamp_request_id
from emulator.api.function_hosts import trigger_urls
from emulator.api.json_body import FC_NAME, FC_NAME_RULE, JsonObject, drop_nulls, text_field
from emulator.api.lookup import check_qualifier, function_v2, function_v3
from emulator.api.paging import page
from emulator.arns import function_arn
from emulator.catalog.aliases import LATEST
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.trigger_config import TriggerError
from emulator.core import Core
from emulator.triggers.definitions import StoredTrigger, TriggerEntry, config_from

router = APIRouter(dependencies=[Depends(stamp_request_id)])


def _view(core: Core, request: Request, trigger: StoredTrigger) -> dict[str, Any]:
    view = trigger.model_dump()
    view.pop("functionName")
    if not request.url.path.startswith(V2_PREFIX):
        view["triggerConfig"] = json.dumps(trigger.triggerConfig)  # FC 3.0 carries it as a JSON string
        settings = core.settings
        view["targetArn"] = function_arn(settings.region, settings.account_id, trigger.functionName)
        view["status"] = "Success"
        if trigger.triggerType == "http":
            view["httpTrigger"] = trigger_urls(settings, trigger.functionName)
    return view


def _function(core: Core, service: str | None, name: str) -> FunctionDefinition:
    return function_v3(core, name) if service is None else function_v2(core, service, name)[1]


def _entry(core: Core, definition: FunctionDefinition, name: str) -> TriggerEntry:
    entry = core.triggers.get(definition.name, name)
    if entry is None:
        raise FCError(404, "TriggerNotFound", f"trigger '{name}' does not exist")
    return entry


def _api_only(entry: TriggerEntry, definition: FunctionDefinition) -> None:
    if entry.from_manifest:
        raise FCError(400, "InvalidArgument",
                      f"trigger '{entry.trigger.triggerName}' is defined by {definition.source}; change it there")


def _qualifier(core: Core, definition: FunctionDefinition, body: dict[str, Any], default: str) -> str:
    """The body's `qualifier` (what the trigger invokes: LATEST, a version id or an alias), which must exist (FC's
    404); `default` when absent or empty."""
    return check_qualifier(core, definition.name, text_field(body, "qualifier", default=default) or default)


def _config(value: Any) -> dict[str, Any]:
    # FC 3.0's triggerConfig is a JSON string, read here rather than by JsonObject: its nulls are absent too.
    return drop_nulls(config_from(value), path="triggerConfig")  # type: ignore[no-any-return]


async def _create(request: Request, service: str | None, function: str, body: dict[str, Any]) -> dict[str, Any]:
    core: Core = request.app.state.core
    definition = _function(core, service, function)
    name = text_field(body, "triggerName", pattern=FC_NAME, rule=FC_NAME_RULE)
    trigger_type = text_field(body, "triggerType")
    description = text_field(body, "description", default="")
    qualifier = _qualifier(core, definition, body, LATEST)
    if core.triggers.get(definition.name, name) is not None:
        raise FCError(409, "TriggerAlreadyExists", f"trigger '{name}' already exists")
    try:
        trigger = await core.triggers.save(
            definition.name, name, trigger_type, _config(body.get("triggerConfig", {})), description, create=True,
            qualifier=qualifier,
        )
    except TriggerError as error:
        raise FCError(400, "InvalidArgument", str(error)) from error
    except FileExistsError as error:
        raise FCError(409, "TriggerAlreadyExists", f"trigger '{name}' already exists") from error
    return _view(core, request, trigger)


async def _update(request: Request, service: str | None, function: str, name: str, body: dict[str, Any]
                  ) -> dict[str, Any]:
    core: Core = request.app.state.core
    definition = _function(core, service, function)
    entry = _entry(core, definition, name)
    _api_only(entry, definition)
    current = entry.trigger
    description = text_field(body, "description", default=current.description)
    qualifier = _qualifier(core, definition, body, current.qualifier)
    try:
        config = current.triggerConfig
        if "triggerConfig" in body:
            config = {**config, **_config(body["triggerConfig"])}
        trigger = await core.triggers.save(definition.name, name, current.triggerType, config, description,
                                           create=False, qualifier=qualifier)
    except TriggerError as error:
        raise FCError(400, "InvalidArgument", str(error)) from error
    return _view(core, request, trigger)


async def _delete(request: Request, service: str | None, function: str, name: str) -> Response:
    core: Core = request.app.state.core
    definition = _function(core, service, function)
    _api_only(_entry(core, definition, name), definition)
    await core.triggers.delete(definition.name, name)
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


def _list(request: Request, service: str | None, function: str, prefix: str | None, limit: int,
          next_token: str | None) -> dict[str, Any]:
    core: Core = request.app.state.core
    definition = _function(core, service, function)
    entries = [e for e in core.triggers.entries(definition.name) if not prefix or e.trigger.triggerName.startswith(prefix)]
    selected, token = page(entries, limit, next_token)
    return {"triggers": [_view(core, request, entry.trigger) for entry in selected], "nextToken": token}


V3 = "/2023-03-30/functions/{function_name}/triggers"
V2 = "/2016-08-15/services/{service}/functions/{function_name}/triggers"


@router.post(V3)
async def create_trigger(request: Request, function_name: str, body: JsonObject
                         ) -> dict[str, Any]:
    return await _create(request, None, function_name, body)


@router.post(V2)
async def create_trigger_v2(request: Request, service: str, function_name: str,
                            body: JsonObject) -> dict[str, Any]:
    return await _create(request, service, function_name, body)


@router.get(V3 + "/{trigger_name}")
async def get_trigger(request: Request, function_name: str, trigger_name: str) -> dict[str, Any]:
    core: Core = request.app.state.core
    return _view(core, request, _entry(core, _function(core, None, function_name), trigger_name).trigger)


@router.get(V2 + "/{trigger_name}")
async def get_trigger_v2(request: Request, service: str, function_name: str, trigger_name: str) -> dict[str, Any]:
    core: Core = request.app.state.core
    definition = _function(core, service, function_name)
    return _view(core, request, _entry(core, definition, trigger_name).trigger)


@router.put(V3 + "/{trigger_name}")
async def update_trigger(request: Request, function_name: str, trigger_name: str,
                         body: JsonObject) -> dict[str, Any]:
    return await _update(request, None, function_name, trigger_name, body)


@router.put(V2 + "/{trigger_name}")
async def update_trigger_v2(request: Request, service: str, function_name: str, trigger_name: str,
                            body: JsonObject) -> dict[str, Any]:
    return await _update(request, service, function_name, trigger_name, body)


@router.delete(V3 + "/{trigger_name}")
async def delete_trigger(request: Request, function_name: str, trigger_name: str) -> Response:
    return await _delete(request, None, function_name, trigger_name)


@router.delete(V2 + "/{trigger_name}")
async def delete_trigger_v2(request: Request, service: str, function_name: str, trigger_name: str) -> Response:
    return await _delete(request, service, function_name, trigger_name)


@router.get(V3)
async def list_triggers(request: Request, function_name: str, prefix: str | None = None,
                        limit: Annotated[int, Query(ge=1, le=100)] = 20,
                        nextToken: str | None = None) -> dict[str, Any]:  # noqa: N803 - FC's query names
    return _list(request, None, function_name, prefix, limit, nextToken)


@router.get(V2)
async def list_triggers_v2(request: Request, service: str, function_name: str, prefix: str | None = None,
                           limit: Annotated[int, Query(ge=1, le=100)] = 20,
                           nextToken: str | None = None) -> dict[str, Any]:  # noqa: N803 - FC's query names
    return _list(request, service, function_name, prefix, limit, nextToken)
