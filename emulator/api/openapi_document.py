"""The OpenAPI description fcemu publishes at /_fcemu/openapi.json: every public route of both API versions.

FastAPI describes the routes it declares, with the schemas of the models they take and answer, but not the plain
Starlette ones (invoke and HTTP triggers, kept plain for speed), nor the bodies its routes take as free dicts. This
module adds both: the invoke and HTTP trigger operations with FC's `x-fc-*` request headers, and the request
bodies as FC's models (field names and types of FC's API reference and of `alibabacloud-fc20230330`'s models), so
that clients and fuzzers see what FC takes.

Generated from fcemu's pydantic models, so that they cannot drift from what fcemu validates (FCJsonSchema says
how): the FC models those models are (MODELS: the container, custom runtime and lifecycle configs, the timer and
HTTP trigger configs), and the fields of CreateFunctionInput (and of the three other function bodies) that a
function's manifest declares, with their limits. Written here, as no model declares them: FC's models fcemu takes
but does not read (code locations, log, VPC and NAS configs, tags) and the function fields holding them
(FC_ONLY_FIELDS), the bodies the routes read field by field (services, triggers, layer versions, FC 2.0's extra
function fields), the paths, operations and `x-fc-*` headers of the plain routes, and FC's error shapes.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema
from starlette.routing import Route

from emulator.api import http_trigger_routes, invoke_routes
from emulator.api.invoke_headers import MAX_ASYNC_DELAY_S, REQUEST_ID_PATTERN, TASK_ID_PATTERN
from emulator.api.json_body import FC_NAME
from emulator.catalog.aliases import ALIAS_NAME
from emulator.catalog.manifest import (
    CustomContainerConfig,
    CustomRuntimeConfig,
    FunctionManifest,
    InstanceLifecycleConfig,
    LifecycleHook,
)
from emulator.catalog.trigger_config import HttpTriggerConfig, TimerConfig

Schema = dict[str, Any]

DESCRIPTION = (
    "Function Compute's routes as fcemu serves them: FC 3.0 (`/2023-03-30`), FC 2.0 (`/2016-08-15`), HTTP "
    "triggers (`/http/{function}`, `/2016-08-15/proxy/...`, and any path of a function's own origin "
    "`http://{function}.localhost:{port}/`) and fcemu's own (`/_fcemu`). Errors carry "
    "`{Code, Message, RequestId}` on 2023-03-30 routes and `{ErrorCode, ErrorMessage, RequestId}` on 2016-08-15 "
    "routes."
)
REF_TEMPLATE = "#/components/schemas/{model}"


class FCJsonSchema(GenerateJsonSchema):
    """JSON Schema as FC's API reference gives its models: an optional field by its type alone (FC, and fcemu's
    json_body.py, take a null as an absent field); no defaults (they are a manifest's: over the API, a field an
    update leaves out keeps its value); no titles (a model is named by its key in the components, FC's name)."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        json_schema.pop("title", None)
        return json_schema

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def model_schema(model: type[BaseModel]) -> Schema:
    """A model's JSON Schema as this document holds it; the models it nests are referred to by their names."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=FCJsonSchema)
    schema.pop("$defs", None)  # each nested model is in MODELS, under its own name
    return schema


def _ref(name: str) -> Schema:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _strings() -> Schema:
    return {"type": "array", "items": {"type": "string"}}


# FC's models that fcemu's own models declare, by the names FC's SDKs give them.
MODELS: dict[str, type[BaseModel]] = {
    "CustomContainerConfig": CustomContainerConfig, "CustomRuntimeConfig": CustomRuntimeConfig,
    "LifecycleHook": LifecycleHook, "InstanceLifecycleConfig": InstanceLifecycleConfig,
    "TimerTriggerConfig": TimerConfig, "HTTPTriggerConfig": HttpTriggerConfig,
}
# Fields of a function's manifest that FC's CreateFunctionInput does not have: function.yaml's own (FC configures
# these through their own operations) and fcemu's generation marker, which the API sets itself.
MANIFEST_ONLY = ("triggers", "asyncInvokeConfig", "concurrencyConfig", "provisionConfig", "apiVersion")

# FC's models that fcemu takes but does not read: no model of fcemu's declares them.
FC_ONLY_MODELS: dict[str, Schema] = {
    "InputCodeLocation": {
        "type": "object",
        "description": "fcemu takes zipFile only (base64 of a zip); OSS locations are FC's other source.",
        "properties": {
            "zipFile": {"type": "string", "contentEncoding": "base64", "contentMediaType": "application/zip"},
            "ossBucketName": {"type": "string"}, "ossObjectName": {"type": "string"},
            "checksum": {"type": "string"},
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
    "TriggerConfig": {"anyOf": [_ref("TimerTriggerConfig"), _ref("HTTPTriggerConfig")]},
}
# CreateFunctionInput's fields that the manifest takes and ignores (its IGNORED_FC_FIELDS), with FC's types.
FC_ONLY_FIELDS: dict[str, Schema] = {
    "code": _ref("InputCodeLocation"), "cpu": {"type": "number"}, "diskSize": {"type": "integer", "enum": [512, 10240]},
    "internetAccess": {"type": "boolean"}, "logConfig": _ref("LogConfig"), "vpcConfig": _ref("VPCConfig"),
    "nasConfig": _ref("NASConfig"), "tags": {"type": "array", "items": _ref("Tag")}, "gpuConfig": {"type": "object"},
    "tracingConfig": {"type": "object"}, "ossMountConfig": {"type": "object"}, "sessionAffinity": {"type": "string"},
    "idleTimeout": {"type": "integer"}, "enableLongLiving": {"type": "boolean"},
}
# FC 2.0's CreateFunction fields beyond FC 3.0's.
_PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
FC2_FUNCTION_FIELDS: dict[str, Schema] = {"caPort": _PORT, "instanceType": {"type": "string"}}
_FC_NAME = {"type": "string", "pattern": f"^{FC_NAME.pattern}$"}


def _create_function_input() -> Schema:
    """FC 3.0's CreateFunctionInput: the manifest's fields, generated, and FC's that the manifest ignores."""
    manifest = model_schema(FunctionManifest)
    properties = {key: value for key, value in manifest["properties"].items() if key not in MANIFEST_ONLY}
    return {
        "type": "object",
        "description": "FC 3.0 CreateFunction; fcemu runs the python3.x, nodejs14-20, custom.* and custom-container "
                       "runtimes.",
        "required": manifest["required"],
        "properties": {**properties, **FC_ONLY_FIELDS},
    }


def _function_input(base: Schema, name: str, required: list[str], drop: tuple[str, ...] = (),
                    extra: dict[str, Schema] | None = None) -> Schema:
    properties = {key: value for key, value in base["properties"].items() if key not in drop}
    return {"type": "object", "description": name, "required": required,
            "properties": {**properties, **(extra or {})}}


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
            triggerName=_FC_NAME, triggerType={"type": "string", "examples": ["timer", "http"]},
            sourceArn={"type": "string"},
        )
    return {"type": "object", "description": name, "required": required, "properties": properties}


def _version_inputs() -> dict[str, Schema]:
    """PublishVersionInput and the alias bodies (FC 3.0's names; FC 2.0 takes the same fields)."""
    description = {"type": "string", "maxLength": 256}
    alias_fields: dict[str, Schema] = {
        "versionId": {"type": "string", "pattern": "^[0-9]+$", "examples": ["1"]},
        "description": description,
        "additionalVersionWeight": {
            "type": "object", "maxProperties": 1, "examples": [{"2": 0.05}],
            "description": "One version besides versionId and its share of invocations.",
            "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }
    return {
        "PublishVersionInput": {"type": "object", "properties": {"description": description}},
        "CreateAliasInput": {
            "type": "object", "required": ["aliasName", "versionId"],
            "properties": {"aliasName": {"type": "string", "pattern": f"^{ALIAS_NAME.pattern}$"}, **alias_fields},
        },
        "UpdateAliasInput": {"type": "object", "properties": alias_fields},
    }


def schemas() -> dict[str, Schema]:
    """The components this module adds to FastAPI's: FC's models, generated or written above, and the bodies."""
    create_function = _create_function_input()
    return {
        **{name: model_schema(model) for name, model in MODELS.items()},
        **FC_ONLY_MODELS,
        "CreateFunctionInput": create_function,
        "UpdateFunctionInput": _function_input(create_function, "FC 3.0 UpdateFunction: the fields it changes.", [],
                                               drop=("functionName",)),
        "CreateFunctionRequest": _function_input(
            create_function, "FC 2.0 CreateFunction.", list(create_function["required"]),
            extra={**FC2_FUNCTION_FIELDS, "instanceSoftConcurrency": {"type": "integer", "minimum": 1}},
        ),
        "UpdateFunctionRequest": _function_input(
            create_function, "FC 2.0 UpdateFunction: the fields it changes.", [], drop=("functionName",),
            extra=FC2_FUNCTION_FIELDS,
        ),
        "CreateServiceInput": {
            "type": "object",
            "description": "FC 2.0 CreateService.",
            "required": ["serviceName"],
            "properties": {
                "serviceName": _FC_NAME, "description": {"type": "string", "maxLength": 256}, "role": {"type": "string"},
                "internetAccess": {"type": "boolean"}, "logConfig": _ref("LogConfig"), "vpcConfig": _ref("VPCConfig"),
                "nasConfig": _ref("NASConfig"), "tracingConfig": {"type": "object"},
                "ossMountConfig": {"type": "object"},
            },
        },
        "CreateTriggerInput": _trigger_input("FC 3.0 CreateTrigger.", ["triggerName", "triggerType", "triggerConfig"],
                                             v3=True, create=True),
        "UpdateTriggerInput": _trigger_input("FC 3.0 UpdateTrigger.", [], v3=True, create=False),
        "CreateTriggerRequest": _trigger_input("FC 2.0 CreateTrigger.",
                                               ["triggerName", "triggerType", "triggerConfig"], v3=False, create=True),
        "UpdateTriggerRequest": _trigger_input("FC 2.0 UpdateTrigger.", [], v3=False, create=False),
        **_version_inputs(),
        "CreateLayerVersionInput": {
            "type": "object",
            "description": "FC 3.0 CreateLayerVersion / FC 2.0 PublishLayerVersion: the layer's zip.",
            "required": ["code"],
            "properties": {"code": _ref("InputCodeLocation"), "description": {"type": "string"},
                           "license": {"type": "string"}, "compatibleRuntime": _strings()},
        },
    }


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
    ("post", V3 + "/functions/{function_name}/versions"): "PublishVersionInput",
    ("post", V2 + "/services/{service}/versions"): "PublishVersionInput",
    ("post", V3 + "/functions/{function_name}/aliases"): "CreateAliasInput",
    ("post", V2 + "/services/{service}/aliases"): "CreateAliasInput",
    ("put", V3 + "/functions/{function_name}/aliases/{alias_name}"): "UpdateAliasInput",
    ("put", V2 + "/services/{service}/aliases/{alias_name}"): "UpdateAliasInput",
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
                           "FC 2.0: the service's version or alias (the path's `{service}.{qualifier}` wins).")
AUTHORIZATION = _header(
    "Authorization", {"type": "string"},
    "FC's signature (`FC <id>:<signature>` on 2016-08-15, `ACS3-HMAC-SHA256 ...` on 2023-03-30); checked only "
    "when fcemu has access keys.",
)
QUALIFIER_QUERY = {"name": "qualifier", "in": "query", "required": False,
                   "schema": {"type": "string", "examples": ["LATEST"]},
                   "description": "LATEST (the default), a published version's id or an alias."}


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
    document.setdefault("components", {}).setdefault("schemas", {}).update(schemas())
    paths: dict[str, dict[str, Schema]] = document["paths"]
    for (method, path), model in BODIES.items():
        operation = paths[path][method]
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(model)}}}
    for route in app.routes:
        if isinstance(route, Route) and not isinstance(route, APIRoute) and route.include_in_schema:
            paths.setdefault(route.path.replace(":path}", "}"), {}).update(_plain_operations(route))
    for path, operations in paths.items():
        for operation in operations.values():
            # Routes shared by both API versions read their path's names from the request, not their signature.
            named = {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "path"}
            missing = [parameter for parameter in _path_params(path) if parameter["name"] not in named]
            parameters = [*missing, *operation.get("parameters", [])]
            if path.startswith((V2, V3)):
                parameters.append(AUTHORIZATION)
            if parameters:
                operation["parameters"] = parameters
    return document


def install(app: FastAPI) -> None:
    """Makes /_fcemu/openapi.json serve this document (built once, on its first request)."""

    def openapi() -> Schema:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
