"""Function management (FC 3.0 functions; FC 2.0 services and their functions): deploy code as a base64 zip.

Functions from functions/ show in the listings but are changed by editing their folder, not through the API.
"""
from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from emulator.api.control_routes import code_checksum
from emulator.api.errors import FCError, request_id_of, stamp_request_id
from emulator.api.json_body import FC_NAME, FC_NAME_RULE, JsonObject, text_field
from emulator.api.lookup import function_v2, service_v2
from emulator.api.paging import page
from emulator.api.version_rules import view_at
from emulator.arns import function_arn
from emulator.catalog.code_archive import CodeError, decode_zip
from emulator.catalog.deployments import DeployedFunction
from emulator.catalog.layers import LayerError
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import FC2_API_VERSION, FC3_API_VERSION, ROLE_MAX_LENGTH, FunctionManifest
from emulator.catalog.sources import layer_source
from emulator.core import Core

router = APIRouter(dependencies=[Depends(stamp_request_id)])

# FC's stateReasonCode for a deployed function whose code cannot be unpacked (FC documents no list of codes).
FAILED_REASON_CODE = "FunctionCodeInvalid"

# Fields of a function the API answers with, beyond its manifest's.
VIEW_FIELDS = (
    "functionName", "description", "runtime", "handler", "memorySize", "timeout", "instanceConcurrency",
    "environmentVariables", "initializer", "initializationTimeout", "customContainerConfig", "customRuntimeConfig",
    "role", "instanceLifecycleConfig", "disableInjectCredentials",
)


class ListFunctionsOutput(BaseModel):
    functions: list[dict[str, Any]]
    nextToken: str | None = None


async def _spec_from(body: dict[str, Any], core: Core, base: dict[str, Any] | None = None
                     ) -> tuple[dict[str, Any], bytes | None]:
    """The manifest fields of a Create/UpdateFunction body, merged over `base`, and the code zip if any: all of it
    checked, so that what is stored can be served."""
    body = dict(body)
    code = body.pop("code", None)
    spec = {**(base or {}), **{key: value for key, value in body.items() if value is not None}}
    spec.pop("caPort", None)
    spec.pop("instanceType", None)
    try:
        manifest = FunctionManifest.model_validate(spec)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, item['loc'])) or 'body'}: {item['msg']}" for item in error.errors())
        raise FCError(400, "InvalidArgument", problems) from error
    await _check_layers(core, manifest.layers, (base or {}).get("layers") or [])
    if code is None:
        return spec, None
    if not isinstance(code, dict) or code.get("zipFile") is None:
        raise FCError(400, "InvalidArgument",
                      "code.zipFile (base64 of a zip, in an object `code`) is the only code source fcemu takes")
    try:
        # Up to 50 MB to decode and 200 MB to inflate: off the event loop, which runs every other request and task.
        return spec, await asyncio.to_thread(decode_zip, code["zipFile"])
    except CodeError as error:
        raise FCError(400, "InvalidArgument", str(error)) from error


async def _check_layers(core: Core, arns: list[str], kept: list[str]) -> None:
    """Every layer must exist here (published ones mirrored first); a deleted published version stays usable by a
    function that already has it, but is refused to a function that did not (FC's rule for deleted versions)."""
    await core.published_layers.mirror()
    for arn in arns:
        if arn not in kept and await core.published_layers.deleted(arn):
            raise FCError(400, "InvalidArgument", f"layers: layer '{arn}' was deleted; functions that already use "
                          "it keep it, new configurations cannot take it")
    try:
        await asyncio.to_thread(layer_source(core.settings).check, arns)
    except LayerError as error:
        raise FCError(400, "InvalidArgument", f"layers: {error}") from error


def _view(core: Core, definition: FunctionDefinition, name: str | None = None) -> dict[str, Any]:
    manifest = definition.manifest.model_dump(exclude_none=True)
    view = {key: manifest[key] for key in VIEW_FIELDS if key in manifest}
    view["functionName"] = name or definition.name
    deployed = core.deployments.functions.get(definition.name)
    if deployed is not None:
        view.update(_deployed_fields(deployed))
    else:
        view.update(functionId=definition.name, codeChecksum=code_checksum(core, definition), source=str(definition.source))
    view["functionArn"] = _arn(core, definition.name)
    view["state"] = "Active"
    restriction = core.controls.restrictions.get(definition.name)
    if restriction is not None:
        view["invocationRestriction"] = restriction.model_dump(include={"disable", "reason", "lastModifiedTime"})
    return view


def _failed_view(core: Core, name: str, shown_as: str, reason: str) -> dict[str, Any]:
    """A deployed function this process cannot serve, shown from its stored record as FC shows a Failed one."""
    deployed = core.deployments.functions[name]
    view = {key: deployed.spec[key] for key in VIEW_FIELDS if key in deployed.spec}
    view.update(_deployed_fields(deployed), functionName=shown_as, functionArn=_arn(core, name), state="Failed",
                stateReason=reason, stateReasonCode=FAILED_REASON_CODE)
    return view


def _deployed_fields(deployed: DeployedFunction) -> dict[str, Any]:
    return {"functionId": deployed.functionId, "codeChecksum": deployed.codeChecksum, "codeSize": deployed.codeSize,
            "createdTime": deployed.createdTime, "lastModifiedTime": deployed.lastModifiedTime}


def _arn(core: Core, name: str) -> str:
    return function_arn(core.settings.region, core.settings.account_id, name)


def _view_of(core: Core, name: str, shown_as: str) -> dict[str, Any] | None:
    """The view of a function by its 3.0 name, Active or Failed; None when there is no such function."""
    definition = core.catalog.get(name)
    if definition is not None:
        return _view(core, definition, shown_as)
    reason = core.deployments.failures.get(name)
    if reason is not None and name in core.deployments.functions:
        return _failed_view(core, name, shown_as, reason)
    return None


def _names(core: Core) -> list[str]:
    """Every function's 3.0 name, served or Failed, in order."""
    return sorted({*core.catalog.names(), *(n for n in core.deployments.failures if n in core.deployments.functions)})


def _deployed_only(core: Core, name: str, shown_as: str) -> DeployedFunction:
    deployed = core.deployments.functions.get(name)
    if deployed is None:
        definition = core.catalog.get(name)
        if definition is not None:
            raise FCError(400, "InvalidArgument",
                          f"function '{shown_as}' is defined by {definition.source}; change it there")
        raise FCError(404, "FunctionNotFound", f"function '{shown_as}' does not exist")
    return deployed


async def _create(request: Request, name: str, body: dict[str, Any], shown_as: str, api_version: str
                  ) -> dict[str, Any]:
    core: Core = request.app.state.core
    if core.catalog.get(name) is not None or name in core.deployments.functions:
        raise FCError(409, "FunctionAlreadyExists", f"function '{shown_as}' already exists")
    # The API a function is created through is its generation (its HTTP trigger's contract), whatever the body says.
    spec, code = await _spec_from({**body, "functionName": name, "apiVersion": api_version}, core)
    if code is None and spec.get("runtime") != "custom-container":
        raise FCError(400, "InvalidArgument", "code.zipFile is required (base64 of a zip of the function's code)")
    try:
        await core.deployments.save_function(name, spec, code, create=True)
    except FileExistsError as error:
        raise FCError(409, "FunctionAlreadyExists", f"function '{shown_as}' already exists") from error
    return await _stored_view(core, name, shown_as)


async def _update(request: Request, name: str, body: dict[str, Any], shown_as: str) -> dict[str, Any]:
    core: Core = request.app.state.core
    deployed = _deployed_only(core, name, shown_as)
    # An update keeps the generation the function was created in.
    body = {key: value for key, value in body.items() if key != "apiVersion"}
    spec, code = await _spec_from({**body, "functionName": name}, core, base=deployed.spec)
    await core.deployments.save_function(name, spec, code, create=False)
    return await _stored_view(core, name, shown_as)


async def _stored_view(core: Core, name: str, shown_as: str) -> dict[str, Any]:
    """The view of a function just stored, once this process serves it: a changed function's warm instances drain,
    so the next invoke runs the new code. Should it fail to unpack here after all (a full disk), it shows Failed."""
    await core.refresh_catalog()
    view = _view_of(core, name, shown_as)
    if view is None:  # deleted by another request in between
        raise FCError(404, "FunctionNotFound", f"function '{shown_as}' does not exist")
    return view


async def _delete(request: Request, name: str, shown_as: str) -> Response:
    core: Core = request.app.state.core
    _deployed_only(core, name, shown_as)
    # What goes with the function first: it is idempotent, so a DELETE that fails midway (Redis gone) is
    # simply sent again, while the function's record, which makes a second DELETE a 404, goes last.
    await core.forget_function(name)
    await core.deployments.delete_function(name)
    await core.refresh_catalog()
    core.deployments.forget_files(name)
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


# FC 3.0.

@router.post("/2023-03-30/functions")
async def create_function(request: Request, body: JsonObject) -> dict[str, Any]:
    name = body.get("functionName")
    if not isinstance(name, str) or not name:
        raise FCError(400, "InvalidArgument", "functionName is required")
    return await _create(request, name, body, name, FC3_API_VERSION)


@router.get("/2023-03-30/functions/{function_name}")
async def get_function(request: Request, function_name: str, qualifier: str | None = None) -> dict[str, Any]:
    core: Core = request.app.state.core
    view = _view_of(core, function_name, function_name)
    if view is None:
        raise FCError(404, "FunctionNotFound", f"function '{function_name}' does not exist")
    return view_at(core, function_name, view, qualifier)


@router.put("/2023-03-30/functions/{function_name}")
async def update_function(request: Request, function_name: str, body: JsonObject
                          ) -> dict[str, Any]:
    return await _update(request, function_name, body, function_name)


@router.delete("/2023-03-30/functions/{function_name}")
async def delete_function(request: Request, function_name: str) -> Response:
    return await _delete(request, function_name, function_name)


@router.get("/2023-03-30/functions", response_model_exclude_none=True)
async def list_functions(
    request: Request, prefix: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803 - FC's query names
) -> ListFunctionsOutput:
    core: Core = request.app.state.core
    names = [name for name in _names(core) if not prefix or name.startswith(prefix)]
    selected, token = page(names, limit, nextToken)
    return ListFunctionsOutput(functions=[view for n in selected if (view := _view_of(core, n, n))], nextToken=token)


# FC 2.0: services, and functions under a service (`svc$fn` in 3.0 terms; plain names in the default service).

def _service(core: Core, service: str) -> str:
    return service_v2(core, service)[0]


def _service_view(core: Core, name: str) -> dict[str, Any]:
    stored = core.deployments.services.get(name)
    if stored is not None:
        return stored.model_dump()
    return {"serviceName": name, "serviceId": name, "description": "", "createdTime": "", "lastModifiedTime": ""}


@router.post("/2016-08-15/services")
async def create_service(request: Request, body: JsonObject) -> dict[str, Any]:
    core: Core = request.app.state.core
    name = text_field(body, "serviceName", pattern=FC_NAME, rule=FC_NAME_RULE)
    description = text_field(body, "description", default="")
    role = _service_role(body) or ""
    if core.catalog.has_service(name):
        raise FCError(409, "ServiceAlreadyExists", f"service '{name}' already exists")
    try:
        service = await core.deployments.save_service(name, description, role)
    except FileExistsError as error:
        raise FCError(409, "ServiceAlreadyExists", f"service '{name}' already exists") from error
    await core.refresh_catalog()
    return service.model_dump()


def _service_role(body: dict[str, Any]) -> str | None:
    """A service's role, None when the body names none: its functions without a role of their own get its
    credentials (FC 2.0 gives them by service)."""
    if "role" not in body:
        return None
    role = text_field(body, "role", default="")
    if len(role) > ROLE_MAX_LENGTH:
        raise FCError(400, "InvalidArgument", f"role is longer than {ROLE_MAX_LENGTH} characters")
    return role


@router.put("/2016-08-15/services/{service}")
async def update_service(request: Request, service: str, body: JsonObject) -> dict[str, Any]:
    core: Core = request.app.state.core
    name = _service(core, service)
    if name not in core.deployments.services:
        raise FCError(400, "InvalidArgument", f"service '{name}' is not one created through the API")
    description = text_field(body, "description", default="") if "description" in body else None
    updated = await core.deployments.update_service(name, description, _service_role(body))
    if updated is None:
        raise FCError(404, "ServiceNotFound", f"service '{name}' does not exist")
    await core.refresh_catalog()
    return updated.model_dump()


@router.get("/2016-08-15/services/{service}")
async def get_service(request: Request, service: str) -> dict[str, Any]:
    core: Core = request.app.state.core
    return _service_view(core, _service(core, service))


@router.get("/2016-08-15/services")
async def list_services(
    request: Request, prefix: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803 - FC's query names
) -> dict[str, Any]:
    core: Core = request.app.state.core
    names = [name for name in core.catalog.services() if not prefix or name.startswith(prefix)]
    selected, token = page(names, limit, nextToken)
    return {"services": [_service_view(core, name) for name in selected], "nextToken": token}


@router.delete("/2016-08-15/services/{service}")
async def delete_service(request: Request, service: str) -> Response:
    core: Core = request.app.state.core
    name = _service(core, service)
    if name not in core.deployments.services:
        raise FCError(400, "InvalidArgument", f"service '{name}' is not one created through the API")
    if any(function.startswith(name + "$") for function in _names(core)):
        raise FCError(412, "ServiceNotEmpty", f"service '{name}' still has functions; delete them first")
    await core.service_versions.forget(name)  # its versions and aliases (its functions' went with them)
    await core.deployments.delete_service(name)
    await core.refresh_catalog()
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


@router.post("/2016-08-15/services/{service}/functions")
async def create_function_v2(request: Request, service: str, body: JsonObject
                             ) -> dict[str, Any]:
    core: Core = request.app.state.core
    service_name = _service(core, service)
    function = body.get("functionName")
    if not isinstance(function, str) or not function:
        raise FCError(400, "InvalidArgument", "functionName is required")
    return await _create(request, core.catalog.name_in_service(service_name, function), body, function,
                         FC2_API_VERSION)


@router.get("/2016-08-15/services/{service}/functions/{function_name}")
async def get_function_v2(request: Request, service: str, function_name: str) -> dict[str, Any]:
    core: Core = request.app.state.core
    service_name, qualifier = service_v2(core, service)
    name = core.catalog.name_in_service(service_name, function_name)
    view = _view_of(core, name, function_name)
    if view is None:
        definition = function_v2(core, service, function_name)[1]
        name, view = definition.name, _view(core, definition, function_name)
    return view_at(core, name, view, qualifier)


@router.put("/2016-08-15/services/{service}/functions/{function_name}")
async def update_function_v2(request: Request, service: str, function_name: str,
                             body: JsonObject) -> dict[str, Any]:
    core: Core = request.app.state.core
    service_name = _service(core, service)
    name = core.catalog.name_in_service(service_name, function_name)
    return await _update(request, name, body, function_name)


@router.delete("/2016-08-15/services/{service}/functions/{function_name}")
async def delete_function_v2(request: Request, service: str, function_name: str) -> Response:
    core: Core = request.app.state.core
    service_name = _service(core, service)
    return await _delete(request, core.catalog.name_in_service(service_name, function_name), function_name)


@router.get("/2016-08-15/services/{service}/functions")
async def list_functions_v2(
    request: Request, service: str, prefix: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803 - FC's query names
) -> dict[str, Any]:
    core: Core = request.app.state.core
    service_name = _service(core, service)
    found = []
    for name in _names(core):
        short = name.partition("$")[2] if "$" in name else name
        if core.catalog.name_in_service(service_name, short) == name and (not prefix or short.startswith(prefix)):
            found.append((short, name))
    selected, token = page(found, limit, nextToken)
    return {"functions": [view for short, name in selected if (view := _view_of(core, name, short))],
            "nextToken": token}
