"""Trigger configs (timer, http and mns_topic) and FC's time expressions: `@every 5m` (h, m, s; combinable as
1h30m), or six cron fields with seconds first, in UTC unless prefixed `CRON_TZ=<zone>`.

Pure models and checks: what a trigger may declare is part of a function's definition, so they live in the
catalog, where a manifest validates its triggers; triggers/ stores the triggers and fires them with these."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter
from pydantic import BaseModel, Field, ValidationError

EVERY = re.compile(r"^@every\s+((?:\d+[hms])+)$")
EVERY_PART = re.compile(r"(\d+)([hms])")
UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}
# Beyond this no step fits in a datetime (and the digits of `@every` are unbounded): refused before any
# arithmetic on it.
MAX_EVERY_S = int((datetime.max - datetime(1970, 1, 1)).total_seconds())
MAX_EVERY_DIGITS = len(str(MAX_EVERY_S))
# croniter gives up on an expression that matches no date within this many years (`0 0 0 30 2 *`); set here,
# not left to its default, so that such a search stays bounded whatever the version. The longest real gap
# between two firings of six fields is 8 years (29 February across a century that is not a leap year).
MAX_YEARS_BETWEEN_FIRINGS = 50


SUPPORTED_TYPES = ("timer", "http", "mns_topic")
HttpMethod = Literal["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]
HTTP_METHODS: tuple[HttpMethod, ...] = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS")


class CronError(ValueError):
    pass


class TriggerError(ValueError):
    """A trigger that cannot be used (400 InvalidArgument)."""


class TimerConfig(BaseModel):
    cronExpression: str = Field(examples=["@every 5m", "0 0 4 * * *", "CRON_TZ=Asia/Shanghai 0 30 8 * * 1-5"])
    enable: bool = True
    payload: str = ""


class HttpTriggerConfig(BaseModel):
    authType: Literal["anonymous", "function"] = "anonymous"
    methods: list[HttpMethod] = list(HTTP_METHODS)
    disableURLInternet: bool = False


class MnsTopicConfig(BaseModel):
    """FC's MNSTopicTriggerConfig; topicName names the local topic (FC takes it from the trigger's sourceArn,
    which a manifest may give instead). notifyStrategy is accepted but not emulated: a failed invocation is
    retried by the function's async config."""

    topicName: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    filterTag: str = Field(default="", max_length=16)
    notifyContentFormat: Literal["STREAM", "JSON"] = "STREAM"
    notifyStrategy: Literal["BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"] = "BACKOFF_RETRY"
    enable: bool = True


@dataclass(frozen=True)
class Schedule:
    expression: str
    every: timedelta | None = None
    cron: str | None = None
    zone: ZoneInfo | timezone = UTC

    def next_after(self, moment: datetime) -> datetime:
        """The first firing strictly after `moment` (an aware datetime), in UTC; CronError when there is none
        (a date that never comes, or one past the year 9999 that datetime ends with)."""
        try:
            return self._next_after(moment)
        except (CroniterError, ValueError, OverflowError, OSError) as error:
            raise CronError(f"cronExpression '{self.expression}' has no next firing before the year 10000"
                            ) from error

    def _next_after(self, moment: datetime) -> datetime:
        if self.every is not None:
            # Aligned on the epoch, so that every process computes the same firing times.
            step = int(self.every.total_seconds())
            slots = int(moment.timestamp()) // step + 1
            return datetime.fromtimestamp(slots * step, UTC)
        assert self.cron is not None
        local = moment.astimezone(self.zone)
        following: datetime = croniter(self.cron, local, second_at_beginning=True,
                                       max_years_between_matches=MAX_YEARS_BETWEEN_FIRINGS).get_next(datetime)
        return following.astimezone(UTC)


def parse(expression: str, now: datetime | None = None) -> Schedule:
    """A schedule that has a next firing after `now` (default: the host's now); CronError otherwise."""
    schedule = _parse(expression)
    schedule.next_after(now or datetime.now(UTC))
    return schedule


def _parse(expression: str) -> Schedule:
    text = expression.strip()
    if match := EVERY.match(text):
        parts = EVERY_PART.findall(match[1])
        # Python refuses to read an int of over 4,300 digits; far fewer already overflow every datetime.
        if any(len(number.lstrip("0")) > MAX_EVERY_DIGITS for number, _ in parts):
            raise CronError(f"cronExpression '{expression}' has no next firing before the year 10000")
        seconds = sum(int(number) * UNIT_SECONDS[unit] for number, unit in parts)
        if seconds < 1:
            raise CronError(f"cronExpression '{expression}': @every needs at least 1s")
        if seconds > MAX_EVERY_S:
            raise CronError(f"cronExpression '{expression}' has no next firing before the year 10000")
        return Schedule(expression, every=timedelta(seconds=seconds))
    zone: ZoneInfo | timezone = UTC
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


def topic_of_source_arn(arn: str | None) -> str | None:
    """The topic of FC's `acs:mns:<region>:<account>:/topics/<name>` sourceArn, as Serverless Devs writes it."""
    match = re.match(r"^acs:mns:[^:]*:[^:]*:/topics/([^/]+)(?:/messages)?/?$", arn or "")
    return match[1] if match else None


def check_trigger(trigger_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validates a trigger's type and config; returns the config with defaults filled in."""
    if trigger_type not in SUPPORTED_TYPES:
        raise TriggerError(
            f"triggerType '{trigger_type}' is not supported by fcemu (supported: {', '.join(SUPPORTED_TYPES)})")
    if trigger_type in ("http", "mns_topic"):
        model = HttpTriggerConfig if trigger_type == "http" else MnsTopicConfig
        try:
            return model.model_validate(config).model_dump()
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
