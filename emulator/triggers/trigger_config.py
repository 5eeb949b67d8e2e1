"""Trigger configs (timer and http) and FC's time expressions: `@every 5m` (h, m, s; combinable as 1h30m), or six cron fields with seconds
first, in UTC unless prefixed `CRON_TZ=<zone>`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ValidationError

EVERY = re.compile(r"^@every\s+((?:\d+[hms])+)$")
EVERY_PART = re.compile(r"(\d+)([hms])")
UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


SUPPORTED_TYPES = ("timer", "http")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS")


class CronError(ValueError):
    pass


class TriggerError(ValueError):
    """A trigger that cannot be used (400 InvalidArgument)."""


class TimerConfig(BaseModel):
    cronExpression: str
    enable: bool = True
    payload: str = ""


class HttpTriggerConfig(BaseModel):
    authType: Literal["anonymous", "function"] = "anonymous"
    methods: list[Literal["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]] = list(HTTP_METHODS)
    disableURLInternet: bool = False


@dataclass(frozen=True)
class Schedule:
    expression: str
    every: timedelta | None = None
    cron: str | None = None
    zone: ZoneInfo | timezone = timezone.utc

    def next_after(self, moment: datetime) -> datetime:
        """The first firing strictly after `moment` (an aware datetime), in UTC."""
        if self.every is not None:
            # Aligned on the epoch, so that every process computes the same firing times.
            step = self.every.total_seconds()
            slots = int(moment.timestamp() // step) + 1
            return datetime.fromtimestamp(slots * step, timezone.utc)
        assert self.cron is not None
        local = moment.astimezone(self.zone)
        following: datetime = croniter(self.cron, local, second_at_beginning=True).get_next(datetime)
        return following.astimezone(timezone.utc)


def parse(expression: str) -> Schedule:
    text = expression.strip()
    if match := EVERY.match(text):
        seconds = sum(int(n) * UNIT_SECONDS[unit] for n, unit in EVERY_PART.findall(match[1]))
        if seconds < 1:
            raise CronError(f"cronExpression '{expression}': @every needs at least 1s")
        return Schedule(expression, every=timedelta(seconds=seconds))
    zone: ZoneInfo | timezone = timezone.utc
    if text.startswith("CRON_TZ="):
        name, _, text = text[len("CRON_TZ="):].partition(" ")
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise CronError(f"cronExpression '{expression}': unknown time zone '{name}'") from error
    fields = text.split()
    if len(fields) != 6:
        raise CronError(
            f"cronExpression '{expression}' must be '@every <n>h|m|s' or six fields "
            "(seconds minutes hours day-of-month month day-of-week), optionally after CRON_TZ=<zone>"
        )
    cron = " ".join("*" if field == "?" else field for field in fields)
    if not croniter.is_valid(cron, second_at_beginning=True):
        raise CronError(f"cronExpression '{expression}' is not a valid cron expression")
    return Schedule(expression, cron=cron, zone=zone)


def check_trigger(trigger_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validates a trigger's type and config; returns the config with defaults filled in."""
    if trigger_type not in SUPPORTED_TYPES:
        raise TriggerError(f"triggerType '{trigger_type}' is not supported by fcemu (supported: timer, http)")
    if trigger_type == "http":
        try:
            return HttpTriggerConfig.model_validate(config).model_dump()
        except ValidationError as error:
            raise TriggerError(f"triggerConfig: {error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']}") from error
    try:
        timer = TimerConfig.model_validate(config)
    except ValidationError as error:
        raise TriggerError(f"triggerConfig: {error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']}") from error
    try:
        parse(timer.cronExpression)
    except CronError as error:
        raise TriggerError(str(error)) from error
    return timer.model_dump()
