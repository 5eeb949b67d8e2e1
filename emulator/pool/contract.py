"""FC's custom-runtime contract as the control plane speaks it: the x-fc-* headers and the container's env."""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Literal

from emulator.catalog.loader import FunctionDefinition
from emulator.credentials import FunctionCredentials
from emulator.logs.pump import LogPumps
from emulator.pool.instance import Instance
from emulator.settings import Settings

# FC's headers on a request to an instance and on its answer. Those every request to one function carries are
# static_headers' below; these are set or read per request.
FC_HEADER_PREFIX = "x-fc-"
REQUEST_ID_HEADER = "x-fc-request-id"
CONTROL_PATH_HEADER = "x-fc-control-path"  # one of the control paths below
LOG_TYPE_HEADER = "x-fc-log-type"  # LOG_TAIL: answer the invocation's log tail, base64, in LOG_RESULT_HEADER
LOG_TAIL = "Tail"
RETRY_COUNT_HEADER = "x-fc-retry-count"  # how many times an async invocation was tried before (absent: none)
STATUS_HEADER = "x-fc-status"  # on the answer: anything but 200 says the function failed (reports_failure)
LOG_RESULT_HEADER = "x-fc-log-result"

# fcemu's own headers on a request to an instance, beside FC's x-fc-* ones: like those, the control plane's alone.
FCEMU_HEADER_PREFIX = "x-fcemu-"
# Each instance's own secret (fcemu's, not FC's): in the instance's environment at start, and on every request the
# control plane sends it. fcemu's agents refuse a request without it (403, nothing run) and take it out of the
# environment before any of the function's code loads, so another function's instance that reaches the agent
# cannot drive it. A client's copy of the header never reaches an instance (emulator/invoker.py drops it).
AGENT_TOKEN_HEADER = FCEMU_HEADER_PREFIX + "agent-token"
AGENT_TOKEN_VARIABLE = "FCEMU_AGENT_TOKEN"

# The runtime contract's request headers (handler, control path, credentials, request id...) and fcemu's own
# (the instance's secret, AGENT_TOKEN_HEADER) are the control plane's alone: a client's must never reach
# an instance, where the agent would take them for the emulator's.
CONTRACT_HEADER_PREFIXES = (FC_HEADER_PREFIX, FCEMU_HEADER_PREFIX)


def is_contract_header(name: str) -> bool:
    return name.lower().startswith(CONTRACT_HEADER_PREFIXES)


# FC's control paths: what a request to an instance is (x-fc-control-path), and the path it is sent to (but an
# HTTP function's request, sent to the path its client asked for).
INVOKE = "/invoke"
HTTP_INVOKE = "/http-invoke"
INITIALIZE = "/initialize"
PRE_STOP = "/pre-stop"


def control_headers(instance: Instance, control_path: str, request_id: str, logs: LogPumps | None) -> dict[str, str]:
    """The headers that make one request to an instance the control plane's: its request id, its control path and
    the instance's secret. Called just before the request goes: the instance's log pump is told to expect the
    request id, since only the framing lines of a request the emulator sent are believed (emulator/logs/
    attribution.py)."""
    if logs is not None:
        logs.expect(instance.container_id, request_id)
    return {REQUEST_ID_HEADER: request_id, CONTROL_PATH_HEADER: control_path, AGENT_TOKEN_HEADER: instance.agent_token}


def invoke_headers(instance: Instance, request_id: str, logs: LogPumps | None, *, http: bool, log_tail: bool = False,
                   retry_count: int = 0) -> dict[str, str]:
    """control_headers of an invocation (an HTTP function's request with `http`), asking for the log's tail and
    telling an async invocation's retry count when there are."""
    headers = control_headers(instance, HTTP_INVOKE if http else INVOKE, request_id, logs)
    if log_tail:
        headers[LOG_TYPE_HEADER] = LOG_TAIL
    if retry_count:
        headers[RETRY_COUNT_HEADER] = str(retry_count)
    return headers


def reports_failure(answer_headers: Mapping[str, str]) -> bool:
    """True when the agent's answer says the function failed (its x-fc-status), whatever the HTTP status."""
    return answer_headers.get(STATUS_HEADER, "200") != "200"


def new_agent_token() -> str:
    """A fresh random secret for one instance: 256 bits, URL-safe (a header value as it is)."""
    return secrets.token_urlsafe(32)


def fc_names(definition: FunctionDefinition, settings: Settings) -> tuple[str, str]:
    """The service and function names the instance sees. A 2.0 function outside the default service is named
    `service$function` in the catalog (FC 3.0's listing name for it), but in FC 2.0 its instance is told the two
    names apart, as the FC 2.0 runtimes' context.service.name / context.function.name show them. Every other
    function is in fcemu's service (FCEMU_SERVICE_NAME) under its own name."""
    service, dollar, function = definition.manifest.functionName.partition("$")
    if dollar and service and function:
        return service, function
    return settings.service_name, definition.manifest.functionName


def static_headers(definition: FunctionDefinition, settings: Settings, role: FunctionCredentials | None
                   ) -> dict[str, str]:
    """Headers that are the same on every request to one function's agent; computed once per pool. `role`: the
    credentials a function with a role gets (emulator/fc_endpoint/role_credentials.py)."""
    manifest = definition.manifest
    service_name, function_name = fc_names(definition, settings)
    headers = {
        "Content-Type": "application/octet-stream",
        "x-fc-function-name": function_name,
        "x-fc-function-handler": manifest.handler,
        "x-fc-function-memory": str(manifest.memorySize),
        "x-fc-function-timeout": str(manifest.timeout),
        "x-fc-initialization-timeout": str(manifest.initializationTimeout),
        "x-fc-service-name": service_name,
        "x-fc-region": settings.region,
        "x-fc-account-id": settings.account_id,
        # A version's instances are told their version; an alias's invocations override the qualifier per request.
        "x-fc-qualifier": definition.version_id or "LATEST",
    }
    if definition.version_id:
        headers["x-fc-version-id"] = definition.version_id
    if manifest.initializer:
        headers["x-fc-function-initializer"] = manifest.initializer
    if manifest.pre_stop is not None:
        headers["x-fc-instance-lifecycle-pre-stop-handler"] = str(manifest.pre_stop.handler)
    credentials = _credentials(definition, role, "Request")
    if credentials is not None:
        headers["x-fc-access-key-id"] = credentials.access_key_id
        headers["x-fc-access-key-secret"] = credentials.access_key_secret
        if credentials.security_token:
            headers["x-fc-security-token"] = credentials.security_token
    return headers


def _credentials(definition: FunctionDefinition, role: FunctionCredentials | None, where: Literal["Env", "Request"]
                 ) -> FunctionCredentials | None:
    """As FC: only a function with a role gets credentials (the role's), unless it opted out for `where`."""
    manifest = definition.manifest
    if not manifest.role or not manifest.injects_credentials(where):
        return None
    return role


def environment(definition: FunctionDefinition, settings: Settings, role: FunctionCredentials | None
                ) -> dict[str, str]:
    """The FC_* variables FC sets in every instance (and a role's credentials), over the function's own."""
    manifest = definition.manifest
    credentials = _credentials(definition, role, "Env")
    service_name, function_name = fc_names(definition, settings)
    secrets = {} if credentials is None else {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": credentials.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credentials.access_key_secret,
        **({"ALIBABA_CLOUD_SECURITY_TOKEN": credentials.security_token} if credentials.security_token else {}),
    }
    return {
        **_search_paths(definition),
        **manifest.environmentVariables,
        "FC_FUNCTION_NAME": function_name,
        "FC_FUNCTION_HANDLER": manifest.handler,
        "FC_FUNCTION_MEMORY_SIZE": str(manifest.memorySize),
        "FC_FUNC_CODE_PATH": "/code",
        "FC_RUNTIME": manifest.runtime,
        "FC_REGION": settings.region,
        "FC_ACCOUNT_ID": settings.account_id,
        "FC_SERVICE_NAME": service_name,
        "FC_SERVER_PORT": str(manifest.agent_port),
        "FC_CUSTOM_LISTEN_PORT": str(manifest.agent_port),
        "HOME": "/tmp",
        **secrets,
    }


# The runtime images' own PATH, which the layers' /opt/bin (and FC's /code, /code/bin) extend.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _search_paths(definition: FunctionDefinition) -> dict[str, str]:
    """Where FC's built-in runtimes look for the layers' content under /opt (FC's "Create a custom layer": python
    in /opt/python, nodejs in /opt/nodejs/node_modules, java in /opt/java/lib, programs in /opt/bin, libraries in
    /opt/lib). Custom
    runtimes and containers get /opt only, as on FC. Below the function's own variables: a function that sets
    PYTHONPATH itself decides its path."""
    family = definition.manifest.runtime_family
    if family in ("custom", "custom-container"):
        return {}
    paths = {"PATH": f"{IMAGE_PATH}:/code:/code/bin:/opt/bin", "LD_LIBRARY_PATH": "/code:/code/lib:/usr/local/lib:/opt/lib"}
    if family == "python":
        paths["PYTHONPATH"] = "/opt/python"
    elif family == "nodejs":
        paths["NODE_PATH"] = "/opt/nodejs/node_modules"
    # java: the agent puts /opt/java/lib's jars on the function's class path itself (runtimes/java).
    return paths
