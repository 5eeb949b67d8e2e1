"""One subscription to the task-events channel per process, shared by every live listener (the console's
server-sent events): many open consoles cost one Redis connection, and none once the last one leaves."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from emulator.queue.keys import TASK_EVENTS_CHANNEL, member_of_events_key, split_member

log = logging.getLogger(__name__)

# Events a listener may fall behind by before it is told to re-read everything instead (a slow client must not
# make the process buffer without bound).
LISTENER_BACKLOG = 1000
RESUBSCRIBE_DELAY_S = 1.0
# How long a new listener waits for the subscription before going on without it (Redis may be down).
SUBSCRIBE_WAIT_S = 5.0


@dataclass(frozen=True)
class TaskChange:
    function: str
    task_id: str
    status: str


# Put on a listener's queue in place of the events it missed.
RESYNC = TaskChange("", "", "")


def parse_message(data: bytes | str) -> TaskChange | None:
    """`<status> <events key>` as the scripts publish it; None for anything else."""
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    status, _, events_key = text.partition(" ")
    if not status or ":events:" not in events_key:
        return None
    function, task_id = split_member(member_of_events_key(events_key))
    if not function or not task_id:
        return None
    return TaskChange(function, task_id, status)


class _Listener:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[TaskChange] = asyncio.Queue(LISTENER_BACKLOG)
        self.behind = False

    def offer(self, change: TaskChange) -> None:
        if self.behind:
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            # Drop what is queued and ask for a full re-read once the client catches up.
            self.behind = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)

    async def next(self, timeout_s: float) -> TaskChange | None:
        try:
            async with asyncio.timeout(timeout_s):
                change = await self.queue.get()
        except TimeoutError:
            return None
        if change is RESYNC:
            self.behind = False
        return change


class TaskEventHub:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._listeners: set[_Listener] = set()
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    @property
    def running(self) -> bool:
        return self._reader is not None and not self._reader.done()

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[_Listener]:
        listener = _Listener()
        self._listeners.add(listener)
        if not self.running:
            self._subscribed = asyncio.Event()
            self._reader = asyncio.create_task(self._read(self._subscribed), name="task-event-hub")
        try:
            # A listener told it is connected misses no change made after that.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SUBSCRIBE_WAIT_S):
                    await self._subscribed.wait()
            yield listener
        finally:
            self._listeners.discard(listener)
            if not self._listeners and self._reader is not None:
                reader, self._reader = self._reader, None
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    async def _read(self, subscribed: asyncio.Event) -> None:
        failing = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(TASK_EVENTS_CHANNEL)
                # Its confirmation: from here on, nothing published is missed.
                await pubsub.get_message(timeout=SUBSCRIBE_WAIT_S)
                subscribed.set()
                if failing:
                    log.info("task events: subscribed again")
                    failing = False
                    self._fan_out(RESYNC)  # what changed meanwhile was missed
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    change = parse_message(message["data"])
                    if change is not None:
                        self._fan_out(change)
            except (RedisError, OSError) as error:
                if not failing:
                    log.warning("task events: subscription lost (%s); retrying", error)
                    failing = True
            finally:
                # The connection goes back as soon as nobody listens (cancelled) or it broke.
                await asyncio.shield(pubsub.aclose())
            await asyncio.sleep(RESUBSCRIBE_DELAY_S)

    def _fan_out(self, change: TaskChange) -> None:
        for listener in list(self._listeners):
            listener.offer(change)
