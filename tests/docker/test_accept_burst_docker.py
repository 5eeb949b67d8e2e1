"""A burst of concurrent async invokes, far more than the emulator keeps Redis connections: every one is
accepted (202) and runs; none is refused because the connection pool was busy."""
from __future__ import annotations

import asyncio
import uuid

import aiohttp

from emulator.redis_io.client import MAX_CONNECTIONS
from emulator.redis_io.keys import task_member
from tests.support.async_tasks import final_statuses
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import FINAL, TaskWatcher

BURST = 2 * MAX_CONNECTIONS


async def _burst(url: str, ids: list[str]) -> list[int]:
    connector = aiohttp.TCPConnector(limit=0)  # one connection per request, all at once
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(task_id: str) -> int:
            headers = {"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id}
            async with session.post(url, data=b"{}", headers=headers) as reply:
                await reply.read()
                return reply.status

        return await asyncio.gather(*(post(task_id) for task_id in ids))


def test_a_burst_larger_than_the_redis_pool_is_accepted_whole(emulator: EmulatorProcess,
                                                              redis_server: RedisServer) -> None:
    ids = [f"burst_{uuid.uuid4().hex[:6]}_{index}" for index in range(BURST)]
    watcher = TaskWatcher(redis_server.url)
    try:
        statuses = asyncio.run(_burst(f"{emulator.url}/2023-03-30/functions/hello/invocations", ids))
        assert statuses == [202] * BURST
        members = [task_member("hello", task_id) for task_id in ids]
        watcher.wait_until(lambda: all(FINAL & set(watcher.seen.get(member, ())) for member in members), timeout=300)
    finally:
        watcher.close()
    assert set(final_statuses(redis_server, "hello", ids).values()) == {"Succeeded"}
