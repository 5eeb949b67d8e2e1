"""FC's versions and aliases: FC 3.0's per function (PublishFunctionVersion, ListFunctionVersions,
DeleteFunctionVersion, Create/Get/Update/Delete/ListAliases) and FC 2.0's per service (PublishServiceVersion,
ListServiceVersions, DeleteServiceVersion and the same alias operations). What they check and answer is in
version_rules.py; how a service's versions map onto its functions' in catalog/service_versions.py."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from emulator.api import version_rules as rules
from emulator.api.errors import request_id_of, stamp_request_id
from emulator.api.json_body import JsonObject, optional_object
from emulator.api.lookup import function_v3, service_v2
from emulator.api.version_rules import Scope
from emulator.core import Core

router = APIRouter(dependencies=[Depends(stamp_request_id)])

# FC's paging query: `limit` (1-100) and `nextToken`.
Limit = Annotated[int, Query(ge=1, le=100)]
NextToken = Annotated[str | None, Query(alias="nextToken")]

FUNCTION = "/2023-03-30/functions/{function_name}"
SERVICE = "/2016-08-15/services/{service}"


def _scope(request: Request) -> Scope:
    """The function (FC 3.0) or service (FC 2.0) the route names, or FC's 404."""
    core: Core = request.app.state.core
    params = request.path_params
    if "function_name" in params:
        return Scope.of_function(function_v3(core, params["function_name"]).name)
    return Scope.of_service(service_v2(core, params["service"])[0])


async def _publish(request: Request) -> rules.Version:
    core: Core = request.app.state.core
    scope = _scope(request)
    definition = core.catalog.get(scope.key) if scope.service is None else None
    # The SDKs send a body; a bare POST (curl) publishes without a description.
    return await rules.publish(core, scope, optional_object(await request.body()) or {}, definition)


async def _list_versions(request: Request, direction: str = "BACKWARD", limit: Limit = 20,
                         next_token: NextToken = None) -> rules.ListVersionsOutput:
    return rules.list_versions(request.app.state.core, _scope(request), direction, limit, next_token)


async def _delete_version(request: Request, version_id: str) -> Response:
    await rules.delete_version(request.app.state.core, _scope(request), version_id)
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


async def _create_alias(request: Request, body: JsonObject) -> rules.Alias:
    return await rules.create_alias(request.app.state.core, _scope(request), body)


async def _get_alias(request: Request, alias_name: str) -> rules.Alias:
    return rules.alias_view(alias_name, rules.existing_alias(request.app.state.core, _scope(request), alias_name))


async def _update_alias(request: Request, alias_name: str, body: JsonObject) -> rules.Alias:
    return await rules.update_alias(request.app.state.core, _scope(request), alias_name, body)


async def _delete_alias(request: Request, alias_name: str) -> Response:
    await rules.delete_alias(request.app.state.core, _scope(request), alias_name)
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


async def _list_aliases(request: Request, prefix: str | None = None, limit: Limit = 20,
                        next_token: NextToken = None) -> rules.ListAliasesOutput:
    return rules.alias_page(request.app.state.core, _scope(request), prefix, limit, next_token)


for base, version_op, alias_op in ((FUNCTION, "FunctionVersion", "Alias"), (SERVICE, "ServiceVersion", "Alias")):
    suffix = "" if base == FUNCTION else "V2"
    router.add_api_route(base + "/versions", _publish, methods=["POST"], name=f"Publish{version_op}")
    router.add_api_route(base + "/versions", _list_versions, methods=["GET"], response_model_exclude_none=True,
                         name=f"List{version_op}s")
    router.add_api_route(base + "/versions/{version_id}", _delete_version, methods=["DELETE"],
                         name=f"Delete{version_op}")
    router.add_api_route(base + "/aliases", _create_alias, methods=["POST"], name=f"CreateAlias{suffix}")
    router.add_api_route(base + "/aliases", _list_aliases, methods=["GET"], response_model_exclude_none=True,
                         name=f"ListAliases{suffix}")
    router.add_api_route(base + "/aliases/{alias_name}", _get_alias, methods=["GET"], name=f"GetAlias{suffix}")
    router.add_api_route(base + "/aliases/{alias_name}", _update_alias, methods=["PUT"], name=f"UpdateAlias{suffix}")
    router.add_api_route(base + "/aliases/{alias_name}", _delete_alias, methods=["DELETE"],
                         name=f"DeleteAlias{suffix}")
