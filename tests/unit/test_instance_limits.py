"""FC's instance limits as the pools ask them (emulator/pool/concurrency.py): a function's reserved concurrency,
fcemu's default cap, the account's limit and the idle instances that make way. No Docker, no Redis."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from emulator.pool.concurrency import InstanceLimits, Verdict


class FakePool:
    def __init__(self, idle: int = 0, busy: int = 0) -> None:
        self.idle, self.busy, self.woken = idle, busy, 0

    def wake(self) -> None:
        self.woken += 1

    def idle_count(self) -> int:
        return self.idle

    def busy_count(self) -> int:
        return self.busy

    def reclaim_idle(self) -> bool:
        return self.idle > 0


def definition(name: str, concurrency: int = 1) -> Any:
    return SimpleNamespace(name=name, manifest=SimpleNamespace(instanceConcurrency=concurrency))


def limits(reserved: dict[str, int], account: int = 10, default: int = 4) -> InstanceLimits:
    return InstanceLimits(account, default, lambda d: reserved.get(d.name))


def test_a_reserved_concurrency_throttles_and_the_default_cap_waits() -> None:
    shared = limits({"capped": 1})
    capped, free = shared.for_function("capped"), shared.for_function("free")
    assert capped.verdict(definition("capped")) is Verdict.START
    capped.started()
    assert capped.verdict(definition("capped")) is Verdict.THROTTLED
    assert "reserved concurrency of 1" in str(capped.error(definition("capped")))
    for _ in range(4):
        free.started()
    assert free.verdict(definition("free")) is Verdict.WAIT  # fcemu's own cap: not FC's throttling
    capped.gone()
    assert capped.verdict(definition("capped")) is Verdict.START


def test_zero_runs_nothing_and_capacity_follows_the_limit() -> None:
    shared = limits({"stopped": 0, "wide": 3})
    stopped = shared.for_function("stopped")
    assert stopped.verdict(definition("stopped")) is Verdict.THROTTLED
    assert stopped.capacity(definition("stopped")) == 0
    assert "reserved concurrency of 0" in str(stopped.error(definition("stopped")))
    assert shared.for_function("wide").capacity(definition("wide", concurrency=2)) == 6


def test_a_lowered_limit_stops_warm_instances_once_enough_are_busy() -> None:
    reserved = {"f": 2}
    shared = limits(reserved)
    limit = shared.for_function("f")
    pool = FakePool(busy=1)
    limit.join(pool)
    limit.started()
    limit.started()
    reserved["f"] = 1
    assert not limit.admits_warm(definition("f"))
    pool.busy = 0
    assert limit.admits_warm(definition("f"))


def test_the_account_limit_counts_every_function_and_idle_ones_make_way() -> None:
    shared = limits({}, account=2)
    first, second = shared.for_function("a"), shared.for_function("b")
    first.started()
    first.started()
    assert second.verdict(definition("b")) is Verdict.THROTTLED
    assert "FCEMU_ACCOUNT_INSTANCE_LIMIT" in str(second.error(definition("b")))
    assert second.room(definition("b")) == 0
    idle = FakePool(idle=1)
    first.join(idle)
    assert second.room(definition("b")) == 1
    assert second.verdict(definition("b"), make_room=True) is Verdict.START


def test_a_freed_slot_wakes_the_function_s_pools_and_the_listeners() -> None:
    shared = limits({})
    heard: list[str | None] = []
    shared.on_freed(heard.append)
    limit = shared.for_function("f")
    pool = FakePool()
    limit.join(pool)
    limit.started()
    limit.freed()
    limit.gone()
    assert heard == ["f", "f", None]
    assert pool.woken == 2
    shared.changed()
    assert pool.woken == 3 and heard[-1] is None
