"""Fires time triggers: sleeps until the next firing (on Redis's clock), then enqueues an async invocation
with FC's event. Every dispatcher runs one; the task id is the trigger and the firing second, so when several
fire the same slot the queue keeps one and the function runs once."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.dispatcher.redis_clock import RedisClock
from emulator.queue.resilience import wait_for_event
from emulator.queue.store import TaskStore
from emulator.queue.submit import submit_invocation
from emulator.timestamps import iso_utc
from emulator.triggers.definitions import StoredTrigger, Triggers
from emulator.triggers.trigger_config import Schedule, parse

log = logging.getLogger(__name__)


def timer_event(trigger: StoredTrigger, fired_at: datetime) -> bytes:
    return json.dumps({
        "triggerTime": iso_utc(fired_at),
        "triggerName": trigger.triggerName,
        "payload": trigger.triggerConfig.get("payload", ""),
    }).encode()


class TimerScheduler:
    def __init__(self, triggers: Triggers, catalog: Catalog, store: TaskStore, async_configs: AsyncConfigs,
                 clock: RedisClock) -> None:
        self._triggers = triggers
        self._catalog = catalog
        self._store = store
        self._async_configs = async_configs
        self._clock = clock
        self._closing = False
        # (function, trigger) -> (its expression, its next firing)
        self._next: dict[tuple[str, str], tuple[str, datetime]] = {}

    def close(self) -> None:
        self._closing = True
        self._triggers.changed.set()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now_ms() / 1000, timezone.utc)

    async def run(self) -> None:
        while not self._closing:
            self._triggers.changed.clear()
            now = self._now()
            active: dict[tuple[str, str], tuple[StoredTrigger, Schedule]] = {}
            for entry in self._triggers.entries():
                trigger = entry.trigger
                if trigger.triggerType == "timer" and trigger.triggerConfig.get("enable", True):
                    active[(trigger.functionName, trigger.triggerName)] = (
                        trigger, parse(trigger.triggerConfig["cronExpression"]))
            for key in list(self._next):
                if key not in active or self._next[key][0] != active[key][1].expression:
                    del self._next[key]
            for key, (trigger, schedule) in active.items():
                if key not in self._next:
                    # Firings missed while no dispatcher ran are skipped: the next one is after now.
                    self._next[key] = (schedule.expression, schedule.next_after(now))
                expression, at = self._next[key]
                if at <= now:
                    await self._fire(trigger, at)
                    self._next[key] = (expression, schedule.next_after(max(at, now)))
            earliest = min((at for _, at in self._next.values()), default=None)
            timeout = None if earliest is None else max(0.0, (earliest - self._now()).total_seconds())
            await wait_for_event(self._triggers.changed, timeout)

    async def _fire(self, trigger: StoredTrigger, at: datetime) -> None:
        definition = self._catalog.get(trigger.functionName)
        if definition is None:
            return
        config = self._async_configs.effective(definition)
        task_id = f"timer-{trigger.triggerName}-{int(at.timestamp())}"
        accepted = await submit_invocation(
            self._store, definition, config, task_id=task_id, request_id=task_id,
            payload=timer_event(trigger, at), delay_ms=0, task_mode=config.asyncTask,
        )
        if accepted.created:
            log.info("trigger %s of %s fired for %s", trigger.triggerName, trigger.functionName, at.isoformat())
