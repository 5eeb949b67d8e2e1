"""/_fcemu/metrics against a real emulator, Redis and Docker: counters of what ran, gauges of what waits."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher

V3 = "/2023-03-30"
DEAD_LETTERS = "acs:mns:cn-hangzhou:1234567890123456:/queues/{}/messages"


def scrape(emulator: EmulatorProcess) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, by name and labels."""
    reply = requests.get(f"{emulator.url}/_fcemu/metrics", timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(reply.text) for sample in family.samples}


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture()
def own_emulator(functions_dir: Path, tmp_path: Path, own_redis: RedisServer) -> Iterator[EmulatorProcess]:
    """An emulator and Redis of the test's own, so that every count is this test's. A retry waits an hour:
    a failed first attempt stays Retrying while the test looks."""
    process = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url,
                              retry_base_delay_s="3600").start()
    yield process
    process.stop()


def test_metrics_count_invocations_and_show_the_queue(own_emulator: EmulatorProcess, own_redis: RedisServer) -> None:
    emulator = own_emulator
    watcher = TaskWatcher(own_redis.url)
    http = requests.Session()
    try:
        # Before anything ran: the exposition parses, and has no sample of any function yet.
        assert value(scrape(emulator), "fcemu_invocations_total", function="echo", kind="sync",
                     outcome="success") is None

        # A sync invoke: a cold start, a success, a duration, an idle instance afterwards.
        reply = http.post(f"{emulator.url}{V3}/functions/echo/invocations", data=b'"hi"')
        assert reply.status_code == 200 and "x-fc-error-type" not in reply.headers, reply.text

        # An async invoke that fails for good (no retry) and goes to a dead-letter queue.
        dead_letters = f"dlq-{uuid.uuid4().hex[:8]}"
        config = http.put(f"{emulator.url}{V3}/functions/fail/async-invoke-config", json={
            "maxAsyncRetryAttempts": 0,
            "destinationConfig": {"onFailure": {"destination": DEAD_LETTERS.format(dead_letters)}},
        })
        assert config.status_code == 200, config.text
        failed = http.post(f"{emulator.url}{V3}/functions/fail/invocations", data=b"x",
                           headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "failing"})
        assert failed.status_code == 202, failed.text
        assert watcher.wait_for("fail", "failing") == "Failed"
        watcher.wait_for("fail", "failing", "DestinationSucceeded")

        # An async invoke that fails once and then waits an hour for its retry.
        crashing = http.post(f"{emulator.url}{V3}/functions/crash/invocations", data=b'{"crash": true}',
                             headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "crashing"})
        assert crashing.status_code == 202, crashing.text
        watcher.wait_for("crash", "crashing", "Retrying")

        # A task deferred by an hour: it waits, counted as deferred, not due.
        deferred = http.post(f"{emulator.url}{V3}/functions/echo/invocations", data=b'"later"',
                             headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": "later",
                                      "x-fc-async-delay": "3600"})
        assert deferred.status_code == 202, deferred.text

        samples = scrape(emulator)
        assert value(samples, "fcemu_invocations_total", function="echo", kind="sync", outcome="success") == 1
        assert value(samples, "fcemu_invocation_duration_seconds_count", function="echo", kind="sync") == 1
        assert value(samples, "fcemu_invocations_total", function="fail", kind="async", outcome="error") == 1
        assert value(samples, "fcemu_invocations_total", function="fail", kind="async", outcome="success") is None
        assert value(samples, "fcemu_invocations_total", function="crash", kind="async", outcome="error") == 1
        assert value(samples, "fcemu_cold_starts_total", function="echo") == 1
        assert value(samples, "fcemu_cold_starts_total", function="fail") == 1
        # The crashed instance is gone; a new one starts for the retry only.
        assert value(samples, "fcemu_cold_starts_total", function="crash") == 1
        assert value(samples, "fcemu_async_lateness_seconds_count", function="fail") == 1
        assert value(samples, "fcemu_async_lateness_seconds_count", function="crash") == 1
        assert value(samples, "fcemu_destination_deliveries_total", function="fail", kind="failure", target="queue",
                     result="ok") == 1
        assert value(samples, "fcemu_instances", function="echo", state="idle") == 1
        assert value(samples, "fcemu_instances", function="echo", state="busy") == 0
        assert value(samples, "fcemu_instances", function="fail", state="idle") == 1

        # The queue, read from Redis: the deferred task and the retry, nothing due, nothing running.
        for state, expected in {"due": 0, "deferred": 1, "retrying": 0, "in_flight": 0}.items():
            assert value(samples, "fcemu_queue_tasks", function="echo", state=state) == expected, state
        for state, expected in {"due": 0, "deferred": 0, "retrying": 1, "in_flight": 0}.items():
            assert value(samples, "fcemu_queue_tasks", function="crash", state=state) == expected, state
        assert value(samples, "fcemu_queue_oldest_due_age_seconds", function="echo") == 0
        # Finished tasks leave the queue: no sample for fail.
        assert value(samples, "fcemu_queue_tasks", function="fail", state="due") is None

        # Stopping the waiting retry takes it off the queue, retrying gauge included.
        stopped = http.put(f"{emulator.url}{V3}/functions/crash/async-tasks/crashing/stop")
        assert stopped.status_code in (200, 204), stopped.text
        assert value(scrape(emulator), "fcemu_queue_tasks", function="crash", state="retrying") is None
    finally:
        http.close()
        watcher.close()
