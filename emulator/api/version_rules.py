"""What FC's version and alias operations check and answer, for FC 3.0's routes (per function) and FC 2.0's (per
service) alike: FC's models (Version, Alias), FC's errors, and the checks of a body before anything is stored."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from emulator.api.errors import FCError
from emulator.api.json_body import text_field
from emulator.api.numbers import whole_number
from emulator.catalog.aliases import (
    ALIAS_NAME_RULE,
    AliasExists,
    AliasMissing,
    AliasRecord,
    VersionMissing,
    valid_alias_name,
)
from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.service_versions import service_key
from emulator.catalog.versions import (
    NOT_VERSIONED,
    CodeGone,
    NoChanges,
    Snapshot,
    VersionInUse,
    VersionRecord,
    snapshot_of_files,
)
from emulator.core import Core
from emulator.timestamps import iso_utc

DESCRIPTION_MAX = 256
DIRECTIONS = ("BACKWARD", "FORWARD")
# Far beyond any version id fcemu hands out; a larger token is not one it gave.
MAX_VERSION = 2**53


@dataclass(frozen=True)
class Scope:
    """Whose versions and aliases a route manages: a function's (FC 3.0) or a service's (FC 2.0)."""

    key: str  # what the stores keep them under
    shown: str  # how messages name it
    service: str | None = None

    @classmethod
    def of_function(cls, name: str) -> Scope:
        return cls(name, f"function '{name}'")

    @classmethod
    def of_service(cls, name: str) -> Scope:
        return cls(service_key(name), f"service '{name}'", name)


class Version(BaseModel):
    """FC 3.0's Version (FC 2.0's answer adds nothing fcemu keeps)."""

    versionId: str
    description: str
    createdTime: str
    lastModifiedTime: str


class ListVersionsOutput(BaseModel):
    direction: str
    nextToken: str | None = None
    versions: list[Version]


class Alias(BaseModel):
    aliasName: str
    versionId: str
    description: str
    additionalVersionWeight: dict[str, float]
    createdTime: str
    lastModifiedTime: str


class ListAliasesOutput(BaseModel):
    aliases: list[Alias]
    nextToken: str | None = None


def version_view(version_id: str, record: VersionRecord) -> Version:
    return Version(versionId=version_id, description=record.description, createdTime=record.createdTime,
                   lastModifiedTime=record.lastModifiedTime)


def alias_view(name: str, record: AliasRecord) -> Alias:
    return Alias(aliasName=name, versionId=record.versionId, description=record.description,
                 additionalVersionWeight=record.additionalVersionWeight, createdTime=record.createdTime,
                 lastModifiedTime=record.lastModifiedTime)


def _description(body: dict[str, Any]) -> str | None:
    if "description" not in body:
        return None
    description = text_field(body, "description", default="")
    if len(description) > DESCRIPTION_MAX:
        raise FCError(400, "InvalidArgument", f"description is {len(description)} characters; at most "
                                              f"{DESCRIPTION_MAX} are allowed")
    return description


# Versions.

async def snapshot(core: Core, definition: FunctionDefinition) -> Snapshot:
    """LATEST as it is now: a deployed function's stored configuration and code, or a function's files zipped."""
    deployed = core.deployments.functions.get(definition.name)
    if deployed is None:
        return await snapshot_of_files(definition)
    spec = {key: value for key, value in deployed.spec.items() if key not in NOT_VERSIONED}
    if definition.manifest.role and not spec.get("role"):
        spec["role"] = definition.manifest.role  # its FC 2.0 service's, as it runs now
    return Snapshot(spec, deployed.codeChecksum, deployed.codeSize, deployed.functionId)


def service_functions(core: Core, service: str) -> list[FunctionDefinition]:
    """The functions of an FC 2.0 service (the default service's are those with plain names)."""
    found = []
    for definition in core.catalog.all():
        short = definition.name.partition("$")[2] if "$" in definition.name else definition.name
        if core.catalog.name_in_service(service, short) == definition.name:
            found.append(definition)
    return found


async def publish(core: Core, scope: Scope, body: dict[str, Any], definition: FunctionDefinition | None = None
                  ) -> Version:
    """Publishes a function's LATEST (`definition`), or every function of a service."""
    description = _description(body) or ""
    try:
        if scope.service is None:
            assert definition is not None
            version_id, record = await core.versions.publish(definition.name, await snapshot(core, definition),
                                                             description)
        else:
            snapshots = {d.name: await snapshot(core, d) for d in service_functions(core, scope.service)}
            version_id, record = await core.service_versions.publish(scope.service, snapshots, description)
    except NoChanges as error:
        # FC's code and message (its status is not documented; a client error is what a user expects).
        raise FCError(400, "VersionPublishError", "No changes were made since last publish") from error
    except CodeGone as error:
        raise FCError(409, "ConcurrentUpdateError", f"{scope.shown} was updated while publishing; publish again"
                      ) from error
    return version_view(version_id, record)


def list_versions(core: Core, scope: Scope, direction: str, limit: int, next_token: str | None
                  ) -> ListVersionsOutput:
    """A page of versions, newest first (BACKWARD, the default) or oldest first; the token is the version id the
    next page starts at."""
    if direction not in DIRECTIONS:
        raise FCError(400, "InvalidArgument", f"direction '{direction[:64]}' is not valid: BACKWARD or FORWARD")
    versions = core.versions.of(scope.key)
    if direction == "BACKWARD":
        versions.reverse()
    start = 0
    if next_token:
        token = whole_number(next_token, MAX_VERSION)
        if token is None:
            raise FCError(400, "InvalidArgument", "nextToken is not valid: pass the nextToken of the previous page")
        backward = direction == "BACKWARD"
        start = next((index for index, (version, _) in enumerate(versions)
                      if (int(version) <= token if backward else int(version) >= token)), len(versions))
    selected = versions[start:start + limit]
    following = versions[start + limit][0] if start + limit < len(versions) else None
    return ListVersionsOutput(direction=direction, nextToken=following,
                              versions=[version_view(version, record) for version, record in selected])


def _version_not_found(scope: Scope, version: str) -> FCError:
    return FCError(404, "VersionNotFound", f"version '{version[:64]}' of {scope.shown} does not exist")


async def delete_version(core: Core, scope: Scope, version: str) -> None:
    try:
        if scope.service is None:
            deleted = await core.versions.delete(scope.key, version)
        else:
            deleted = await core.service_versions.delete(scope.service, version)
    except VersionInUse as error:
        # FC documents no code for it: a conflict with the alias, named so.
        raise FCError(409, "VersionInUse", f"version '{version}' of {scope.shown} is used by alias '{error}': "
                                           "point the alias at another version first") from error
    if not deleted:
        raise _version_not_found(scope, version)


# Aliases.

def existing_alias(core: Core, scope: Scope, name: str) -> AliasRecord:
    record = core.versions.aliases.get(scope.key, name)
    if record is None:
        raise FCError(404, "AliasNotFound", f"alias '{name[:128]}' of {scope.shown} does not exist")
    return record


def _weights(body: dict[str, Any], version_id: str) -> dict[str, float] | None:
    """additionalVersionWeight: at most one version besides the main one, with a weight from 0 to 1."""
    if "additionalVersionWeight" not in body:
        return None
    weights = body["additionalVersionWeight"]
    if not isinstance(weights, dict):
        raise FCError(400, "InvalidArgument", "additionalVersionWeight must be an object {\"<version>\": weight}")
    if len(weights) > 1:
        raise FCError(400, "InvalidArgument", "additionalVersionWeight names at most one version")
    checked: dict[str, float] = {}
    for version, weight in weights.items():
        if whole_number(version, MAX_VERSION) is None:
            raise FCError(400, "InvalidArgument", f"additionalVersionWeight: '{version[:64]}' is not a version id")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
            raise FCError(400, "InvalidArgument", f"additionalVersionWeight: the weight of version {version} must "
                                                  "be a number from 0 to 1")
        checked[version] = float(weight)
    _no_major(checked, version_id)
    return checked


def _no_major(weights: dict[str, float], version_id: str) -> None:
    if version_id in weights:
        raise FCError(400, "AdditionalVersionContainsMajorVersion",
                      f"additionalVersionWeight {weights} should not contain major version {version_id}")


def _version_id(body: dict[str, Any], default: str | None) -> str:
    version_id = text_field(body, "versionId", default=default)
    if not version_id or whole_number(version_id, MAX_VERSION) is None:
        raise FCError(400, "InvalidArgument", f"versionId '{version_id[:64]}' is not valid: a published version's id")
    return version_id


async def _save(core: Core, scope: Scope, name: str, record: AliasRecord, *, create: bool) -> Alias:
    try:
        if scope.service is None:
            await core.versions.aliases.save(scope.key, name, record, create=create)
            await core.versions.changed()
        else:
            await core.service_versions.save_alias(scope.service, name, record, create=create)
    except AliasExists as error:
        raise FCError(409, "AliasAlreadyExists", f"alias '{name}' of {scope.shown} already exists") from error
    except AliasMissing as error:
        raise FCError(404, "AliasNotFound", f"alias '{name}' of {scope.shown} does not exist") from error
    except VersionMissing as error:
        raise _version_not_found(scope, str(error)) from error
    return alias_view(name, record)


async def create_alias(core: Core, scope: Scope, body: dict[str, Any]) -> Alias:
    name = text_field(body, "aliasName")
    if not valid_alias_name(name):
        raise FCError(400, "InvalidArgument", f"aliasName '{name[:64]}' is not valid: {ALIAS_NAME_RULE}")
    version_id = _version_id(body, None)
    now = iso_utc()
    record = AliasRecord(versionId=version_id, description=_description(body) or "",
                         additionalVersionWeight=_weights(body, version_id) or {}, createdTime=now,
                         lastModifiedTime=now)
    return await _save(core, scope, name, record, create=True)


async def update_alias(core: Core, scope: Scope, name: str, body: dict[str, Any]) -> Alias:
    """Changes the fields given; the others keep their values (an empty additionalVersionWeight ends a canary)."""
    current = existing_alias(core, scope, name)
    version_id = _version_id(body, current.versionId)
    weights = _weights(body, version_id)
    if weights is None:
        weights = current.additionalVersionWeight
        _no_major(weights, version_id)
    description = _description(body)
    record = AliasRecord(versionId=version_id, additionalVersionWeight=weights,
                         description=current.description if description is None else description,
                         createdTime=current.createdTime, lastModifiedTime=iso_utc())
    return await _save(core, scope, name, record, create=False)


async def delete_alias(core: Core, scope: Scope, name: str) -> None:
    if scope.service is None:
        deleted = await core.versions.aliases.delete(scope.key, name)
        if deleted:
            await core.versions.changed()
    else:
        deleted = await core.service_versions.delete_alias(scope.service, name)
    if not deleted:
        raise FCError(404, "AliasNotFound", f"alias '{name[:128]}' of {scope.shown} does not exist")


def alias_page(core: Core, scope: Scope, prefix: str | None, limit: int, next_token: str | None
               ) -> ListAliasesOutput:
    """A page of aliases by name; the token is the name the next page starts at."""
    aliases = [(name, record) for name, record in core.versions.aliases.of(scope.key)
               if not prefix or name.startswith(prefix)]
    start = 0 if not next_token else next((i for i, (name, _) in enumerate(aliases) if name >= next_token),
                                          len(aliases))
    selected = aliases[start:start + limit]
    following = aliases[start + limit][0] if start + limit < len(aliases) else None
    return ListAliasesOutput(aliases=[alias_view(name, record) for name, record in selected], nextToken=following)


def view_at(core: Core, name: str, view: dict[str, Any], qualifier: str | None) -> dict[str, Any]:
    """GetFunction with a qualifier: the LATEST view with the configuration and code of the version named (an
    alias's main version)."""
    if not qualifier or qualifier == "LATEST":
        return view
    version = qualifier if whole_number(qualifier, MAX_VERSION) is not None else existing_alias(
        core, Scope.of_function(name), qualifier).versionId
    record = core.versions.get(name, version)
    if record is None:
        raise _version_not_found(Scope.of_function(name), version)
    configured = {key: value for key, value in record.spec.items() if key in view and key != "functionName"}
    return {**view, **configured, "codeChecksum": record.codeChecksum or view.get("codeChecksum"),
            "codeSize": record.codeSize, "lastModifiedTime": record.createdTime, "versionId": version}
