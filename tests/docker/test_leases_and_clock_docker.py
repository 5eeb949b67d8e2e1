"""Leases and Redis's clock: a shutdown grace longer than the lease runs nothing twice, and a dispatcher or a
timer scheduler whose view of Redis's clock went stale (a forward step: NTP, a resumed host) catches up when it
wakes instead of when the host's clock does."""
from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import requests
from redis.asyncio import Redis

from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.catalog import Catalog
from emulator.catalog.loader import load_functions
from emulator.catalog.sources import layer_source
from emulator.core import Core
from emulator.queue.redis_clock import RedisClock
from emulator.queue.store import TaskStore
from emulator.redis_io.keys import shard_of, task_member
from emulator.settings import Settings
from emulator.triggers.definitions import Triggers
from emulator.triggers.timer_scheduler import TimerScheduler
from tests.support.emulator_process import REPO, EmulatorProcess
from tests.support.fc_api import v3
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import FINAL, TaskWatcher

# How far Redis's clock is made to have stepped forward since it was last read.
STEP_MS = 3_600_000
# The layers the test functions name (tests/functions/layer-*), as EmulatorProcess passes them.
TEST_LAYERS = REPO / "tests" / "layers"


def test_a_shutdown_grace_longer_than_the_lease_runs_the_task_once(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer
) -> None:
    api = EmulatorProcess(functions_dir, tmp_path / "api.log", redis_url=own_redis.url,
                          dispatcher_enabled="false").start()
    # A lease of 1 s and a grace of 60 s: after the SIGTERM the task outlives its lease many times over.
    first = EmulatorProcess(functions_dir, tmp_path / "d1.log", redis_url=own_redis.url, command="dispatcher",
                            owner=f"grace-{uuid.uuid4().hex[:6]}", lease_s="1",
                            dispatcher_shutdown_grace_s="60").start()
    second: EmulatorProcess | None = None
    watcher = TaskWatcher(own_redis.url)
    task_id = f"grace_{uuid.uuid4().hex[:6]}"
    member = task_member("patient", task_id)
    try:
        reply = requests.post(v3(api, "patient"), data=json.dumps({"sleep": 12}), timeout=10, headers={
            "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id})
        assert reply.status_code == 202, reply.text
        watcher.wait_for("patient", task_id, "Running", timeout=60)
        # Started only now, so that the first dispatcher holds the task: its reaper takes back every task whose
        # lease runs out, and it claims what is due.
        second = EmulatorProcess(functions_dir, tmp_path / "d2.log", redis_url=own_redis.url, command="dispatcher",
                                 owner=f"grace-{uuid.uuid4().hex[:6]}", lease_s="1").start()
        with own_redis.client() as client:
            assert client.hget(shard_of(member, 1).task(member), "status") == b"Running", "still running at SIGTERM"
        assert first.stop(timeout=90) == 0  # returns once the task has finished within the grace
        assert watcher.wait_for("patient", task_id, timeout=60) == "Succeeded"
    finally:
        first.stop()
        if second is not None:
            second.stop()
        api.stop()
        watcher.close()
    assert watcher.seen[member].count("Running") == 1, watcher.seen[member]
    assert "expired leases" not in (tmp_path / "d2.log").read_text(), "the second dispatcher took the task back"


def test_an_idle_dispatcher_claims_after_a_forward_step_of_redis_clock(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer
) -> None:
    """The host's clock cannot be stepped here; what a forward step leaves behind can be made: the dispatcher's
    anchor on Redis's clock, read before the step, an hour behind. A task due now then looks due in an hour
    until the dispatcher re-reads Redis's clock, which it must do when it wakes (for the nudge of the enqueue,
    or its reaper's tick) rather than wait for the hour to pass."""
    settings = Settings(redis_url=own_redis.url, functions_dir=functions_dir, data_dir=tmp_path / "data",
                        layers_dir=TEST_LAYERS, owner=f"clock-{uuid.uuid4().hex[:6]}")
    watcher = TaskWatcher(own_redis.url)

    async def scenario() -> None:
        core = await Core.start(settings, serve_api=False)
        try:
            assert core.dispatcher is not None
            clock = core.dispatcher.clock
            clock.observe(int(clock.now_ms()) - STEP_MS)
            accepted = await core.store.enqueue(
                function="echo", task_id="after-the-step", request_id="after-the-step", payload=b"{}", delay_ms=0,
                max_retry=0, max_age_s=86400, task_mode=False, qualifier="LATEST")
            assert accepted.created
            status = await asyncio.to_thread(watcher.wait_for, "echo", "after-the-step", FINAL, 60)
            assert status == "Succeeded"
        finally:
            await core.close()

    try:
        asyncio.run(scenario())
    finally:
        watcher.close()


def test_the_timer_scheduler_reads_redis_clock_when_it_wakes(
    functions_dir: Path, tmp_path: Path, own_redis: RedisServer
) -> None:
    """The timer scheduler alone (no dispatcher, no Docker), with an anchor on Redis's clock an hour behind, as
    a forward step leaves it: its firings must be those of Redis's now, not of an hour ago."""
    watcher = TaskWatcher(own_redis.url)

    async def scenario() -> None:
        redis = Redis.from_url(own_redis.url)
        layers = layer_source(Settings(layers_dir=TEST_LAYERS, data_dir=tmp_path / "data"))
        catalog = Catalog(load_functions(functions_dir, layers), "default")
        triggers = Triggers(redis, catalog)
        async_configs = AsyncConfigs(redis)
        await triggers.start()
        await async_configs.start()
        store = TaskStore(redis, shards=1, lease_ms=15_000, retention_s=60, max_lost_leases=3)
        clock = RedisClock()
        await clock.sync(redis)
        before_ms = clock.now_ms()
        clock.observe(int(before_ms) - STEP_MS)
        scheduler = TimerScheduler(triggers, catalog, store, async_configs, clock)
        running = asyncio.create_task(scheduler.run())
        try:
            await triggers.save("echo", "tick", "timer", {"cronExpression": "@every 1s"}, "", create=True)
            await asyncio.to_thread(watcher.wait_for_count, {"Enqueued"}, 1, 30)
        finally:
            scheduler.close()
            await asyncio.wait([running], timeout=5)
            await triggers.close()
            await async_configs.close()
            await redis.aclose()
        fired_at_s = min(int(member.rsplit("-", 1)[1]) for member in watcher.seen)
        assert fired_at_s * 1000 > before_ms - 1000, f"fired for {fired_at_s}, Redis's clock read {before_ms}"

    try:
        asyncio.run(scenario())
    finally:
        watcher.close()
