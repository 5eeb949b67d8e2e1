"""Finding the function a route names, with FC's 404s: by FC 3.0 name, or by FC 2.0 service and name."""
from __future__ import annotations

from emulator.api.errors import FCError
from emulator.catalog.aliases import LATEST
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.versions import QualifierNotFound, Resolved
from emulator.core import Core


def check_qualifier(core: Core, function: str, qualifier: str | None) -> str:
    """The qualifier a route names (LATEST when none), if the function has it: LATEST, a published version or an
    alias; else FC's 404."""
    if qualifier in (None, "", LATEST):
        return LATEST
    if qualifier.isascii() and qualifier.isdigit():
        if core.versions.get(function, qualifier) is None:
            raise FCError(404, "VersionNotFound", f"version '{qualifier}' of function '{function}' does not exist")
    elif core.versions.aliases.get(function, qualifier) is None:
        raise FCError(404, "AliasNotFound", f"alias '{qualifier}' of function '{function}' does not exist")
    return qualifier


def alias_or_latest(core: Core, function: str, qualifier: str | None) -> str:
    """The qualifier of a provision config: LATEST or an alias the function has (FC: "The function alias or
    LATEST"); FC's 404 for one it does not have, 400 for a version id."""
    checked = check_qualifier(core, function, qualifier)
    if checked.isascii() and checked.isdigit():
        raise FCError(400, "InvalidArgument",
                      f"qualifier '{checked}' is a version: a provision config is an alias's or LATEST's, as in FC")
    return checked


async def qualified(core: Core, definition: FunctionDefinition, qualifier: str | None) -> Resolved:
    """What an invocation with this qualifier runs (an alias's version drawn now), or FC's 404."""
    try:
        return await core.versions.resolve(definition, qualifier)
    except QualifierNotFound as error:
        raise FCError(404, error.code, str(error)) from error


def not_active(core: Core, name: str, shown_as: str) -> FCError | None:
    """FC's error for a function that exists but is not served (a deployed one in state Failed), else None."""
    reason = core.deployments.failures.get(name)
    if reason is None:
        return None
    return FCError(412, "FunctionNotActive",
                   f"function '{shown_as}' is in state Failed ({reason}); update its code or delete it")


def check_invocable(core: Core, definition: FunctionDefinition, shown_as: str) -> None:
    """FC's error for a function whose invocation is disabled (DisableFunctionInvocation). FC documents no code
    for it: fcemu answers 412 (the function exists, its state refuses the call) `FunctionInvocationDisabled`."""
    restriction = core.controls.restrictions.get(definition.name)
    if restriction is not None and restriction.disable:
        because = f": {restriction.reason}" if restriction.reason else ""
        raise FCError(412, "FunctionInvocationDisabled", f"invocation of function '{shown_as}' is disabled{because}")


def function_v3(core: Core, name: str) -> FunctionDefinition:
    definition = core.catalog.get(name)
    if definition is None:
        raise not_active(core, name, name) or FCError(404, "FunctionNotFound", f"function '{name}' does not exist")
    return definition


def service_v2(core: Core, service: str) -> tuple[str, str]:
    """The service name and qualifier of a 2.0 route's `{service}[.{qualifier}]`."""
    service_name, _, qualifier = service.partition(".")
    if not core.catalog.has_service(service_name):
        raise FCError(404, "ServiceNotFound", f"service '{service_name}' does not exist")
    return service_name, qualifier


def function_v2(core: Core, service: str, name: str) -> tuple[str, FunctionDefinition]:
    """The service name and the function of a 2.0 route."""
    service_name, _ = service_v2(core, service)
    definition = core.catalog.get_in_service(service_name, name)
    if definition is None:
        raise not_active(core, core.catalog.name_in_service(service_name, name), name) or FCError(
            404, "FunctionNotFound", f"function '{name}' does not exist in service '{service_name}'")
    return service_name, definition
