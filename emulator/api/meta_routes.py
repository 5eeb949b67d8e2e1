"""The emulator's own endpoints (not FC's), under /_fcemu."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from pydantic import BaseModel

from emulator import __version__

router = APIRouter(prefix="/_fcemu")


class InstanceView(BaseModel):
    instanceId: str
    active: int
    capacity: int


class FunctionView(BaseModel):
    functionName: str
    runtime: str
    instances: list[InstanceView]


class Health(BaseModel):
    status: str
    version: str
    # The owner label of this process's containers (unique per process unless FCEMU_OWNER fixes it).
    owner: str
    functions: list[FunctionView]


@router.get("/health")
async def health(request: Request) -> Health:
    core = request.app.state.core
    views = []
    for definition in core.catalog.all():
        pool = core.pools.for_function(definition)
        views.append(FunctionView(
            functionName=definition.name,
            runtime=definition.manifest.runtime,
            instances=[InstanceView(instanceId=i.instance_id, active=i.active, capacity=i.capacity)
                       for i in pool.instances],
        ))
    return Health(status="ok", version=__version__, owner=core.settings.owner, functions=views)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request) -> Response:
    """Prometheus' text format: this process's counters, its instances, and the queue read from Redis."""
    exposition = await request.app.state.core.exporter.exposition()
    return Response(exposition, media_type=CONTENT_TYPE_PLAIN_0_0_4)
