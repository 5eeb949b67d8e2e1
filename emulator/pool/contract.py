"""FC's custom-runtime contract as the control plane speaks it: the x-fc-* headers and the container's env."""
from __future__ import annotations

from emulator.catalog.loader import FunctionDefinition
from emulator.settings import Settings


def static_headers(definition: FunctionDefinition, settings: Settings) -> dict[str, str]:
    """Headers that are the same on every request to one function's agent; computed once per pool."""
    manifest = definition.manifest
    headers = {
        "Content-Type": "application/octet-stream",
        "x-fc-function-name": manifest.functionName,
        "x-fc-function-handler": manifest.handler,
        "x-fc-function-memory": str(manifest.memorySize),
        "x-fc-function-timeout": str(manifest.timeout),
        "x-fc-initialization-timeout": str(manifest.initializationTimeout),
        "x-fc-service-name": settings.service_name,
        "x-fc-region": settings.region,
        "x-fc-account-id": settings.account_id,
        "x-fc-qualifier": "LATEST",
    }
    if manifest.initializer:
        headers["x-fc-function-initializer"] = manifest.initializer
    return headers


def environment(definition: FunctionDefinition, settings: Settings) -> dict[str, str]:
    """The FC_* variables FC sets in every instance, under the function's own variables."""
    manifest = definition.manifest
    return {
        **manifest.environmentVariables,
        "FC_FUNCTION_NAME": manifest.functionName,
        "FC_FUNCTION_HANDLER": manifest.handler,
        "FC_FUNCTION_MEMORY_SIZE": str(manifest.memorySize),
        "FC_FUNC_CODE_PATH": "/code",
        "FC_RUNTIME": manifest.runtime,
        "FC_REGION": settings.region,
        "FC_ACCOUNT_ID": settings.account_id,
        "FC_SERVICE_NAME": settings.service_name,
        "FC_SERVER_PORT": str(manifest.agent_port),
        "FC_CUSTOM_LISTEN_PORT": str(manifest.agent_port),
        "HOME": "/tmp",
    }
