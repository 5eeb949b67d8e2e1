"""FC 3.0's reserved concurrency: Put/Get/Delete/ListConcurrencyConfigs (per function, no qualifier)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from emulator.api.errors import FCError, request_id_of, stamp_request_id
from emulator.api.json_body import NullsAreAbsent
from emulator.api.lookup import function_v3
from emulator.api.paging import page
from emulator.arns import function_arn
from emulator.catalog.concurrency_configs import ConcurrencyEntry
from emulator.catalog.loader import FunctionDefinition
from emulator.core import Core

router = APIRouter(dependencies=[Depends(stamp_request_id)])

PATH = "/2023-03-30/functions/{function_name}/concurrency"


class PutConcurrencyInput(NullsAreAbsent):
    """FC 3.0's body. The upper bound is the account-wide limit (FCEMU_ACCOUNT_INSTANCE_LIMIT), checked below."""

    reservedConcurrency: int = Field(ge=0, description=(
        "The most instances the function may have at once; 0 stops it from running (sync invokes get 429 "
        "ResourceThrottled, async tasks wait)."))


class ConcurrencyConfig(BaseModel):
    """FC 3.0's ConcurrencyConfig."""

    functionArn: str
    reservedConcurrency: int


class ListConcurrencyConfigsOutput(BaseModel):
    configs: list[ConcurrencyConfig]
    nextToken: str | None = None


def _shown(core: Core, entry: ConcurrencyEntry) -> ConcurrencyConfig:
    return ConcurrencyConfig(functionArn=function_arn(core.settings.region, core.settings.account_id, entry.function),
                             reservedConcurrency=entry.reserved_concurrency)


def _not_found(definition: FunctionDefinition) -> FCError:
    return FCError(404, "ConcurrencyConfigNotFound", f"function '{definition.name}' has no concurrency config")


@router.put(PATH, response_model_exclude_none=True)
async def put_concurrency_config(request: Request, function_name: str, body: PutConcurrencyInput
                                 ) -> ConcurrencyConfig:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    limit = core.settings.account_instance_limit
    if body.reservedConcurrency > limit:
        raise FCError(400, "InvalidArgument", f"reservedConcurrency {body.reservedConcurrency} exceeds the account's "
                                              f"concurrency limit of {limit} (FCEMU_ACCOUNT_INSTANCE_LIMIT)")
    return _shown(core, await core.concurrency_configs.put(definition, body.reservedConcurrency))


@router.get(PATH, response_model_exclude_none=True)
async def get_concurrency_config(request: Request, function_name: str) -> ConcurrencyConfig:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    entry = core.concurrency_configs.get(definition)
    if entry is None:
        raise _not_found(definition)
    return _shown(core, entry)


@router.delete(PATH)
async def delete_concurrency_config(request: Request, function_name: str) -> Response:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    if not await core.concurrency_configs.delete(definition.name):
        entry = core.concurrency_configs.get(definition)
        if entry is not None:
            raise FCError(400, "InvalidArgument", f"the concurrency config of '{definition.name}' comes from its "
                                                  f"manifest ({definition.source}); edit it there")
        raise _not_found(definition)
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


@router.get("/2023-03-30/concurrency-configs", response_model_exclude_none=True)
async def list_concurrency_configs(
    request: Request,
    functionName: str | None = None,  # noqa: N803 - FC's query names
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803
) -> ListConcurrencyConfigsOutput:
    core: Core = request.app.state.core
    definitions = [function_v3(core, functionName)] if functionName else core.catalog.all()
    items, token = page(core.concurrency_configs.entries(definitions), limit, nextToken)
    return ListConcurrencyConfigsOutput(configs=[_shown(core, entry) for entry in items], nextToken=token)
