"""FC's layer API (FC 3.0 CreateLayerVersion and friends; FC 2.0 PublishLayerVersion and friends): a layer zip
uploaded in base64 becomes a new version that functions name by ARN. Versions in the layer folders
(FCEMU_LAYERS_DIR, a template's layers/) are listed too, read-only."""
from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from emulator.api.errors import FCError, request_id_of, stamp_request_id
from emulator.api.json_body import JsonObject, text_field
from emulator.api.numbers import whole_number
from emulator.api.paging import page
from emulator.arns import layer_version_arn
from emulator.catalog.code_archive import CodeError, decode_zip
from emulator.catalog.layers import LAYER_ARN
from emulator.catalog.published_layers import LayerVersion, PublishedLayers
from emulator.core import Core

router = APIRouter(dependencies=[Depends(stamp_request_id)])

V3, V2 = "/2023-03-30", "/2016-08-15"
LAYER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
LAYER_NAME_RULE = "1 to 64 letters, digits, '-' or '_'"
MAX_VERSION = 2**31 - 1


def _layers(request: Request) -> tuple[Core, PublishedLayers]:
    core: Core = request.app.state.core
    return core, core.published_layers


def _arn(core: Core, name: str, version: int) -> str:
    return layer_version_arn(core.settings.region, core.settings.account_id, name, version)


def _view(core: Core, layer: LayerVersion, v2: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "layerName": layer.name, "version": layer.version, "description": layer.description,
        "license": layer.license, "compatibleRuntime": layer.compatible_runtime, "codeSize": layer.code_size,
        "codeChecksum": layer.code_checksum, "createTime": layer.create_time,
        # Where the zip (or folder) is on the emulator's host: FC answers an OSS download address here.
        "code": {"repositoryType": "Local", "location": layer.location},
    }
    if v2:
        view.update(acl=0, arn=_arn(core, layer.name, layer.version))
        view.pop("license")
    else:
        view.update(acl="0", layerVersionArn=_arn(core, layer.name, layer.version))
    return view


def _name(name: str) -> str:
    if not LAYER_NAME.fullmatch(name):
        shown = name if len(name) <= 64 else name[:64] + "..."
        raise FCError(400, "InvalidArgument", f"layerName '{shown}' is not valid: {LAYER_NAME_RULE}")
    return name


def _version(text: str, field: str = "version") -> int:
    version = whole_number(text, MAX_VERSION)
    if version is None or not 1 <= version <= MAX_VERSION:
        raise FCError(400, "InvalidArgument", f"{field} '{text[:32]}' is not valid: a whole number from 1")
    return version


def _not_found(name: str, version: int | None = None) -> FCError:
    what = f"layer '{name}'" + (f" version {version}" if version is not None else "")
    return FCError(404, "LayerNotFound", f"{what} does not exist")


async def _publish(request: Request, name: str, body: dict[str, Any], v2: bool) -> dict[str, Any]:
    core, layers = _layers(request)
    _name(name)
    description = text_field(body, "description", default="")
    license_text = text_field(body, "license", default="")
    runtimes = body.get("compatibleRuntime", [])
    if not isinstance(runtimes, list) or not all(isinstance(r, str) for r in runtimes):
        raise FCError(400, "InvalidArgument", "compatibleRuntime must be a list of runtime names")
    code = body.get("code")
    if not isinstance(code, dict) or code.get("zipFile") is None:
        raise FCError(400, "InvalidArgument",
                      "code.zipFile (base64 of a zip, in an object `code`) is the only layer code source fcemu takes")
    try:
        # Up to 50 MB to decode and 200 MB to inflate: off the event loop.
        data = await asyncio.to_thread(decode_zip, code["zipFile"])
    except CodeError as error:
        raise FCError(400, "InvalidArgument", f"code.zipFile: {error}") from error
    layer = await layers.publish(name, data, description=description, license=license_text,
                                 compatible_runtime=runtimes)
    # This process serves functions that name the new version at once; the others refresh on the change message.
    await core.refresh_catalog()
    return _view(core, layer, v2)


async def _get(request: Request, name: str, version_text: str, v2: bool) -> dict[str, Any]:
    core, layers = _layers(request)
    version = _version(version_text)
    layer = await layers.get(_name(name), version)
    if layer is None:
        raise _not_found(name, version)
    return _view(core, layer, v2)


async def _get_by_arn(request: Request, arn: str, v2: bool) -> dict[str, Any]:
    core, layers = _layers(request)
    match = LAYER_ARN.match(arn)
    if match is None:
        raise FCError(400, "InvalidArgument", f"arn '{arn[:300]}' is not a layer version ARN "
                      "(acs:fc:<region>:<account>:layers/<name>/versions/<n>)")
    name, version = match.group(1), int(match.group(2))
    layer = await layers.get(name, version)
    if layer is None:
        raise _not_found(name, version)
    return _view(core, layer, v2)


async def _list(request: Request, prefix: str | None, limit: int, next_token: str | None, v2: bool
                ) -> dict[str, Any]:
    core, layers = _layers(request)
    latest = []
    for name in await layers.names():
        if prefix and not name.startswith(prefix):
            continue
        versions = await layers.versions(name)
        if versions:
            latest.append(versions[-1])
    selected, token = page(latest, limit, next_token)
    answer: dict[str, Any] = {"layers": [_view(core, layer, v2) for layer in selected]}
    if token is not None:
        answer["nextToken"] = token
    return answer


async def _list_versions(request: Request, name: str, start: str | None, limit: int, v2: bool) -> dict[str, Any]:
    core, layers = _layers(request)
    first = _version(start, "startVersion") if start else 1
    versions = await layers.versions(_name(name))
    if not versions:
        raise _not_found(name)
    chosen = [layer for layer in versions if layer.version >= first]
    answer: dict[str, Any] = {"layers": [_view(core, layer, v2) for layer in chosen[:limit]]}
    if len(chosen) > limit:
        answer["nextVersion"] = chosen[limit].version
    return answer


async def _delete(request: Request, name: str, version_text: str) -> Response:
    core, layers = _layers(request)
    version = _version(version_text)
    layer = await layers.get(_name(name), version)
    if layer is None:
        raise _not_found(name, version)
    if layer.folder is not None:
        raise FCError(400, "InvalidArgument", f"layer '{name}' version {version} is {layer.folder}, from a layer "
                      "folder: remove it there")
    in_use = {arn for definition in core.catalog.all() for arn in definition.manifest.layers}
    if not await layers.delete(name, version, in_use):
        raise _not_found(name, version)
    await core.refresh_catalog()
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


Limit = Annotated[int, Query(ge=1, le=100)]


def _register(prefix: str, v2: bool) -> None:
    """One API version's routes, named as that version's SDKs name the operations."""
    suffix = "V2" if v2 else ""

    async def publish(request: Request, layer_name: str, body: JsonObject) -> dict[str, Any]:
        return await _publish(request, layer_name, body, v2)

    async def get(request: Request, layer_name: str, version: str) -> dict[str, Any]:
        return await _get(request, layer_name, version, v2)

    async def delete(request: Request, layer_name: str, version: str) -> Response:
        return await _delete(request, layer_name, version)

    async def list_versions(request: Request, layer_name: str,
                            startVersion: str | None = None,  # noqa: N803 - FC's query names
                            limit: Limit = 20) -> dict[str, Any]:
        return await _list_versions(request, layer_name, startVersion, limit, v2)

    async def list_layers(request: Request, prefix: str | None = None, limit: Limit = 20,
                          nextToken: str | None = None) -> dict[str, Any]:  # noqa: N803 - FC's query names
        return await _list(request, prefix, limit, nextToken, v2)

    async def get_by_arn(request: Request, arn: str) -> dict[str, Any]:
        return await _get_by_arn(request, arn, v2)

    version_path = f"{prefix}/layers/{{layer_name}}/versions"
    router.add_api_route(version_path, publish, methods=["POST"],
                         operation_id="PublishLayerVersion" if v2 else "CreateLayerVersion")
    router.add_api_route(version_path + "/{version}", get, methods=["GET"], operation_id="GetLayerVersion" + suffix)
    router.add_api_route(version_path + "/{version}", delete, methods=["DELETE"],
                         operation_id="DeleteLayerVersion" + suffix)
    router.add_api_route(version_path, list_versions, methods=["GET"], operation_id="ListLayerVersions" + suffix)
    router.add_api_route(f"{prefix}/layers", list_layers, methods=["GET"], operation_id="ListLayers" + suffix)
    # The ARN is percent-encoded, '/' included: decoded before routing, so the route takes a path.
    router.add_api_route(f"{prefix}/layerarn/{{arn:path}}", get_by_arn, methods=["GET"],
                         operation_id="GetLayerVersionByArn" + suffix)


_register(V3, v2=False)
_register(V2, v2=True)
