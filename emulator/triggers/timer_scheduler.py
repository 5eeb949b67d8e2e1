"""Fires time triggers: sleeps until the next firing (on Redis's clock, re-read on every wake), then enqueues
an async invocation with FC's event. Every dispatcher runs one; the task id is the trigger and the firing
second, so when several fire the same slot the queue keeps one and the function runs once."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.exceptions import RedisError

from emulator.catalog.aliases import LATEST
from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.catalog.trigger_config import CronError, Schedule, parse
from emulator.queue.redis_clock import RedisClock
from emulator.queue.store import Enqueued, TaskStore
from emulator.queue.submit import submit_invocation
from emulator.queue.task_policy import TaskPolicy
from emulator.redis_io.resilience import wait_for_event
from emulator.timestamps import iso_utc
from emulator.triggers.definitions import StoredTrigger, Triggers

log = logging.getLogger(__name__)


def timer_event(trigger: StoredTrigger, fired_at: datetime) -> bytes:
    return json.dumps({
        "triggerTime": iso_utc(fired_at),
        "triggerName": trigger.triggerName,
        "payload": trigger.triggerConfig.get("payload", ""),
    }).encode()


async def fire_timer(
    store: TaskStore, policy: TaskPolicy, trigger: StoredTrigger, at: datetime, *, task_id: str, note: str = "",
    task_mode: bool | None = None,
) -> Enqueued:
    """Enqueues one firing of a timer trigger, as scheduled or asked for by hand (`fcemu trigger fire`), through
    the trigger's qualifier (`policy`: that qualifier's)."""
    return await submit_invocation(
        store, policy, task_id=task_id, request_id=task_id, payload=timer_event(trigger, at), delay_ms=0,
        task_mode=policy.async_task if task_mode is None else task_mode, kind="timer", note=note,
        qualifier=trigger.qualifier,
    )


# The longest the scheduler sleeps without re-reading Redis's clock: a forward step of that clock is seen
# within this, as the dispatcher sees it within its reaper's tick.
CLOCK_CHECK_INTERVAL_S = 1.0


@dataclass
class _Planned:
    expression: str
    schedule: Schedule
    at: datetime  # the next firing


class TimerScheduler:
    def __init__(self, triggers: Triggers, catalog: Catalog, store: TaskStore, async_configs: AsyncConfigs,
                 clock: RedisClock, on_planned: Callable[[Mapping[str, int]], None] | None = None,
                 disabled: Callable[[str], bool] = lambda function: False) -> None:
        # Told each function's next firing (ms on the advanced clock) whenever the plan is made: the pre-start.
        self._on_planned = on_planned
        # Whether a function's invocation is disabled now: its timers' firings are skipped, as FC's trigger would
        # be refused (rather than queued to run all at once when it is enabled again).
        self._disabled = disabled
        self._triggers = triggers
        self._catalog = catalog
        self._store = store
        self._async_configs = async_configs
        self._clock = clock
        self._closing = False
        self._next: dict[tuple[str, str], _Planned] = {}
        # Triggers whose expression has no next firing (stored before it was checked, or past its last one),
        # with that expression: logged once and skipped until the trigger changes.
        self._broken: dict[tuple[str, str], str] = {}
        # An advance of the clock may bring the next firing: plan again at once.
        store.clock.on_change(triggers.changed.set)

    def close(self) -> None:
        self._closing = True
        self._triggers.changed.set()

    def _now(self) -> datetime:
        # Timers run on the advanced clock: an advance past firings fires once, for the first of them.
        return datetime.fromtimestamp(self._clock.virtual_now_ms() / 1000, UTC)

    def _active(self) -> dict[tuple[str, str], StoredTrigger]:
        return {
            (entry.trigger.functionName, entry.trigger.triggerName): entry.trigger
            for entry in self._triggers.entries()
            if entry.trigger.triggerType == "timer" and entry.trigger.triggerConfig.get("enable", True)
        }

    async def run(self) -> None:
        while not self._closing:
            self._triggers.changed.clear()
            # The anchor may predate a forward step of Redis's clock, which would hold every firing back.
            await self._clock.sync(self._store.redis)
            now = self._now()
            active = self._active()
            for key in list(self._next):
                if key not in active or self._next[key].expression != _expression(active[key]):
                    del self._next[key]
            for key in list(self._broken):
                if key not in active or self._broken[key] != _expression(active[key]):
                    del self._broken[key]
            for key, trigger in active.items():
                if key not in self._broken:
                    await self._advance(key, trigger, now)
            if self._on_planned is not None:
                self._on_planned(self._next_firings(active))
            earliest = min((planned.at for planned in self._next.values()), default=None)
            timeout = None if earliest is None else min(
                CLOCK_CHECK_INTERVAL_S, max(0.0, (earliest - self._now()).total_seconds()))
            await wait_for_event(self._triggers.changed, timeout)

    def _next_firings(self, active: Mapping[tuple[str, str], StoredTrigger]) -> dict[str, int]:
        """When each function's timers fire next, for pre-start: LATEST's only, since pre-start warms LATEST's
        pool (a timer on a version or an alias starts its instance when it fires)."""
        firings: dict[str, int] = {}
        for key, planned in self._next.items():
            trigger = active.get(key)
            if trigger is not None and trigger.qualifier not in ("", LATEST):
                continue
            function = key[0]
            at = int(planned.at.timestamp() * 1000)
            firings[function] = min(at, firings.get(function, at))
        return firings

    async def _advance(self, key: tuple[str, str], trigger: StoredTrigger, now: datetime) -> None:
        """Fires the trigger if its time has come and plans its next firing. One trigger's error never stops
        the others: a schedule that cannot go on is set aside; a firing that fails (other than by Redis
        being unreachable, which the loop waits out and then fires it) is logged and skipped."""
        planned = self._next.get(key)
        try:
            if planned is None:
                schedule = parse(_expression(trigger), now)
                # Firings missed while no dispatcher ran are skipped: the next one is after now.
                planned = self._next[key] = _Planned(schedule.expression, schedule, schedule.next_after(now))
                log.info("trigger %s of %s: next firing at %s", trigger.triggerName, trigger.functionName,
                         planned.at.isoformat())
            if planned.at > now:
                return
            try:
                await self._fire(trigger, planned.at)
            except RedisError:
                raise
            except Exception:
                log.exception("trigger %s of %s failed to fire for %s; skipped", trigger.triggerName,
                              trigger.functionName, planned.at.isoformat())
            planned.at = planned.schedule.next_after(max(planned.at, now))
        except RedisError:
            raise
        except Exception as error:
            self._next.pop(key, None)
            self._broken[key] = _expression(trigger)
            log.error("timer trigger %s of %s is skipped until it is changed: %s", trigger.triggerName,
                      trigger.functionName, error, exc_info=not isinstance(error, CronError))

    async def _fire(self, trigger: StoredTrigger, at: datetime) -> None:
        definition = self._catalog.get(trigger.functionName)
        if definition is None:
            return
        if self._disabled(definition.name):
            log.info("trigger %s of %s not fired for %s: the function's invocation is disabled", trigger.triggerName,
                     trigger.functionName, at.isoformat())
            return
        task_id = f"timer-{trigger.triggerName}-{int(at.timestamp())}"
        policy = self._async_configs.task_policy(definition, trigger.qualifier)
        accepted = await fire_timer(self._store, policy, trigger, at, task_id=task_id)
        if accepted.created:
            log.info("trigger %s of %s fired for %s", trigger.triggerName, trigger.functionName, at.isoformat())


def _expression(trigger: StoredTrigger) -> str:
    return str(trigger.triggerConfig.get("cronExpression", ""))
