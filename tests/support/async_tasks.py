"""Async invocations as the tests make them, and the tasks read back: through FC's API, or straight from Redis."""
from __future__ import annotations

import uuid

import requests

from emulator.redis_io.keys import shard_of, task_member
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import v3
from tests.support.redis_server import RedisServer


def enqueue(emulator: EmulatorProcess, count: int, prefix: str, delay: int = 0, function: str = "hello",
            body: bytes = b"{}") -> list[str]:
    ids = [f"{prefix}_{index}" for index in range(count)]
    with requests.Session() as http:
        for task_id in ids:
            reply = http.post(v3(emulator, function), data=body, headers={
                "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id, "x-fc-async-delay": str(delay)})
            assert reply.status_code == 202, reply.text
    return ids


def task_fields(redis_server: RedisServer, function: str, ids: list[str], field: str) -> dict[str, str]:
    """One field of each task's record, read straight from Redis ("" where it has none)."""
    with redis_server.client() as client:
        return {
            task_id: (client.hget(shard_of(task_member(function, task_id), 1).task(task_member(function, task_id)),
                                  field) or b"").decode()
            for task_id in ids
        }


def final_statuses(redis_server: RedisServer, function: str, ids: list[str]) -> dict[str, str]:
    return task_fields(redis_server, function, ids, "status")


def invoke_task(http: requests.Session, emulator: EmulatorProcess, function: str, body: bytes, **headers: str) -> str:
    task_id = f"d_{uuid.uuid4().hex[:12]}"
    reply = http.post(v3(emulator, function), data=body, headers={
        "x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id, **headers})
    assert reply.status_code == 202, reply.text
    return task_id


def task(http: requests.Session, emulator: EmulatorProcess, function: str, task_id: str) -> dict:
    return http.get(f"{emulator.url}/2023-03-30/functions/{function}/async-tasks/{task_id}").json()
