"""The legacy `fc` / `devsapp/fc` component (FC 2.0) as fc3 props: its `props` are `region`, `service`, `function`
and `triggers` (devsapp/fc's docs/zh/yaml.md). The function becomes `<service>$<function>`, FC 3.0's name for a
2.0 function, and keeps FC 2.0's HTTP contract (apiVersion 2016-08-15)."""
from __future__ import annotations

import json
from typing import Any

from emulator.catalog.manifest import FC2_API_VERSION

FC2_COMPONENTS = frozenset({"fc", "devsapp/fc"})
# function fields FC 2.0 and FC 3.0 spell alike.
# `layers` too: FC 2.0 functions take the same layer ARNs (acs:fc:<region>:<account>:layers/<name>/versions/<n>).
SAME_FIELDS = ("runtime", "handler", "description", "memorySize", "timeout", "instanceConcurrency",
               "environmentVariables", "initializer", "initializationTimeout", "instanceLifecycleConfig", "layers")
# Service and function fields that mean nothing on one machine: accepted and listed once, never used.
NOT_EMULATED_SERVICE = frozenset({"description", "internetAccess", "tracingConfig", "logConfig", "vpcConfig",
                                  "nasConfig", "ossMountConfig", "tags", "vpcBinding"})
NOT_EMULATED_FUNCTION = frozenset({"instanceType", "cpu", "diskSize", "gpuMemorySize", "customDNS",
                                   "instanceSoftConcurrency", "caPort", "customHealthCheckConfig"})
NOT_EMULATED_TOP = frozenset({"region", "customDomains"})


class LegacyError(ValueError):
    """A legacy prop fcemu cannot map; the caller adds the file, line and resource."""


def fc3_props(props: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The fc3 props (with `code` and `apiVersion`) for one legacy resource, and the not-emulated fields it uses."""
    service, function = props.get("service"), props.get("function")
    if not isinstance(service, dict) or not service.get("name"):
        raise LegacyError("service.name is required (the fc component's props are region, service, function, triggers)")
    if not isinstance(function, dict) or not function.get("name"):
        raise LegacyError("function.name is required")
    unknown = sorted(set(props) - {"service", "function", "triggers"} - NOT_EMULATED_TOP)
    if unknown:
        raise LegacyError(f"unknown prop(s) {', '.join(unknown)} for the fc component")
    ignored = [key for key in props if key in NOT_EMULATED_TOP]
    ignored += [f"service.{key}" for key in service if key in NOT_EMULATED_SERVICE]
    ignored += [f"function.{key}" for key in function if key in NOT_EMULATED_FUNCTION]
    out: dict[str, Any] = {"functionName": f"{service['name']}${function['name']}", "apiVersion": FC2_API_VERSION}
    out.update({key: function[key] for key in SAME_FIELDS if key in function})
    role = service.get("role")
    if isinstance(role, str):
        out["role"] = role
    elif role is not None:
        ignored.append("service.role")  # a role to create (name, policies): nothing to create locally
    if "ossBucket" in function or "ossKey" in function:
        raise LegacyError("function code from OSS (ossBucket/ossKey) is not supported by fcemu; give codeUri")
    if "codeUri" in function:
        out["code"] = function["codeUri"]
    if "customContainerConfig" in function:
        out["customContainerConfig"] = _container(function["customContainerConfig"])
    if "asyncConfiguration" in function:
        out["asyncInvokeConfig"] = _async(function["asyncConfiguration"])
    unmapped = sorted(set(function) - set(SAME_FIELDS) - NOT_EMULATED_FUNCTION
                      - {"name", "codeUri", "customContainerConfig", "asyncConfiguration", "service"})
    if unmapped:
        raise LegacyError(f"unknown function field(s) {', '.join(unmapped)}")
    out["triggers"] = [_trigger(index, trigger) for index, trigger in enumerate(props.get("triggers") or [])]
    return out, sorted(ignored)


def _trigger(index: int, trigger: Any) -> dict[str, Any]:
    """FC 2.0's `{name, type, config, qualifier, role, sourceArn}`: the config keys (cronExpression/enable/payload
    for timers, authType/methods for HTTP, topicName... for MNS) are the same in FC 3.0's triggerConfig."""
    if not isinstance(trigger, dict) or not trigger.get("name") or not trigger.get("type"):
        raise LegacyError(f"triggers[{index}] needs name and type")
    unknown = sorted(set(trigger) - {"name", "type", "config", "qualifier", "role", "sourceArn", "description"})
    if unknown:
        raise LegacyError(f"triggers[{index}]: unknown field(s) {', '.join(unknown)}")
    out: dict[str, Any] = {"triggerName": trigger["name"], "triggerType": trigger["type"],
                           "triggerConfig": trigger.get("config") or {}}
    for source, target in (("qualifier", "qualifier"), ("role", "invocationRole"), ("sourceArn", "sourceArn"),
                           ("description", "description")):
        if trigger.get(source) is not None:
            out[target] = trigger[source]
    return out


def _container(config: Any) -> Any:
    """FC 2.0's command and args are JSON arrays in strings; FC 3.0's entrypoint and command are lists."""
    if not isinstance(config, dict):
        return config
    out = {key: value for key, value in config.items() if key not in ("command", "args", "instanceID")}
    for source, target in (("command", "entrypoint"), ("args", "command")):
        value = config.get(source)
        if isinstance(value, str) and value.strip():
            try:
                value = json.loads(value)
            except ValueError as error:
                raise LegacyError(f"customContainerConfig.{source} must be a JSON array of strings") from error
        if value:
            out[target] = value
    if config.get("instanceID"):
        out["acrInstanceId"] = config["instanceID"]
    return out


def _async(config: Any) -> Any:
    """FC 2.0's asyncConfiguration as FC 3.0's asyncInvokeConfig (destination ARNs are passed on as they are)."""
    if not isinstance(config, dict):
        return config
    out = {key: config[key] for key in ("maxAsyncEventAgeInSeconds", "maxAsyncRetryAttempts") if key in config}
    if "statefulInvocation" in config:
        out["asyncTask"] = config["statefulInvocation"]
    destination = config.get("destination") or {}
    if destination:
        out["destinationConfig"] = {when: {"destination": arn} for when, arn in destination.items() if arn}
    return out
