"""Aliases of functions (FC's CreateAlias...): a name for a published version, with optionally one more version
and its share of the traffic (a canary). Kept in Redis beside the versions; the version an invocation runs is
drawn here, per invocation."""
from __future__ import annotations

import random
import re

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from emulator.redis_io.keys import ALIASES_KEY, VERSIONS_KEY
from emulator.redis_io.lua import load_script
from emulator.redis_io.replies import reply

LATEST = "LATEST"
# FC 2.0's documented rule (FC 3.0 states none): 1 to 128 letters, digits, '_' or '-', not starting with a digit
# or '_', and not LATEST.
ALIAS_NAME = re.compile(r"[A-Za-z-][A-Za-z0-9_-]{0,127}")
ALIAS_NAME_RULE = "1 to 128 letters, digits, '_' or '-', not starting with a digit or '_', and not LATEST"


class AliasRecord(BaseModel):
    """What Redis holds for one alias (its name is the field's)."""

    versionId: str
    description: str = ""
    # At most one version besides versionId, and its share of invocations (0 to 1).
    additionalVersionWeight: dict[str, float] = Field(default_factory=dict)
    createdTime: str
    lastModifiedTime: str

    def versions(self) -> list[str]:
        """Every version the alias names."""
        return [self.versionId, *self.additionalVersionWeight]

    def pick(self, draw: float | None = None) -> str:
        """The version one invocation runs: the additional one with its weight's probability, else the main one."""
        draw = random.random() if draw is None else draw
        for version, weight in self.additionalVersionWeight.items():
            if draw < weight:
                return version
        return self.versionId


class AliasExists(Exception):
    """CreateAlias of a name the function already has."""


class AliasMissing(Exception):
    """UpdateAlias of a name the function does not have."""


class VersionMissing(Exception):
    """An alias names a version the function does not have; the message is the version."""


def _field(function: str, alias: str) -> str:
    return f"{function}/{alias}"


def valid_alias_name(name: str) -> bool:
    return name != LATEST and ALIAS_NAME.fullmatch(name) is not None


class Aliases:
    """The aliases of every function, as Redis holds them, with this process's copy for the invocations' draw
    (re-read by Versions on every change message)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        # Function -> alias name -> record.
        self.records: dict[str, dict[str, AliasRecord]] = {}
        self._save = load_script(redis, __file__, "save_alias")

    def load(self, stored: dict[str, bytes]) -> None:
        """Takes the aliases hash as read (field -> JSON); an unreadable record is left out."""
        records: dict[str, dict[str, AliasRecord]] = {}
        for field, raw in stored.items():
            function, _, name = field.partition("/")
            try:
                records.setdefault(function, {})[name] = AliasRecord.model_validate_json(raw)
            except ValueError:
                continue
        self.records = records

    def get(self, function: str, name: str) -> AliasRecord | None:
        return self.records.get(function, {}).get(name)

    def of(self, function: str) -> list[tuple[str, AliasRecord]]:
        """A function's aliases by name."""
        return sorted(self.records.get(function, {}).items())

    async def save(self, function: str, name: str, record: AliasRecord, *, create: bool) -> None:
        """Stores an alias if every version it names exists; raises AliasExists (create), AliasMissing (update) or
        VersionMissing."""
        answer = await self._save(keys=[ALIASES_KEY, VERSIONS_KEY],
                                  args=[function, name, record.model_dump_json(), "1" if create else "0",
                                        *record.versions()])
        code = int(answer[0])
        if code == -1:
            raise AliasExists(name)
        if code == -2:
            raise AliasMissing(name)
        if code == -3:
            missing = answer[1]
            raise VersionMissing(missing.decode() if isinstance(missing, bytes) else str(missing))
        self.records.setdefault(function, {})[name] = record

    async def delete(self, function: str, name: str) -> bool:
        removed = bool(await reply(self._redis.hdel(ALIASES_KEY, _field(function, name))))
        self.records.get(function, {}).pop(name, None)
        return removed

    def forget(self, function: str) -> None:
        self.records.pop(function, None)
