"""FC 2.0's share of the invocation-control API, as `aliyun-fc2` calls it: Put/GetProvisionConfig of a function under
`services/{service}.{qualifier}`, ListProvisionConfigs, and ListInstances. FC 2.0 has no DeleteProvisionConfig: a
target of 0 removes the config. The configs are FC 3.0's (one store: a 2.0 function `f` of service `s` is 3.0's
`s$f`)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from emulator.api.control_routes import instance_infos, limit_of, listed_values
from emulator.api.errors import FCError, stamp_request_id
from emulator.api.json_body import NullsAreAbsent
from emulator.api.lookup import alias_or_latest, check_qualifier, function_v2, service_v2
from emulator.api.paging import page
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.provision_configs import MAX_TARGET, StoredProvisionConfig
from emulator.core import Core

router = APIRouter(dependencies=[Depends(stamp_request_id)])

PATH = "/2016-08-15/services/{service}/functions/{function_name}"


class FC2ProvisionInput(NullsAreAbsent):
    target: int = Field(ge=0, le=MAX_TARGET)


class FC2ProvisionConfig(BaseModel):
    """FC 2.0's provision config: `resource` is `<account>#<service>#<qualifier>#<function>`, as FC's sample."""

    resource: str
    target: int
    current: int | None = None


class FC2ListProvisionConfigsOutput(BaseModel):
    provisionConfigs: list[FC2ProvisionConfig]
    nextToken: str | None = None


class FC2InstanceInfo(BaseModel):
    instanceId: str
    versionId: str


class FC2ListInstancesOutput(BaseModel):
    instances: list[FC2InstanceInfo]


def _located(core: Core, service: str, function_name: str, *, provision: bool = True
             ) -> tuple[str, str, FunctionDefinition]:
    """The service, the qualifier and the function a `services/{service}.{qualifier}/functions/{f}` path names (a
    provision config's qualifier is LATEST or an alias)."""
    service_name, definition = function_v2(core, service, function_name)
    checked = alias_or_latest if provision else check_qualifier
    return service_name, checked(core, definition.name, service.partition(".")[2]), definition


def _view(core: Core, service: str, function: str, qualifier: str, definition: FunctionDefinition
          ) -> FC2ProvisionConfig:
    current, _ = core.controls.kept_warm(definition, qualifier)
    return FC2ProvisionConfig(resource=f"{core.settings.account_id}#{service}#{qualifier}#{function}",
                              target=core.controls.provision.target(definition.name, qualifier), current=current)


@router.put(PATH + "/provision-config", response_model_exclude_none=True)
async def put_provision_config_v2(request: Request, service: str, function_name: str, body: FC2ProvisionInput
                                  ) -> FC2ProvisionConfig:
    core: Core = request.app.state.core
    service_name, qualifier, definition = _located(core, service, function_name)
    if body.target == 0 and core.controls.provision.declared(definition.name, qualifier) is None:
        await core.controls.provision.delete(definition.name, qualifier)
    else:  # a target of 0 over a manifest's declared config is kept, overriding it
        await core.controls.provision.put(definition.name, qualifier, StoredProvisionConfig(defaultTarget=body.target))
    view = _view(core, service_name, function_name, qualifier, definition)
    return view.model_copy(update={"current": None})


@router.get(PATH + "/provision-config")
async def get_provision_config_v2(request: Request, service: str, function_name: str) -> FC2ProvisionConfig:
    core: Core = request.app.state.core
    service_name, qualifier, definition = _located(core, service, function_name)
    return _view(core, service_name, function_name, qualifier, definition)


@router.get("/2016-08-15/provision-configs", response_model_exclude_none=True)
async def list_provision_configs_v2(
    request: Request,
    serviceName: str | None = None,  # noqa: N803 - FC's query names
    qualifier: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    nextToken: str | None = None,  # noqa: N803
) -> FC2ListProvisionConfigsOutput:
    core: Core = request.app.state.core
    if qualifier and not serviceName:
        raise FCError(400, "InvalidArgument", "serviceName is required when qualifier is given")
    wanted_service = service_v2(core, serviceName)[0] if serviceName else None
    wanted_qualifier = qualifier or None
    found = []
    for definition in core.catalog.all():
        service, function = _service_and_function(core, definition.name)
        if wanted_service is not None and service != wanted_service:
            continue
        for _, config_qualifier, _ in core.controls.provision.entries([definition.name]):
            if wanted_qualifier is None or config_qualifier == wanted_qualifier:
                found.append((service, function, config_qualifier, definition))
    items, token = page(found, limit, nextToken)
    return FC2ListProvisionConfigsOutput(
        provisionConfigs=[_view(core, *item) for item in items], nextToken=token)


def _service_and_function(core: Core, name: str) -> tuple[str, str]:
    """A function's FC 2.0 service and name, from its FC 3.0 name (`svc$fn`, or a plain name in the default one)."""
    service, separator, function = name.partition("$")
    return (service, function) if separator else (core.settings.service_name, name)


@router.get(PATH + "/instances")
async def list_instances_v2(
    request: Request, service: str, function_name: str, limit: str | None = None,
    instanceIds: str | None = None,  # noqa: N803 - FC's query names
) -> FC2ListInstancesOutput:
    """FC 2.0's ListInstances: as FC 3.0's (this process's instances), with `instanceId` and `versionId` only."""
    core: Core = request.app.state.core
    _, qualifier, definition = _located(core, service, function_name, provision=False)
    wanted, count = listed_values("instanceIds", instanceIds), limit_of(limit)
    infos = [info for info in instance_infos(core, definition, qualifier) if wanted is None or info.instanceId in wanted]
    return FC2ListInstancesOutput(instances=[FC2InstanceInfo(instanceId=info.instanceId, versionId=info.versionId)
                                             for info in infos[:count]])
