"""Streams own what they hold (real `fcemu serve`, real Redis, real Docker): hundreds of log followers opened and
dropped at once share one subscription, give everything back and never starve the queue; past FCEMU_MAX_STREAMS a
stream is FC's 429, and a follower that leaves frees its slot."""
from __future__ import annotations

import json
import shutil
import socket
import struct
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from emulator.redis_io.keys import LOG_CHANNEL, OWNER_PREFIX
from tests.conftest import TEST_FUNCTIONS
from tests.support.emulator_process import EmulatorProcess
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import wait_until

pytestmark = pytest.mark.docker

# More than the emulator's whole Redis pool (256 connections) held to one connection each before.
FOLLOWERS = 300
# Guards against a hung test, not measures of speed (an invoke starved of a connection waited 20 s for a 503).
ACCEPT_TIMEOUT_S = 10
OPEN_TIMEOUT_S = 60
OWNER_TTL_S = "3"


def stream_functions(target: Path) -> Path:
    shutil.copytree(TEST_FUNCTIONS / "echo", target / "echo")
    return target


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, module_redis: RedisServer) -> Iterator[EmulatorProcess]:
    folder = tmp_path_factory.mktemp("streams")
    process = EmulatorProcess(stream_functions(folder / "functions"), folder / "fcemu.log", redis_url=module_redis.url,
                              max_streams=str(FOLLOWERS), owner_ttl_s=OWNER_TTL_S).start()
    yield process
    process.stop()


class Follower:
    """A raw HTTP client of /_fcemu/logs?follow=true, or of another stream."""

    def __init__(self, port: int, path: str = "/_fcemu/logs?follow=true", until: bytes = b": following") -> None:
        """Connects and reads until `until` (the stream is subscribed then) or the answer ends."""
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=OPEN_TIMEOUT_S)
        self.socket.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        self.head = b""
        while until not in self.head:
            chunk = self.socket.recv(4096)
            if not chunk:
                break
            self.head += chunk
            if self.head[:10] in (b"HTTP/1.1 4", b"HTTP/1.1 5") and b"}" in self.head:
                break  # an error's whole JSON body

    @property
    def subscribed(self) -> bool:
        return self.head.startswith(b"HTTP/1.1 200") and b": following" in self.head

    @property
    def status(self) -> int:
        return int(self.head.split(b" ", 2)[1])

    def drop(self) -> None:
        """Goes away abruptly: a reset, as from a killed client."""
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.socket.close()


def open_followers(port: int, count: int) -> list[Follower]:
    """`count` followers opened at once (many concurrent subscriptions, as a burst of clients makes)."""
    with ThreadPoolExecutor(max_workers=64) as pool:
        return list(pool.map(lambda _: Follower(port), range(count)))


def subscribers(server: RedisServer, channel: str) -> int:
    with server.client() as client:
        return int(dict(client.pubsub_numsub(channel))[channel.encode()])


def streams_open(process: EmulatorProcess) -> float:
    metrics = requests.get(f"{process.url}/_fcemu/metrics", timeout=30).text
    [value] = [line.split()[1] for line in metrics.splitlines() if line.startswith("fcemu_streams_open ")]
    return float(value)


def invoke_async(process: EmulatorProcess) -> str:
    task_id = f"s_{uuid.uuid4().hex[:12]}"
    reply = requests.post(f"{process.url}/2023-03-30/functions/echo/invocations", data=b"{}",
                          headers={"x-fc-invocation-type": "Async", "x-fc-async-task-id": task_id},
                          timeout=ACCEPT_TIMEOUT_S)
    assert reply.status_code == 202, reply.text
    return task_id


def owner_refreshed(server: RedisServer, owner: str) -> bool:
    """Whether the owner's liveness key is refreshed: its TTL goes up again after it was read."""
    with server.client() as client:
        first = client.pttl(OWNER_PREFIX + owner)
        assert first > 0, "the owner's liveness key is gone"
        wait_until(lambda: client.pttl(OWNER_PREFIX + owner) > first, timeout=float(OWNER_TTL_S) * 3)
        return True


def test_hundreds_of_followers_share_one_subscription_and_leave_nothing_held(
    served: EmulatorProcess, module_redis: RedisServer
) -> None:
    watcher = TaskWatcher(module_redis.url)
    try:
        followers = open_followers(served.port, FOLLOWERS)
        try:
            refused = [f.head[:200] for f in followers if not f.subscribed]
            assert refused == [], f"{len(refused)} followers were not subscribed, e.g. {refused[0]!r}"
            # One subscription for them all; the queue still accepts and runs while they are open.
            assert subscribers(module_redis, LOG_CHANNEL) == 1
            assert watcher.wait_for("echo", invoke_async(served)) == "Succeeded"
        finally:
            for follower in followers:
                follower.drop()
        # Everything they held is given back: their slots, and the subscription with the last one.
        wait_until(lambda: streams_open(served) == 0)
        wait_until(lambda: subscribers(module_redis, LOG_CHANNEL) == 0)
        with module_redis.client() as client:
            assert len(client.client_list()) < 30, [c["cmd"] for c in client.client_list()]
        # The queue's own work goes on: accept, run, owner liveness.
        task_ids = [invoke_async(served) for _ in range(5)]
        assert [watcher.wait_for("echo", task_id) for task_id in task_ids] == ["Succeeded"] * 5
        assert owner_refreshed(module_redis, served.owner)
    finally:
        watcher.close()
    assert "liveness refresh failed" not in served.log_path.read_text()


def test_followers_in_a_second_burst_are_served_too(served: EmulatorProcess) -> None:
    """Dropped followers left nothing counted as taken: the same number again is served."""
    for _ in range(2):
        followers = open_followers(served.port, FOLLOWERS)
        for follower in followers:
            follower.drop()
        assert sum(1 for f in followers if f.subscribed) == FOLLOWERS
    wait_until(lambda: streams_open(served) == 0)
    invoke_async(served)


def test_streams_past_the_cap_are_a_429_and_one_that_leaves_frees_its_slot(
    tmp_path: Path, module_redis: RedisServer
) -> None:
    process = EmulatorProcess(stream_functions(tmp_path / "functions"), tmp_path / "fcemu.log",
                              redis_url=module_redis.url, max_streams="3", dispatcher_enabled="false").start()
    try:
        held = [Follower(process.port), Follower(process.port),
                Follower(process.port, "/_fcemu/events", until=b": connected")]
        assert [f.status for f in held] == [200, 200, 200]
        for path in ("/_fcemu/logs?follow=true", "/_fcemu/events"):
            refused = Follower(process.port, path)
            refused.drop()
            assert refused.status == 429, refused.head
            head, _, body = refused.head.decode().partition("\r\n\r\n")
            error = json.loads(body)
            assert error["Code"] == "ResourceExhausted" and "FCEMU_MAX_STREAMS" in error["Message"]
            assert f"x-fc-request-id: {error['RequestId']}" in head
        # Reads that do not stream are not capped.
        assert requests.get(f"{process.url}/_fcemu/logs", timeout=30).status_code == 200
        held[0].drop()
        wait_until(lambda: streams_open(process) == 2)
        again = Follower(process.port)
        assert again.subscribed
        for follower in [*held[1:], again]:
            follower.drop()
        wait_until(lambda: streams_open(process) == 0)
    finally:
        process.stop()


def test_a_follower_gets_its_tasks_kept_and_live_lines(served: EmulatorProcess, module_redis: RedisServer) -> None:
    """Through the shared subscription: a follower of one request sees its lines, and only its own."""
    watcher = TaskWatcher(module_redis.url)
    try:
        task_id = invoke_async(served)
        assert watcher.wait_for("echo", task_id) == "Succeeded"
    finally:
        watcher.close()
    reply = requests.get(f"{served.url}/_fcemu/logs",
                         params={"function": "echo", "taskId": task_id, "follow": "true"}, stream=True, timeout=60)
    try:
        assert reply.status_code == 200
        lines = reply.iter_lines(decode_unicode=True)
        assert next(lines) == ": following"
        for line in lines:
            if line.startswith("data: "):
                entry = json.loads(line[len("data: "):])
                assert entry["functionName"] == "echo" and entry.get("taskId") in (task_id, None)
                if entry["message"].startswith("FC Invoke End RequestId: "):
                    break
    finally:
        reply.close()
