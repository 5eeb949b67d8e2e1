"""How many instances each function, and every function together, may have in this process: FC's limits.

FC counts concurrency in instances: a function's `reservedConcurrency` (PutConcurrencyConfig, else its manifest's
`concurrencyConfig`) caps its instances, and the account-wide limit (FCEMU_ACCOUNT_INSTANCE_LIMIT) caps all of
them (idle instances count, but one of another function is removed to make room rather than throttle an invoke:
FC keeps no invoke waiting on an idle instance). An invoke past either is refused at once with FC's 429
ResourceThrottled. A function with no reserved
concurrency is also held to fcemu's own FCEMU_MAX_INSTANCES_PER_FUNCTION, which, not being FC's, makes an invoke
wait for a slot instead.

One FunctionLimit per function is shared by all the function's pools (one per version), counting their
instances, starting ones included, until each is removed.
"""
from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Protocol

from emulator.catalog.loader import FunctionDefinition

log = logging.getLogger(__name__)

THROTTLED_MESSAGE = "Reserve resource exceeded limit"


class Throttled(Exception):
    """Past FC's limit: FC answers 429 ResourceThrottled, "Reserve resource exceeded limit"."""


class Verdict(enum.Enum):
    START = "start"  # a new instance may start
    WAIT = "wait"  # fcemu's own cap: wait for a slot
    THROTTLED = "throttled"  # FC's limit: refuse


class Member(Protocol):
    """A pool of the function, as its limit sees it."""

    def wake(self) -> None:
        """A slot or instance of the function may have freed up, or its limit changed."""

    def idle_count(self) -> int:
        """How many of its instances are idle and may be removed (beyond its minimum)."""

    def busy_count(self) -> int:
        """How many of its instances run an invocation now."""

    def reclaim_idle(self) -> bool:
        """Removes one idle instance now, to make room for another function's; False when it has none."""


class FunctionLimit:
    def __init__(self, limits: InstanceLimits, name: str) -> None:
        self._limits = limits
        self.name = name
        self.instances = 0
        self.pools: list[Member] = []

    def join(self, pool: Member) -> None:
        self.pools.append(pool)

    def leave(self, pool: Member) -> None:
        if pool in self.pools:
            self.pools.remove(pool)

    def most(self, definition: FunctionDefinition) -> tuple[int, bool]:
        """The most instances the function may have, and whether that is FC's limit (else fcemu's own)."""
        reserved = self._limits.reserved(definition)
        return (self._limits.default_most, False) if reserved is None else (reserved, True)

    def verdict(self, definition: FunctionDefinition, *, make_room: bool = False) -> Verdict:
        """Whether an instance may start now; with `make_room`, an idle instance of another function is removed
        when that is what the account's limit asks."""
        most, fc_limit = self.most(definition)
        # At the limit exactly, one idle instance going makes room for one; past it (lowered, or 0), none does.
        if self.instances >= most and not (self.instances == most > 0 and self._make_way(make_room)):
            return Verdict.THROTTLED if fc_limit else Verdict.WAIT
        limits = self._limits
        if limits.instances < limits.account_limit:
            return Verdict.START
        room = limits.reclaim_idle(self.name) if make_room else limits.idle(self.name) > 0
        return Verdict.START if room else Verdict.THROTTLED

    def _make_way(self, now: bool) -> bool:
        """Whether an idle instance of one of the function's pools (another version's: the asking pool has none idle,
        or it would have used it) can go for a new one; with `now`, one goes."""
        if now:
            return any(pool.reclaim_idle() for pool in self.pools)
        return any(pool.idle_count() for pool in self.pools)

    def admits_warm(self, definition: FunctionDefinition) -> bool:
        """Whether a warm instance with a free slot may take an invocation: not when the function has more
        instances than its limit now allows (it was lowered, or is 0) and as many of them are busy already."""
        most, fc_limit = self.most(definition)
        if self.instances <= most or not fc_limit:
            return True  # the usual case, without counting
        return sum(pool.busy_count() for pool in self.pools) < most

    def room(self, definition: FunctionDefinition) -> int:
        """How many more instances may start now (idle ones of other functions would make way)."""
        most, _ = self.most(definition)
        limits = self._limits
        account_room = limits.account_limit - limits.instances
        if account_room < most - self.instances:
            account_room += limits.idle(self.name)
        return max(0, min(most - self.instances, account_room))

    def capacity(self, definition: FunctionDefinition) -> int:
        """How many invocations of the function may run at once now (its instances and the room for more)."""
        most, _ = self.most(definition)
        return min(self.instances + self.room(definition), most) * definition.manifest.instanceConcurrency

    def throttled(self, definition: FunctionDefinition) -> bool:
        """True when FC's limits, not fcemu's own, keep the function from another instance now."""
        return self.verdict(definition) is Verdict.THROTTLED

    def error(self, definition: FunctionDefinition) -> Throttled:
        most, fc_limit = self.most(definition)
        if fc_limit and most == 0:
            why = f"function '{self.name}' has a reserved concurrency of 0: it runs nothing until that is raised"
        elif fc_limit and self.instances >= most:
            why = f"function '{self.name}' has its reserved concurrency of {most} instance(s) in use"
        else:
            why = f"the account's {self._limits.account_limit} instance(s) are in use (FCEMU_ACCOUNT_INSTANCE_LIMIT)"
        return Throttled(f"{THROTTLED_MESSAGE}: {why}")

    def started(self) -> None:
        """An instance begins to start (counted until gone() says it was removed or failed to start)."""
        self.instances += 1
        self._limits.instances += 1

    def gone(self) -> None:
        self.instances -= 1
        self._limits.instances -= 1
        self.freed()
        self._limits.freed(None)  # another function may have been held by the account-wide limit

    def freed(self) -> None:
        """A slot of the function freed up: its other pools and the dispatcher may use it."""
        for pool in self.pools:
            pool.wake()
        self._limits.freed(self.name)


class InstanceLimits:
    """Every function's limit in this process, and the account-wide count."""

    def __init__(self, account_limit: int, default_most: int,
                 reserved: Callable[[FunctionDefinition], int | None] = lambda definition: None) -> None:
        self.account_limit = account_limit
        self.default_most = default_most
        self.reserved = reserved
        self.instances = 0
        self._functions: dict[str, FunctionLimit] = {}
        self._listeners: list[Callable[[str | None], None]] = []

    def for_function(self, name: str) -> FunctionLimit:
        limit = self._functions.get(name)
        if limit is None:
            limit = self._functions[name] = FunctionLimit(self, name)
        return limit

    def on_freed(self, callback: Callable[[str | None], None]) -> None:
        """`callback(function)` runs when a slot of that function frees up; with None, when any function may
        run more (an instance went, or a limit changed)."""
        self._listeners.append(callback)

    def idle(self, excluding: str) -> int:
        """How many idle instances other functions than `excluding` have that could make way."""
        return sum(pool.idle_count() for name, limit in self._functions.items() if name != excluding
                   for pool in limit.pools)

    def reclaim_idle(self, excluding: str) -> bool:
        """Removes one idle instance of another function than `excluding`; False when none has one."""
        for name, limit in self._functions.items():
            if name != excluding and any(pool.reclaim_idle() for pool in limit.pools):
                return True
        return False

    def freed(self, function: str | None) -> None:
        for callback in self._listeners:
            callback(function)

    def changed(self) -> None:
        """A reserved concurrency changed: waiting pools look again, and so does the dispatcher."""
        for limit in self._functions.values():
            for pool in limit.pools:
                pool.wake()
        self.freed(None)
