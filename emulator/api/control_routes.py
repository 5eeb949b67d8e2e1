"""FC 3.0's invocation-control API: Disable/EnableFunctionInvocation, GetFunctionCode (and the route its URL names,
which serves the code zip) and ListInstances (of this process's pools)."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from emulator.api.errors import FCError, request_id_of, stamp_request_id
from emulator.api.json_body import NullsAreAbsent
from emulator.api.lookup import check_qualifier, function_v3
from emulator.api.numbers import whole_number
from emulator.api.presigned import CODE_ZIP_PREFIX, CODE_ZIP_SUFFIX, presigned_query
from emulator.catalog.code_archive import CodeError, zip_folder
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import CUSTOM_CONTAINER
from emulator.core import Core
from emulator.redis_io.keys import CODE_PREFIX, split_member
from emulator.redis_io.replies import as_bytes, reply, zrange_members

router = APIRouter(dependencies=[Depends(stamp_request_id)])

# FC documents no bound on a disabling's reason; this one is FC's for descriptions.
REASON_MAX_LENGTH = 256
# ListInstances' `limit` (FC: "Valid values: [0,1000]").
MAX_INSTANCES_LISTED = 1000
CODE_ZIP_ROUTE = "function_code_zip"
VERSION_CODE_ZIP_ROUTE = "function_version_code_zip"


class DisableFunctionInvocationInput(NullsAreAbsent):
    """FC's DisableFunctionInvocation body (every field optional, as the whole body is)."""

    abortOngoingRequest: bool = False
    reason: str = Field("", max_length=REASON_MAX_LENGTH)


class InvocationChanged(BaseModel):
    success: bool


async def _stop_running_tasks(core: Core, function: str, stopped: set[str]) -> None:
    """Stops the function's claimed and running async tasks as StopAsyncTask does (they end Stopped), but for those
    in `stopped`, to which it adds them: a second stop would cancel a task's run again while its dispatcher records
    the first."""
    for shard in core.store.shards:
        for member in zrange_members(await reply(core.redis.zrange(shard.inflight, 0, -1))):
            owner, task_id = split_member(member.decode())
            if owner == function and task_id not in stopped:
                stopped.add(task_id)
                await core.store.stop(function, task_id)


@router.post("/2023-03-30/functions/{function_name}/invoke/disable")
async def disable_function_invocation(
    request: Request, function_name: str,
    body: Annotated[DisableFunctionInvocationInput | None, Body()] = None,
) -> InvocationChanged:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    given = body or DisableFunctionInvocationInput()
    stopped: set[str] = set()
    if given.abortOngoingRequest:
        # Before the restriction, whose abort fails the invocations it finds running: a task stopped first ends
        # Stopped rather than failed and retried. Once more after it, for a task claimed in between.
        await _stop_running_tasks(core, definition.name, stopped)
    await core.controls.restrictions.disable(definition.name, given.reason, given.abortOngoingRequest)
    if given.abortOngoingRequest:
        await _stop_running_tasks(core, definition.name, stopped)
    return InvocationChanged(success=True)


@router.post("/2023-03-30/functions/{function_name}/invoke/enable")
async def enable_function_invocation(request: Request, function_name: str) -> InvocationChanged:
    core: Core = request.app.state.core
    await core.controls.restrictions.enable(function_v3(core, function_name).name)
    return InvocationChanged(success=True)


class OutputFuncCode(BaseModel):
    """FC's OutputFuncCode: where to download the code zip, and its checksum (GetFunction's codeChecksum)."""

    url: str
    checksum: str


def code_checksum(core: Core, definition: FunctionDefinition) -> str:
    """The code's checksum as GetFunction and GetFunctionCode give it: a deployed zip's SHA-256, a folder's
    fingerprint (FC's is a CRC-64 of the zip, which a folder has not)."""
    deployed = core.deployments.functions.get(definition.name)
    return deployed.codeChecksum if deployed is not None else definition.code_fingerprint[:16]


@router.get("/2023-03-30/functions/{function_name}/code")
async def get_function_code(request: Request, function_name: str, qualifier: str | None = None) -> OutputFuncCode:
    """The code of LATEST, or of a version (an alias: its main version, as GetFunction shows it)."""
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    version_id = core.controls.version_of(definition.name, check_qualifier(core, definition.name, qualifier))
    if not version_id:
        _has_code(definition, function_name)
        url = str(request.url_for(CODE_ZIP_ROUTE, function_name=function_name))
        signed, checksum = function_name, code_checksum(core, definition)
    else:
        checksum = _version_code(core, definition, function_name, version_id)
        url = str(request.url_for(VERSION_CODE_ZIP_ROUTE, function_name=function_name, version_id=version_id))
        signed = f"{function_name}/versions/{version_id}"
    # Presigned over the path between the prefix and the suffix, so a version's URL downloads only that version.
    query = presigned_query(signed, core.settings.access_key_pairs())
    if query:
        url += "?" + query
    return OutputFuncCode(url=url, checksum=checksum)


def _version_code(core: Core, definition: FunctionDefinition, shown_as: str, version_id: str) -> str:
    """The checksum of a version's code zip (in the code store, kept alive by the version); FC's errors for a
    version that does not exist or has no code package."""
    record = core.versions.get(definition.name, version_id)
    if record is None:
        raise FCError(404, "VersionNotFound", f"version '{version_id}' of function '{shown_as}' does not exist")
    if record.spec.get("runtime") == CUSTOM_CONTAINER or not record.codeChecksum:
        raise FCError(400, "InvalidArgument",
                      f"version '{version_id}' of function '{shown_as}' runs a container image: it has no code package")
    return record.codeChecksum


def _has_code(definition: FunctionDefinition, shown_as: str) -> None:
    if definition.manifest.runtime == CUSTOM_CONTAINER:
        raise FCError(400, "InvalidArgument", f"function '{shown_as}' runs a container image: it has no code package")


@router.get(CODE_ZIP_PREFIX + "{function_name}" + CODE_ZIP_SUFFIX, name=CODE_ZIP_ROUTE, response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "The function's code zip."}})
async def function_code_zip(request: Request, function_name: str) -> Response:
    """The code zip GetFunctionCode's URL names: a deployed function's zip as it was uploaded, a folder's files
    zipped. Behind the same guards as the API (a page of another origin cannot read it; with access keys set the
    URL is presigned: api/presigned.py), and sent as a download, never as a page."""
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    _has_code(definition, function_name)
    deployed = core.deployments.functions.get(definition.name)
    data: bytes | None
    if deployed is not None:
        data = as_bytes(await core.api_redis.get(CODE_PREFIX + deployed.codeChecksum)) if deployed.codeChecksum else None
        if data is None:
            raise FCError(404, "FunctionCodeNotFound", f"the code of function '{function_name}' is no longer stored")
    else:
        try:
            data = await asyncio.to_thread(zip_folder, definition.code_dir)
        except (CodeError, OSError) as error:
            raise FCError(400, "InvalidArgument", f"the code of function '{function_name}': {error}") from error
    return _zip_download(request, data, function_name)


@router.get(CODE_ZIP_PREFIX + "{function_name}/versions/{version_id}" + CODE_ZIP_SUFFIX, name=VERSION_CODE_ZIP_ROUTE,
            response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "A version's code zip."}})
async def function_version_code_zip(request: Request, function_name: str, version_id: str) -> Response:
    """The code zip of a version that GetFunctionCode's URL names (with a qualifier), as the version stores it."""
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    checksum = _version_code(core, definition, function_name, version_id)
    data = as_bytes(await core.api_redis.get(CODE_PREFIX + checksum))
    if data is None:
        raise FCError(404, "FunctionCodeNotFound",
                      f"the code of version '{version_id}' of function '{function_name}' is no longer stored")
    return _zip_download(request, data, f"{function_name}-{version_id}")


def _zip_download(request: Request, data: bytes, file_name: str) -> Response:
    headers = {
        "x-fc-request-id": request_id_of(request), "cache-control": "no-store", "x-content-type-options": "nosniff",
        "content-disposition": f"attachment; filename*=UTF-8''{quote(file_name, safe='')}.zip",
    }
    return Response(data, media_type="application/zip", headers=headers)


class InstanceInfo(BaseModel):
    """FC's InstanceInfo."""

    instanceId: str
    qualifier: str
    versionId: str
    status: str
    resourceType: str
    createdTimeMs: int
    destroyedTimeMs: int | None = None


class ListInstancesOutput(BaseModel):
    instances: list[InstanceInfo]
    requestId: str


def listed_values(name: str, text: str | None) -> set[str] | None:
    """A list query value as the SDK sends it (a JSON array of strings), or one bare value; None when absent."""
    if text is None or not text.strip():
        return None
    if not text.lstrip().startswith("["):
        return {text.strip()}
    try:
        values = json.loads(text)
    except ValueError as error:
        raise FCError(400, "InvalidArgument", f"{name} must be a JSON array of strings") from error
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise FCError(400, "InvalidArgument", f"{name} must be a JSON array of strings")
    return set(values)


def limit_of(text: str | None) -> int:
    if text is None or not text.strip():
        return MAX_INSTANCES_LISTED
    limit = whole_number(text, MAX_INSTANCES_LISTED)
    if limit is None or limit > MAX_INSTANCES_LISTED:
        raise FCError(400, "InvalidArgument", f"limit must be a whole number from 0 to {MAX_INSTANCES_LISTED}")
    return limit


@dataclass(frozen=True)
class InstanceFilter:
    """ListInstances' filters: each one given (not None) must hold."""

    ids: set[str] | None
    statuses: set[str] | None
    since_ms: int | None
    until_ms: int | None

    def passes(self, info: InstanceInfo) -> bool:
        return ((self.ids is None or info.instanceId in self.ids)
                and (self.statuses is None or info.status in self.statuses)
                and (self.since_ms is None or info.createdTimeMs >= self.since_ms)
                and (self.until_ms is None or info.createdTimeMs <= self.until_ms))


@router.get("/2023-03-30/functions/{function_name}/instances", response_model_exclude_none=True)
async def list_instances(
    request: Request, function_name: str, qualifier: str | None = None, limit: str | None = None,
    instanceIds: str | None = None,  # noqa: N803 - FC's query names
    instanceStatus: str | None = None,  # noqa: N803
    startTimeMs: int | None = None,  # noqa: N803
    endTimeMs: int | None = None,  # noqa: N803
) -> ListInstancesOutput:
    """The function's instances that serve invokes now, in this process's pools (another process's, such as a
    separate `fcemu dispatcher`'s, are not seen), oldest first."""
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    qualified = check_qualifier(core, definition.name, qualifier)
    wanted = InstanceFilter(listed_values("instanceIds", instanceIds), listed_values("instanceStatus", instanceStatus),
                            startTimeMs, endTimeMs)
    count = limit_of(limit)
    return ListInstancesOutput(instances=[info for info in instance_infos(core, definition, qualified)
                                          if wanted.passes(info)][:count], requestId=request_id_of(request))


def instance_infos(core: Core, definition: FunctionDefinition, qualifier: str) -> list[InstanceInfo]:
    """The instances of a function's qualifier (the pool of its version: an alias's main version) that serve
    invokes now in this process, oldest first. `versionId` is the version ("0" for LATEST, as FC's SDK says)."""
    pool = core.controls.pool(definition, qualifier)
    version_id = core.controls.version_of(definition.name, qualifier) or "0"
    # The oldest ones count as the provisioned ones: the pool does not tell them apart.
    provisioned = core.controls.provisioned(definition, qualifier)
    instances = sorted(pool.instances if pool is not None else [], key=lambda instance: instance.created_ms)
    return [InstanceInfo(instanceId=instance.instance_id, qualifier=qualifier, versionId=version_id, status="Running",
                         resourceType="Provisioned" if index < provisioned else "OnDemand",
                         createdTimeMs=instance.created_ms) for index, instance in enumerate(instances)]
