"""Provision configs (FC 3.0's PutProvisionConfig and friends): how many instances of a function's qualifier to keep
warm, kept in Redis and mirrored by every process, over the one a function's manifest declares (an fc3 s.yaml's
`provisionConfig`), which applies while none of its qualifier was put. Only the target is acted on
(pool/invocation_controls.py); the scheduled actions, target tracking policies and CPU/GPU allocation are stored
and shown as given, not emulated."""
from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from emulator.catalog.shared_hash import Listener, SharedHash
from emulator.redis_io.keys import PROVISION_CONFIGS_CHANGED_CHANNEL, PROVISION_CONFIGS_KEY
from emulator.timestamps import iso_utc

# FC's bound on a target ("Valid values: 0 to 10000").
MAX_TARGET = 10_000


class ScheduledAction(BaseModel):
    """FC's ScheduledAction: a target from a time on, on a schedule (stored, not acted on)."""

    name: str | None = None
    startTime: str | None = None
    endTime: str | None = None
    target: int | None = Field(None, ge=0, le=MAX_TARGET)
    scheduleExpression: str | None = None
    timeZone: str | None = None


class TargetTrackingPolicy(BaseModel):
    """FC's TargetTrackingPolicy: a target following a metric (stored, not acted on)."""

    name: str | None = None
    startTime: str | None = None
    endTime: str | None = None
    metricType: str | None = None
    metricTarget: float | None = None
    minCapacity: int | None = Field(None, ge=0, le=MAX_TARGET)
    maxCapacity: int | None = Field(None, ge=0, le=MAX_TARGET)
    timeZone: str | None = None


class StoredProvisionConfig(BaseModel):
    """A qualifier's provision config as put: `defaultTarget` is the target (`target`, deprecated in FC, the same
    number), kept warm; the rest is echoed."""

    defaultTarget: int = Field(ge=0, le=MAX_TARGET)
    alwaysAllocateCPU: bool = True
    alwaysAllocateGPU: bool = True
    scheduledActions: list[ScheduledAction] = Field(default_factory=list)
    targetTrackingPolicies: list[TargetTrackingPolicy] = Field(default_factory=list)
    lastModifiedTime: str = ""


def _field(function: str, qualifier: str) -> str:
    return f"{function}:{qualifier}"


def function_of(field: str) -> str:
    """The function a changed field (`<function>:<qualifier>`) is for."""
    return field.rpartition(":")[0]


# A function's declared config (its manifest's) and the qualifier it is for, or None.
Declared = Callable[[str], "tuple[str, StoredProvisionConfig] | None"]


class ProvisionConfigs:
    def __init__(self, redis: Redis, declared: Declared = lambda function: None) -> None:
        self._hash = SharedHash(redis, PROVISION_CONFIGS_KEY, PROVISION_CONFIGS_CHANGED_CHANNEL,
                                StoredProvisionConfig)
        self._declared = declared

    def on_change(self, listener: Listener) -> None:
        """`listener` is awaited with the fields (`<function>:<qualifier>`) whose config changed."""
        self._hash.on_change(listener)

    async def start(self) -> None:
        await self._hash.start()

    async def close(self) -> None:
        await self._hash.close()

    def get(self, function: str, qualifier: str) -> StoredProvisionConfig | None:
        """The qualifier's config: the one put through the API, else the manifest's."""
        stored = self._hash.get(_field(function, qualifier))
        return stored if stored is not None else self.declared(function, qualifier)

    def declared(self, function: str, qualifier: str) -> StoredProvisionConfig | None:
        """The config the function's manifest declares for this qualifier, if any."""
        found = self._declared(function)
        return found[1] if found is not None and found[0] == qualifier else None

    def target(self, function: str, qualifier: str) -> int:
        config = self.get(function, qualifier)
        return config.defaultTarget if config is not None else 0

    async def put(self, function: str, qualifier: str, config: StoredProvisionConfig) -> StoredProvisionConfig:
        stored = config.model_copy(update={"lastModifiedTime": iso_utc()})
        await self._hash.put(_field(function, qualifier), stored)
        return stored

    async def delete(self, function: str, qualifier: str) -> bool:
        """Removes the config put through the API (the manifest's, if any, applies again); False if none was."""
        return await self._hash.delete(_field(function, qualifier)) > 0

    def entries(self, functions: list[str]) -> list[tuple[str, str, StoredProvisionConfig]]:
        """(function, qualifier, config) of these functions (put, or declared), by function then qualifier."""
        wanted = set(functions)
        found = {(function_of(field), field.rpartition(":")[2]): config for field, config in self._hash.items().items()
                 if function_of(field) in wanted}
        for function in wanted:
            declared = self._declared(function)
            if declared is not None:
                found.setdefault((function, declared[0]), declared[1])  # unless one was put for its qualifier
        return [(function, qualifier, config) for (function, qualifier), config in sorted(found.items(),
                                                                                          key=lambda item: item[0])]

    async def forget(self, function: str) -> int:
        """A deleted function's configs go with it, as in FC."""
        return await self._hash.delete(*(field for field in self._hash.items() if function_of(field) == function))
