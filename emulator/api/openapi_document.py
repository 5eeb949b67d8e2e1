"""The OpenAPI description fcemu publishes at /_fcemu/openapi.json: every public route of both API versions.

FastAPI describes the routes it declares, but not the plain Starlette ones (invoke and HTTP triggers, kept plain
for speed), nor the bodies its routes take as free dicts. This module adds both: the invoke and HTTP trigger
operations with FC's `x-fc-*` request headers, and the request bodies as FC's models (field names and types of
FC's API reference and of `alibabacloud-fc20230330`'s models), so that clients and fuzzers see what FC takes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import Route

from emulator.api import http_trigger_routes, invoke_routes
from emulator.api.invoke_headers import MAX_ASYNC_DELAY_S, REQUEST_ID_PATTERN, TASK_ID_PATTERN
from emulator.catalog.manifest import FUNCTION_NAME_PATTERN
from emulator.catalog.trigger_config import HTTP_METHODS

Schema = dict[str, Any]

DESCRIPTION = (
    "Function Compute's routes as fcemu serves them: FC 3.0 (`/2023-03-30`), FC 2.0 (`/2016-08-15`), HTTP "
    "triggers (`/http/{function}`, `/2016-08-15/proxy/...`, and any path of a function's own origin "
    "`http://{function}.localhost:{port}/`) and fcemu's own (`/_fcemu`). Errors carry "
    "`{Code, Message, RequestId}` on 2023-03-30 routes and `{ErrorCode, ErrorMessage, RequestId}` on 2016-08-15 "
    "routes."
)


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _strings() -> Schema:
    return {"type": "array", "items": {"type": "string"}}


_HEALTH_CHECK = {
    "type": "object",
    "properties": {
        "httpGetUrl": {"type": "string"}, "initialDelaySeconds": {"type": "integer", "minimum": 0},
        "periodSeconds": {"type": "integer", "minimum": 1}, "timeoutSeconds": {"type": "integer", "minimum": 1},
        "failureThreshold": {"type": "integer", "minimum": 1}, "successThreshold": {"type": "integer", "minimum": 1},
    },
}

# FC's models, by the names FC's SDKs give them.
SCHEMAS: dict[str, Schema] = {
    "InputCodeLocation": {
        "type": "object",
        "description": "fcemu takes zipFile only (base64 of a zip); OSS locations are FC's other source.",
        "properties": {
            "zipFile": {"type": "string", "contentEncoding": "base64", "contentMediaType": "application/zip"},
            "ossBucketName": {"type": "string"}, "ossObjectName": {"type": "string"},
            "checksum": {"type": "string"},
        },
    },
    "CustomContainerConfig": {
        "type": "object",
        "required": ["image"],
        "properties": {
            "image": {"type": "string", "minLength": 1, "examples": ["fcemu/runtime-python3:latest"]},
            "entrypoint": _strings(), "command": _strings(),
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "healthCheckConfig": _HEALTH_CHECK, "accelerationType": {"type": "string"},
            "acrInstanceId": {"type": "string"},
        },
    },
    "CustomRuntimeConfig": {
        "type": "object",
        "required": ["command"],
        "properties": {
            "command": {**_strings(), "minItems": 1, "examples": [["python3", "server.py"]]}, "args": _strings(),
            "port": {"type": "integer", "minimum": 1, "maximum": 65535}, "healthCheckConfig": _HEALTH_CHECK,
        },
    },
    "LogConfig": {
        "type": "object",
        "properties": {
            "project": {"type": "string"}, "logstore": {"type": "string"},
            "enableRequestMetrics": {"type": "boolean"}, "enableInstanceMetrics": {"type": "boolean"},
            "logBeginRule": {"type": "string", "enum": ["None", "DefaultRegex"]},
        },
    },
    "VPCConfig": {
        "type": "object",
        "properties": {"vpcId": {"type": "string"}, "vSwitchIds": _strings(), "securityGroupId": {"type": "string"}},
    },
    "NASConfig": {
        "type": "object",
        "properties": {
            "userId": {"type": "integer"}, "groupId": {"type": "integer"},
            "mountPoints": {"type": "array", "items": {"type": "object", "properties": {
                "serverAddr": {"type": "string"}, "mountDir": {"type": "string"}, "enableTLS": {"type": "boolean"},
            }}},
        },
    },
    "Tag": {"type": "object", "properties": {"key": {"type": "string"}, "value": {"type": "string"}}},
    "LifecycleHook": {
        "type": "object",
        "properties": {
            "handler": {"type": "string", "maxLength": 128, "examples": ["index.pre_stop"]},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 600}, "command": _strings(),
        },
    },
    "InstanceLifecycleConfig": {
        "type": "object",
        "description": "initializer (FC 3.0's place for it) and preStop; FC 2.0's preFreeze is accepted, never called.",
        "properties": {"initializer": _ref("LifecycleHook"), "preStop": _ref("LifecycleHook"),
                       "preFreeze": _ref("LifecycleHook")},
    },
    "CreateFunctionInput": {
        "type": "object",
        "description": "FC 3.0 CreateFunction; fcemu runs the python3.x, nodejs14-20, custom.* and custom-container runtimes.",
        "required": ["functionName", "runtime", "handler"],
        "properties": {
            "functionName": {"type": "string", "pattern": FUNCTION_NAME_PATTERN},
            "runtime": {"type": "string", "examples": ["python3.10", "python3.9", "custom.debian10",
                                                      "custom-container"]},
            "handler": {"type": "string", "minLength": 1, "maxLength": 128, "examples": ["index.handler"]},
            "code": _ref("InputCodeLocation"),
            "description": {"type": "string", "maxLength": 256},
            "memorySize": {"type": "integer", "minimum": 128, "maximum": 32768, "multipleOf": 64},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 86400},
            "instanceConcurrency": {"type": "integer", "minimum": 1, "maximum": 200},
            "environmentVariables": {"type": "object", "additionalProperties": {"type": "string"}},
            "initializer": {"type": "string", "maxLength": 128},
            "initializationTimeout": {"type": "integer", "minimum": 1, "maximum": 600},
            "customContainerConfig": _ref("CustomContainerConfig"),
            "customRuntimeConfig": _ref("CustomRuntimeConfig"),
            "cpu": {"type": "number"}, "diskSize": {"type": "integer", "enum": [512, 10240]},
            "internetAccess": {"type": "boolean"}, "layers": _strings(), "role": {"type": "string"},
            "logConfig": _ref("LogConfig"), "vpcConfig": _ref("VPCConfig"), "nasConfig": _ref("NASConfig"),
            "tags": {"type": "array", "items": _ref("Tag")},
            "instanceLifecycleConfig": _ref("InstanceLifecycleConfig"), "gpuConfig": {"type": "object"},
            "disableInjectCredentials": {"type": "string", "enum": ["None", "Env", "Request", "All"]},
            "tracingConfig": {"type": "object"}, "ossMountConfig": {"type": "object"},
            "sessionAffinity": {"type": "string"}, "idleTimeout": {"type": "integer"},
            "enableLongLiving": {"type": "boolean"},
        },
    },
    "CreateServiceInput": {
        "type": "object",
        "description": "FC 2.0 CreateService.",
        "required": ["serviceName"],
        "properties": {
            "serviceName": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$"},
            "description": {"type": "string", "maxLength": 256}, "role": {"type": "string"},
            "internetAccess": {"type": "boolean"}, "logConfig": _ref("LogConfig"), "vpcConfig": _ref("VPCConfig"),
            "nasConfig": _ref("NASConfig"), "tracingConfig": {"type": "object"},
            "ossMountConfig": {"type": "object"},
        },
    },
    "TimerTriggerConfig": {
        "type": "object",
        "required": ["cronExpression"],
        "properties": {
            "cronExpression": {"type": "string",
                               "examples": ["@every 5m", "0 0 4 * * *", "CRON_TZ=Asia/Shanghai 0 30 8 * * 1-5"]},
            "enable": {"type": "boolean"}, "payload": {"type": "string"},
        },
    },
    "HTTPTriggerConfig": {
        "type": "object",
        "properties": {
            "authType": {"type": "string", "enum": ["anonymous", "function"]},
            "methods": {"type": "array", "items": {"type": "string", "enum": list(HTTP_METHODS)}},
            "disableURLInternet": {"type": "boolean"},
        },
    },
    "TriggerConfig": {"anyOf": [_ref("TimerTriggerConfig"), _ref("HTTPTriggerConfig")]},
}


def _function_input(name: str, required: list[str], drop: tuple[str, ...] = (), **extra: Schema) -> Schema:
    base = SCHEMAS["CreateFunctionInput"]
    properties = {key: value for key, value in base["properties"].items() if key not in drop}
    return {"type": "object", "description": name, "required": required, "properties": {**properties, **extra}}


def _trigger_input(name: str, required: list[str], v3: bool, create: bool) -> Schema:
    # FC 3.0 carries triggerConfig as a JSON string, FC 2.0 as an object.
    config = ({"type": "string", "contentMediaType": "application/json", "contentSchema": _ref("TriggerConfig")}
              if v3 else _ref("TriggerConfig"))
    properties: dict[str, Schema] = {
        "triggerConfig": config, "description": {"type": "string", "maxLength": 256},
        "qualifier": {"type": "string", "examples": ["LATEST"]}, "invocationRole": {"type": "string"},
    }
    if create:
        properties.update(
            triggerName={"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$"},
            triggerType={"type": "string", "examples": ["timer", "http"]},
            sourceArn={"type": "string"},
        )
    return {"type": "object", "description": name, "required": required, "properties": properties}


SCHEMAS.update(
    UpdateFunctionInput=_function_input("FC 3.0 UpdateFunction: the fields it changes.", [], drop=("functionName",)),
    CreateFunctionRequest=_function_input(
        "FC 2.0 CreateFunction.", ["functionName", "runtime", "handler"],
        caPort={"type": "integer", "minimum": 1, "maximum": 65535}, instanceType={"type": "string"},
        instanceSoftConcurrency={"type": "integer", "minimum": 1},
    ),
    UpdateFunctionRequest=_function_input(
        "FC 2.0 UpdateFunction: the fields it changes.", [], drop=("functionName",),
        caPort={"type": "integer", "minimum": 1, "maximum": 65535}, instanceType={"type": "string"},
    ),
    CreateTriggerInput=_trigger_input("FC 3.0 CreateTrigger.", ["triggerName", "triggerType", "triggerConfig"],
                                      v3=True, create=True),
    UpdateTriggerInput=_trigger_input("FC 3.0 UpdateTrigger.", [], v3=True, create=False),
    CreateTriggerRequest=_trigger_input("FC 2.0 CreateTrigger.", ["triggerName", "triggerType", "triggerConfig"],
                                        v3=False, create=True),
    UpdateTriggerRequest=_trigger_input("FC 2.0 UpdateTrigger.", [], v3=False, create=False),
    CreateLayerVersionInput={
        "type": "object", "description": "FC 3.0 CreateLayerVersion / FC 2.0 PublishLayerVersion: the layer's zip.",
        "required": ["code"],
        "properties": {"code": _ref("InputCodeLocation"), "description": {"type": "string"},
                       "license": {"type": "string"}, "compatibleRuntime": _strings()},
    },
)

V3 = "/2023-03-30"
V2 = "/2016-08-15"
V2_FUNCTION = V2 + "/services/{service}/functions"

# The request bodies FastAPI sees as free dicts, by (method, path): FC's model for each.
BODIES: dict[tuple[str, str], str] = {
    ("post", V3 + "/functions"): "CreateFunctionInput",
    ("put", V3 + "/functions/{function_name}"): "UpdateFunctionInput",
    ("post", V2 + "/services"): "CreateServiceInput",
    ("post", V2_FUNCTION): "CreateFunctionRequest",
    ("put", V2_FUNCTION + "/{function_name}"): "UpdateFunctionRequest",
    ("post", V3 + "/functions/{function_name}/triggers"): "CreateTriggerInput",
    ("put", V3 + "/functions/{function_name}/triggers/{trigger_name}"): "UpdateTriggerInput",
    ("post", V2_FUNCTION + "/{function_name}/triggers"): "CreateTriggerRequest",
    ("put", V2_FUNCTION + "/{function_name}/triggers/{trigger_name}"): "UpdateTriggerRequest",
    ("post", V3 + "/layers/{layer_name}/versions"): "CreateLayerVersionInput",
    ("post", V2 + "/layers/{layer_name}/versions"): "CreateLayerVersionInput",
}


def _header(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


def _pattern(compiled: Any) -> str:
    return str(compiled.pattern)


REQUEST_ID = _header("x-fc-request-id", {"type": "string", "pattern": _pattern(REQUEST_ID_PATTERN)},
                     "The request id to use (made up when absent); answered back in x-fc-request-id.")
INVOCATION_TYPE = _header("x-fc-invocation-type", {"type": "string", "enum": ["Sync", "Async"]},
                          "Async: persist the invocation and answer 202.")
LOG_TYPE = _header("x-fc-log-type", {"type": "string", "enum": ["None", "Tail"]},
                   "Tail: answer the last 4 KB of the invocation's log, base64, in x-fc-log-result (sync only).")
ASYNC_DELAY = _header("x-fc-async-delay", {"type": "integer", "minimum": 0, "maximum": MAX_ASYNC_DELAY_S},
                      "Seconds to wait before running an async invocation.")
TASK_ID = _header("x-fc-async-task-id", {"type": "string", "pattern": _pattern(TASK_ID_PATTERN)},
                  "FC 3.0: run as an async task with this id.")
STATEFUL_ID = _header("x-fc-stateful-async-invocation-id", {"type": "string", "pattern": _pattern(TASK_ID_PATTERN)},
                      "FC 2.0: run as a stateful async invocation with this id.")
QUALIFIER_HEADER = _header("x-fc-qualifier", {"type": "string", "examples": ["LATEST"]},
                           "FC 2.0: the version or alias (fcemu serves LATEST only).")
AUTHORIZATION = _header(
    "Authorization", {"type": "string"},
    "FC's signature (`FC <id>:<signature>` on 2016-08-15, `ACS3-HMAC-SHA256 ...` on 2023-03-30); checked only "
    "when fcemu has access keys.",
)
QUALIFIER_QUERY = {"name": "qualifier", "in": "query", "required": False,
                   "schema": {"type": "string", "examples": ["LATEST"]}}


def _path_params(path: str) -> list[Schema]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]


_ANY_BODY = {"required": False, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}
_FC_ERROR = {"description": "FC's error: 2023-03-30 `{Code, Message, RequestId}`, 2016-08-15 "
                            "`{ErrorCode, ErrorMessage, RequestId}`."}


def _invoke(path: str, version_headers: list[Schema], query: list[Schema], summary: str) -> Schema:
    return {
        "operationId": summary.replace(" ", ""),
        "summary": summary,
        "parameters": [*_path_params(path), *query, REQUEST_ID, INVOCATION_TYPE, LOG_TYPE, ASYNC_DELAY,
                       *version_headers],
        "requestBody": {**_ANY_BODY, "description": "The event, passed to the handler as bytes."},
        "responses": {
            "200": {"description": "Sync: the handler's result; x-fc-error-type is set when it failed."},
            "202": {"description": "Async: persisted, to be run."},
            "400": _FC_ERROR, "404": _FC_ERROR, "409": _FC_ERROR, "429": _FC_ERROR,
        },
    }


def _http_trigger(path: str, method: str, version: str) -> Schema:
    return {
        "operationId": f"HttpTrigger{version}{method.capitalize()}{'Path' if '{path}' in path else ''}",
        "summary": f"HTTP trigger ({version}): {method} as FC 3.0's event to a built-in runtime's FC 3.0 function, "
                   "else forwarded to the function's server",
        "parameters": [*_path_params(path), REQUEST_ID, INVOCATION_TYPE, LOG_TYPE, ASYNC_DELAY, TASK_ID],
        "requestBody": _ANY_BODY,
        "responses": {
            "default": {"description": "The function's own answer."},
            "202": {"description": "x-fc-invocation-type Async: persisted, to be run."},
            "502": {"description": "The function failed, timed out or crashed (x-fc-error-type says which), or "
                           "returned an invalid response struct (FC error BadResponse)."},
            "400": _FC_ERROR, "404": _FC_ERROR, "405": _FC_ERROR, "429": _FC_ERROR,
        },
    }


def _plain_operations(route: Route) -> dict[str, Schema]:
    """The operations of one plain Starlette route, described by what its endpoint is."""
    path = route.path.replace(":path}", "}")
    endpoint: Callable[..., Any] = route.endpoint
    if endpoint is invoke_routes.invoke_v3:
        return {"post": _invoke(path, [TASK_ID], [QUALIFIER_QUERY], "Invoke Function")}
    if endpoint is invoke_routes.invoke_v2:
        return {"post": _invoke(path, [STATEFUL_ID, QUALIFIER_HEADER], [], "Invoke Function V2")}
    if endpoint in (http_trigger_routes.proxy_v2, http_trigger_routes.trigger_url_v3):
        version = "V2" if endpoint is http_trigger_routes.proxy_v2 else "V3"
        return {method.lower(): _http_trigger(path, method, version) for method in sorted(route.methods or ())}
    raise ValueError(f"route {route.path} is not described in emulator/api/openapi_document.py")


def build(app: FastAPI) -> Schema:
    document = get_openapi(title="fcemu", version=app.version, description=DESCRIPTION, routes=app.routes)
    document.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    paths: dict[str, dict[str, Schema]] = document["paths"]
    for (method, path), model in BODIES.items():
        operation = paths[path][method]
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(model)}}}
    for route in app.routes:
        if isinstance(route, Route) and not isinstance(route, APIRoute) and route.include_in_schema:
            paths.setdefault(route.path.replace(":path}", "}"), {}).update(_plain_operations(route))
    for path, operations in paths.items():
        if path.startswith((V2, V3)):
            for operation in operations.values():
                operation.setdefault("parameters", []).append(AUTHORIZATION)
    return document


def install(app: FastAPI) -> None:
    """Makes /_fcemu/openapi.json serve this document (built once, on its first request)."""

    def openapi() -> Schema:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
