"""Chaos: Redis `kill -9`'d (not SHUTDOWN) while several clients are having async invokes accepted, then
restarted on the same port and AOF. Every invoke answered 202 must be in Redis afterwards, waiting in its due
set, claimed, or finished: 0 lost with `appendfsync always` (CHAOS_APPENDFSYNC picks another mode). It prints
the figures that the docs' Reliability page (docs/reliability.md) quotes (CHAOS_* env vars scale the run)."""
from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import docker
import pytest

from emulator.redis_io.keys import shard_of, task_member
from tests.conftest import owned_containers
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import FINAL, TaskWatcher

CLIENTS = int(os.environ.get("CHAOS_CLIENTS", "8"))
BEFORE_KILL = int(os.environ.get("CHAOS_BEFORE_KILL", "4000"))  # accepted invokes before the kill
DURING_OUTAGE = int(os.environ.get("CHAOS_DURING_OUTAGE", "200"))  # 503s to collect before the restart
AFTER_RESTART = int(os.environ.get("CHAOS_AFTER_RESTART", "2000"))  # accepted invokes after the restart
APPENDFSYNC = os.environ.get("CHAOS_APPENDFSYNC", "always")
RUN_EVERY = 10  # one invoke in ten runs at once (the dispatcher is busy at the kill); the rest wait an hour
FUNCTION = "hello"


@dataclass
class Tally:
    accepted: list[str] = field(default_factory=list)
    accepted_after_restart: int = 0
    unavailable: list[str] = field(default_factory=list)  # answered 503 ServiceUnavailable: not accepted
    other: list[str] = field(default_factory=list)
    restarted: bool = False
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def until(self, condition: Callable[[], bool], timeout: float = 120) -> None:
        """Waits until the condition holds, or an answer was neither 202 nor 503 (the test then fails on it)."""
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: condition() or bool(self.other))


def immediate(task_id: str) -> bool:
    return int(task_id.rsplit("_", 1)[1]) % RUN_EVERY == 0


async def _client(session: aiohttp.ClientSession, url: str, index: int, tally: Tally, stop: asyncio.Event) -> None:
    sent = 0
    while not stop.is_set():
        task_id = f"chaos{index}_{sent}"
        sent += 1
        headers = {"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id,
                   "x-fc-async-delay": "0" if immediate(task_id) else "3600"}
        try:
            async with session.post(url, data=b"{}", headers=headers) as reply:
                body = await reply.text()
                status = reply.status
        except aiohttp.ClientError as error:
            status, body = 0, repr(error)
        async with tally.changed:
            if status == 202:
                tally.accepted.append(task_id)
                tally.accepted_after_restart += tally.restarted
            elif status == 503 and '"ServiceUnavailable"' in body:
                tally.unavailable.append(task_id)
            else:
                tally.other.append(f"{task_id}: {status} {body[:300]}")
            tally.changed.notify_all()


async def _chaos(url: str, redis_server: RedisServer) -> Tally:
    tally = Tally()
    stop = asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as session:
        clients = [asyncio.create_task(_client(session, url, index, tally, stop)) for index in range(CLIENTS)]
        try:
            await tally.until(lambda: len(tally.accepted) >= BEFORE_KILL)
            await asyncio.to_thread(redis_server.kill)
            await tally.until(lambda: len(tally.unavailable) >= DURING_OUTAGE)
            await asyncio.to_thread(redis_server.start)  # returns once Redis has loaded its AOF
            tally.restarted = True
            await tally.until(lambda: tally.accepted_after_restart >= AFTER_RESTART)
        finally:
            stop.set()
            await asyncio.gather(*clients)
    return tally


@pytest.fixture()
def chaos_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendfsync=APPENDFSYNC).start()
    yield server
    server.kill()


def test_a_redis_kill_loses_no_accepted_invoke(
    functions_dir: Path, tmp_path: Path, chaos_redis: RedisServer, docker_client: docker.DockerClient
) -> None:
    emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=chaos_redis.url).start()
    try:
        tally = asyncio.run(_chaos(f"{emulator.url}/2023-03-30/functions/{FUNCTION}/invocations", chaos_redis))
        assert tally.other == [], tally.other[:5]
        # Subscribed before reading the statuses: a task that finishes in between is seen either way.
        watcher = TaskWatcher(chaos_redis.url)
        try:
            found = _where_they_are(chaos_redis, tally.accepted + tally.unavailable)
            missing = [task_id for task_id in tally.accepted if found[task_id] is None]
            # Answered 503 yet stored: Redis died between writing the enqueue and answering it.
            stored_anyway = sum(found[task_id] is not None for task_id in tally.unavailable)
            print(f"\nchaos: Redis kill -9 under {CLIENTS} clients, appendfsync {APPENDFSYNC}: {len(tally.accepted)} "
                  f"accepted (202), {len(tally.accepted) - len(missing)} present after the restart, "
                  f"{len(missing)} lost; {len(tally.unavailable)} answered 503 during the outage "
                  f"({stored_anyway} of them stored anyway); {len(tally.other)} other answers")
            assert missing == [], _describe(chaos_redis, missing[:10])
            assert len(tally.unavailable) >= DURING_OUTAGE
            # The dispatcher resumed too: the invokes meant to run at once all end Succeeded.
            for task_id in tally.accepted:
                if immediate(task_id) and found[task_id] not in FINAL:
                    watcher.wait_for(FUNCTION, task_id, timeout=120)
        finally:
            watcher.close()
        statuses = _where_they_are(chaos_redis, [task_id for task_id in tally.accepted if immediate(task_id)])
        assert set(statuses.values()) == {"Succeeded"}, statuses
    finally:
        emulator.stop()
    assert "Traceback" not in emulator.log_path.read_text()
    assert owned_containers(docker_client, emulator.owner) == []


def _describe(redis_server: RedisServer, task_ids: list[str]) -> list[str]:
    """What Redis holds of lost tasks: nothing, or a record that no queue set reaches."""
    members = [task_member(FUNCTION, task_id) for task_id in task_ids]
    with redis_server.client() as client:
        return [f"{member}: {client.hgetall(shard_of(member, 1).task(member))}" for member in members]


def _where_they_are(redis_server: RedisServer, task_ids: list[str]) -> dict[str, str | None]:
    """Each task's status when Redis still has it where the queue can reach it (its due set, the in-flight
    set, or finished), else None."""
    with redis_server.client() as client, client.pipeline(transaction=False) as pipe:
        for task_id in task_ids:
            member = task_member(FUNCTION, task_id)
            keys = shard_of(member, 1)
            pipe.hget(keys.task(member), "status")
            pipe.zscore(keys.due(FUNCTION), member)
            pipe.zscore(keys.inflight, member)
        replies = pipe.execute()
    found: dict[str, str | None] = {}
    for index, task_id in enumerate(task_ids):
        status, due, inflight = replies[3 * index:3 * index + 3]
        text = status.decode() if status else None
        reachable = text in FINAL or due is not None or inflight is not None
        found[task_id] = text if text is not None and reachable else None
    return found
