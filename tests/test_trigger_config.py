"""FC's time-trigger expressions (pure logic)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emulator.triggers.trigger_config import CronError, TriggerError, check_trigger, parse

MOMENT = datetime(2026, 11, 23, 12, 0, 7, tzinfo=timezone.utc)


def test_every_is_aligned_on_the_epoch() -> None:
    assert parse("@every 5s").next_after(MOMENT) == datetime(2026, 11, 23, 12, 0, 10, tzinfo=timezone.utc)
    assert parse("@every 1h30m").next_after(MOMENT).timestamp() % 5400 == 0


def test_six_fields_with_seconds_in_utc() -> None:
    schedule = parse("*/20 * * * * *")
    assert schedule.next_after(MOMENT) == datetime(2026, 11, 23, 12, 0, 20, tzinfo=timezone.utc)


def test_cron_tz_and_question_marks() -> None:
    schedule = parse("CRON_TZ=Asia/Shanghai 0 0 8 * * ?")
    assert schedule.next_after(MOMENT) == datetime(2026, 11, 24, 0, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("expression", ["@every 0s", "@every soon", "0 * * * *", "CRON_TZ=Mars/Base 0 0 8 * * *",
                                        "61 * * * * *"])
def test_bad_expressions(expression: str) -> None:
    with pytest.raises(CronError):
        parse(expression)


def test_trigger_configs_are_checked() -> None:
    assert check_trigger("timer", {"cronExpression": "@every 1m"}) == {
        "cronExpression": "@every 1m", "enable": True, "payload": ""}
    with pytest.raises(TriggerError, match="not supported"):
        check_trigger("oss", {})
    assert check_trigger("http", {"methods": ["GET"]})["authType"] == "anonymous"
    with pytest.raises(TriggerError, match="methods"):
        check_trigger("http", {"methods": ["FETCH"]})
    with pytest.raises(TriggerError, match="cronExpression"):
        check_trigger("timer", {"enable": True})
