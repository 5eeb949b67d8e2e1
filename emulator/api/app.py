"""The FastAPI application: FC's routes, FC's errors, and the emulator's parts for its lifespan."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from emulator import __version__
from emulator.api import (
    async_config_routes,
    clock_routes,
    concurrency_routes,
    console_routes,
    control_routes,
    docs_routes,
    fc2_control_routes,
    function_routes,
    http_trigger_routes,
    invoke_routes,
    layer_routes,
    local_queue_routes,
    log_routes,
    meta_routes,
    openapi_document,
    provision_routes,
    steering_routes,
    task_routes,
    trigger_routes,
    version_routes,
)
from emulator.api.auth_middleware import SignatureMiddleware
from emulator.api.body_limit import BodyLimitMiddleware
from emulator.api.errors import install_error_handlers
from emulator.api.event_stream import StreamSlots
from emulator.api.function_origins import FunctionOriginMiddleware
from emulator.api.instance_endpoint import serve_fc_endpoint
from emulator.api.mns_protocol import MnsProtocol
from emulator.api.origin_guard import HostAllowList, OriginGuardMiddleware
from emulator.core import Core
from emulator.fc_endpoint.names import endpoint_names, mns_endpoint_names
from emulator.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core = await Core.start(settings)
        app.state.core = core
        app.state.stream_slots = StreamSlots(settings.max_streams, core.metrics.streams)
        try:
            async with contextlib.AsyncExitStack() as servers:
                if core.fc_endpoint is not None:
                    mns = MnsProtocol(frozenset(mns_endpoint_names(settings.account_id, settings.region)), core,
                                      settings.access_key_pairs())
                    await servers.enter_async_context(
                        serve_fc_endpoint(app, core.fc_endpoint, core.fc_endpoint_sockets, settings, others=[mns]))
                yield
        finally:
            await core.close()

    app = FastAPI(title="fcemu", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url="/_fcemu/openapi.json")
    install_error_handlers(app)
    # Each added outside the one before. Outermost, a foreign Host or another site's page is refused on the
    # headers alone; then a function's own origin is routed to its trigger route; then, with keys, a signature is
    # checked (on the path the client signed, for the route the request goes to) before any of the body is read.
    app.add_middleware(BodyLimitMiddleware, payload_limit=settings.sync_payload_limit_bytes)
    # Without keys, only what comes from an instance through FC's endpoint is checked.
    app.add_middleware(SignatureMiddleware, keys=settings.access_key_pairs(),
                       payload_limit=settings.sync_payload_limit_bytes)
    app.add_middleware(FunctionOriginMiddleware)
    app.add_middleware(OriginGuardMiddleware, hosts=HostAllowList(settings.host, settings.allowed_host_patterns()),
                       instance_names=frozenset(endpoint_names(settings.account_id, settings.region)))
    app.router.routes.extend(invoke_routes.ROUTES)
    app.router.routes.extend(http_trigger_routes.ROUTES)
    app.include_router(task_routes.router)
    app.include_router(async_config_routes.router)
    app.include_router(concurrency_routes.router)
    app.include_router(function_routes.router)
    app.include_router(control_routes.router)
    app.include_router(provision_routes.router)
    app.include_router(fc2_control_routes.router)
    app.include_router(layer_routes.router)
    app.include_router(trigger_routes.router)
    app.include_router(version_routes.router)
    app.include_router(local_queue_routes.router)
    app.include_router(meta_routes.router)
    app.include_router(clock_routes.router)
    app.include_router(steering_routes.router)
    console_routes.install(app)
    app.include_router(log_routes.router)
    openapi_document.install(app)
    docs_routes.install(app)
    return app
