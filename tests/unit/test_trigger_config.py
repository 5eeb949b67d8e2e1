"""FC's time-trigger expressions (pure logic), and the check that every one has a next firing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from emulator.catalog.manifest import FunctionManifest
from emulator.catalog.trigger_config import CronError, TriggerError, check_trigger, parse, topic_of_source_arn

MOMENT = datetime(2026, 11, 23, 12, 0, 7, tzinfo=UTC)


def test_every_is_aligned_on_the_epoch() -> None:
    assert parse("@every 5s").next_after(MOMENT) == datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)
    assert parse("@every 1h30m").next_after(MOMENT).timestamp() % 5400 == 0


def test_six_fields_with_seconds_in_utc() -> None:
    schedule = parse("*/20 * * * * *")
    assert schedule.next_after(MOMENT) == datetime(2026, 11, 23, 12, 0, 20, tzinfo=UTC)


def test_cron_tz_and_question_marks() -> None:
    schedule = parse("CRON_TZ=Asia/Shanghai 0 0 8 * * ?")
    assert schedule.next_after(MOMENT) == datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC)


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


@pytest.mark.parametrize("expression", [
    "0 0 0 30 2 *",  # 30 February
    "0 0 0 31 4 ?",  # 31 April
    "CRON_TZ=Asia/Shanghai 0 0 0 30 2 *",
    "@every 2000000000h",  # the first firing after the epoch is in the year 230128
    "@every 9999999999999999999999999999999999999999h",
    "@every " + "9" * 5000 + "s",  # more digits than Python reads into an int
])
def test_expressions_that_never_fire_are_refused_naming_the_expression(expression: str) -> None:
    with pytest.raises(CronError, match="no next firing before the year 10000") as raised:
        parse(expression, MOMENT)
    assert f"'{expression}'" in str(raised.value)
    with pytest.raises(TriggerError, match="no next firing"):
        check_trigger("timer", {"cronExpression": expression})


def test_the_next_firing_is_computed_from_now() -> None:
    # Fires once more before the year 10000 from 2026, but not from the last second of 9999.
    assert parse("59 59 23 31 12 *", MOMENT).expression == "59 59 23 31 12 *"
    assert parse("0 0 0 29 2 *", MOMENT).next_after(MOMENT) == datetime(2028, 2, 29, tzinfo=UTC)
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    for expression in ("59 59 23 31 12 *", "@every 1s"):
        with pytest.raises(CronError, match="no next firing"):
            parse(expression, last)
    # A long @every that still has a firing (epoch-aligned: 70,000,000 h after 1970 is in 9955).
    assert parse("@every 70000000h", MOMENT).next_after(MOMENT).year == 9955
    assert parse("@every 0001s", MOMENT).every is not None


def test_a_manifest_trigger_that_never_fires_is_refused() -> None:
    manifest = {"functionName": "f", "runtime": "python3.10", "handler": "index.handler", "triggers": [
        {"triggerName": "leap", "triggerType": "timer", "triggerConfig": {"cronExpression": "0 0 0 30 2 *"}}]}
    with pytest.raises(ValidationError, match=r"trigger 'leap': cronExpression '0 0 0 30 2 \*' has no next firing"):
        FunctionManifest.model_validate(manifest)


def test_mns_topic_configs_are_checked() -> None:
    assert check_trigger("mns_topic", {"topicName": "t"}) == {
        "topicName": "t", "filterTag": "", "notifyContentFormat": "STREAM", "notifyStrategy": "BACKOFF_RETRY",
        "enable": True}
    with pytest.raises(TriggerError, match="topicName"):
        check_trigger("mns_topic", {"notifyContentFormat": "JSON"})
    with pytest.raises(TriggerError, match="notifyContentFormat"):
        check_trigger("mns_topic", {"topicName": "t", "notifyContentFormat": "XML"})
    with pytest.raises(TriggerError, match="notifyStrategy"):
        check_trigger("mns_topic", {"topicName": "t", "notifyStrategy": "NEVER"})
    assert topic_of_source_arn("acs:mns:cn-hangzhou:123:/topics/orders") == "orders"
    assert topic_of_source_arn("acs:mns:cn-hangzhou:123:/queues/orders") is None
