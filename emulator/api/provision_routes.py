"""FC 3.0's provision configs: Put, Get, Delete per qualifier, and ListProvisionConfigs. The target is kept warm by
the pools (pool/invocation_controls.py); `current` is how many of those instances this process has up."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from emulator.api.errors import FCError, request_id_of, stamp_request_id
from emulator.api.json_body import NullsAreAbsent
from emulator.api.lookup import alias_or_latest, function_v3
from emulator.api.paging import page
from emulator.arns import function_arn
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.provision_configs import (
    MAX_TARGET,
    ScheduledAction,
    StoredProvisionConfig,
    TargetTrackingPolicy,
)
from emulator.core import Core

router = APIRouter(dependencies=[Depends(stamp_request_id)])

PATH = "/2023-03-30/functions/{function_name}/provision-config"


class PutProvisionConfigInput(NullsAreAbsent):
    """FC's PutProvisionConfigInput: `defaultTarget`, or the deprecated `target` it replaces, is required; the
    other fields keep FC's defaults when left out."""

    target: int | None = Field(None, ge=0, le=MAX_TARGET)
    defaultTarget: int | None = Field(None, ge=0, le=MAX_TARGET)
    alwaysAllocateCPU: bool = True
    alwaysAllocateGPU: bool = True
    scheduledActions: list[ScheduledAction] = Field(default_factory=list)
    targetTrackingPolicies: list[TargetTrackingPolicy] = Field(default_factory=list)


class ProvisionConfig(BaseModel):
    """FC's ProvisionConfig. Every field is left out for a qualifier without one (GetProvisionConfig answers so,
    and Serverless Devs reads a config without `functionArn` as none)."""

    functionArn: str | None = None
    target: int | None = None
    defaultTarget: int | None = None
    current: int | None = None
    currentError: str | None = None
    alwaysAllocateCPU: bool | None = None
    alwaysAllocateGPU: bool | None = None
    scheduledActions: list[ScheduledAction] | None = None
    targetTrackingPolicies: list[TargetTrackingPolicy] | None = None


class ListProvisionConfigsOutput(BaseModel):
    provisionConfigs: list[ProvisionConfig]
    nextToken: str | None = None


def _view(core: Core, definition: FunctionDefinition, qualifier: str, config: StoredProvisionConfig
          ) -> ProvisionConfig:
    current, error = core.controls.kept_warm(definition, qualifier)
    return ProvisionConfig(
        # Without the qualifier, as FC's sample has it.
        functionArn=function_arn(core.settings.region, core.settings.account_id, definition.name),
        target=config.defaultTarget, defaultTarget=config.defaultTarget, current=current, currentError=error or None,
        alwaysAllocateCPU=config.alwaysAllocateCPU, alwaysAllocateGPU=config.alwaysAllocateGPU,
        scheduledActions=config.scheduledActions, targetTrackingPolicies=config.targetTrackingPolicies,
    )


@router.put(PATH, response_model_exclude_none=True)
async def put_provision_config(request: Request, function_name: str, body: PutProvisionConfigInput,
                               qualifier: str | None = None) -> ProvisionConfig:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    qualified = alias_or_latest(core, definition.name, qualifier)
    target = body.defaultTarget if body.defaultTarget is not None else body.target
    if target is None:
        raise FCError(400, "InvalidArgument", "defaultTarget (or the deprecated target) is required")
    config = StoredProvisionConfig(
        defaultTarget=target, alwaysAllocateCPU=body.alwaysAllocateCPU, alwaysAllocateGPU=body.alwaysAllocateGPU,
        scheduledActions=body.scheduledActions, targetTrackingPolicies=body.targetTrackingPolicies,
    )
    stored = await core.controls.provision.put(definition.name, qualified, config)
    return _view(core, definition, qualified, stored)


@router.get(PATH, response_model_exclude_none=True)
async def get_provision_config(request: Request, function_name: str, qualifier: str | None = None
                               ) -> ProvisionConfig:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    qualified = alias_or_latest(core, definition.name, qualifier)
    config = core.controls.provision.get(definition.name, qualified)
    return _view(core, definition, qualified, config) if config is not None else ProvisionConfig()


@router.delete(PATH)
async def delete_provision_config(request: Request, function_name: str, qualifier: str | None = None) -> Response:
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    qualified = alias_or_latest(core, definition.name, qualifier)
    if not await core.controls.provision.delete(definition.name, qualified):
        if core.controls.provision.declared(definition.name, qualified) is not None:
            raise FCError(400, "InvalidArgument", f"the provision config of '{definition.name}' for {qualified} comes "
                                                  f"from its manifest ({definition.source}); edit it there")
        raise FCError(404, "ProvisionConfigNotFound",
                      f"function '{function_name}' has no provision config for qualifier {qualified}")
    return Response(status_code=204, headers={"x-fc-request-id": request_id_of(request)})


@router.get("/2023-03-30/provision-configs", response_model_exclude_none=True)
async def list_provision_configs(
    request: Request,
    functionName: str | None = None,  # noqa: N803 - FC's query names
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803
) -> ListProvisionConfigsOutput:
    core: Core = request.app.state.core
    definitions = {d.name: d for d in ([function_v3(core, functionName)] if functionName else core.catalog.all())}
    entries = core.controls.provision.entries(list(definitions))
    items, token = page(entries, limit, nextToken)
    return ListProvisionConfigsOutput(
        provisionConfigs=[_view(core, definitions[name], qualifier, config) for name, qualifier, config in items],
        nextToken=token,
    )
