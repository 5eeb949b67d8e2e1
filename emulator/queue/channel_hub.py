"""One subscription to a Redis channel per process, shared by every live listener of it (the console's task
events, the followers of function logs): many listeners cost one Redis connection, and none once the last one
leaves. Each listener has a bounded queue of its own, so a slow one cannot make the process buffer without bound.

Joining and leaving never wait on Redis or a pool: a listener that leaves (its client went) is dropped at once,
and the subscription's connection is given back by the hub's own reader task, whose teardown is shielded from the
cancellation that stops it.

A subscription can die without a word (a half-open connection: Redis restarted behind a NAT, a laptop's network
changed): the reader never waits on it without a limit; after a quiet spell it PINGs on the subscription and,
with no answer, subscribes again on a new connection (its listeners get a gap)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

T = TypeVar("T")

RESUBSCRIBE_DELAY_S = 1.0
# How long a new listener waits for the hub's first attempt to subscribe (Redis may be down).
SUBSCRIBE_WAIT_S = 5.0
# After this long with nothing from the subscription, a PING on it; one that stays unanswered for PING_WAIT_S
# means the connection is dead. One PING a quiet half-minute per subscribed channel: nothing next to the traffic.
QUIET_CHECK_S = 30.0
PING_WAIT_S = 10.0


class Gap:
    """Put on a listener's queue in place of what it missed: it fell behind, or the subscription was lost."""


GAP = Gap()


class Listener(Generic[T]):
    def __init__(self, backlog: int, accepts: Callable[[T], bool]) -> None:
        self.queue: asyncio.Queue[T | Gap] = asyncio.Queue(backlog)
        self._accepts = accepts
        self.behind = False

    def offer(self, item: T | Gap) -> None:
        if self.behind or (not isinstance(item, Gap) and not self._accepts(item)):
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Drop what is queued: the listener is told it missed something once it catches up.
            self.behind = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(GAP)

    async def next(self, timeout_s: float) -> T | Gap | None:
        """The next item, or None after `timeout_s` without one."""
        try:
            async with asyncio.timeout(timeout_s):
                item = await self.queue.get()
        except TimeoutError:
            return None
        if isinstance(item, Gap):
            self.behind = False
        return item


class ChannelHub(Generic[T]):
    def __init__(self, redis: Redis, channel: str, parse: Callable[[bytes | str], T | None], *, name: str,
                 backlog: int, quiet_check_s: float = QUIET_CHECK_S, ping_wait_s: float = PING_WAIT_S) -> None:
        self._redis = redis
        self._quiet_check_s = quiet_check_s
        self._ping_wait_s = ping_wait_s
        self._channel = channel
        self._parse = parse
        self._name = name
        self._backlog = backlog
        self._listeners: set[Listener[T]] = set()
        self._reader: asyncio.Task[None] | None = None
        # Readers cancelled when their last listener left, until their subscription is closed.
        self._stopping: set[asyncio.Task[None]] = set()
        # Set after each attempt to subscribe; `subscribed` says how the last one went.
        self._settled = asyncio.Event()
        self.subscribed = False

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    @property
    def running(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def join(self, accepts: Callable[[T], bool] = lambda _: True) -> Listener[T]:
        """A new listener of the items `accepts` takes; once this returns with `subscribed` true, no item
        published from then on is missed. The caller must `leave` it."""
        listener: Listener[T] = Listener(self._backlog, accepts)
        self._listeners.add(listener)
        if not self.running:
            self._settled = asyncio.Event()
            self.subscribed = False
            self._reader = asyncio.create_task(self._read(self._settled), name=self._name)
        try:
            async with asyncio.timeout(SUBSCRIBE_WAIT_S):
                await self._settled.wait()
        except TimeoutError:
            pass
        except BaseException:
            self.leave(listener)
            raise
        return listener

    def leave(self, listener: Listener[T]) -> None:
        """Drops a listener at once (no await: it cannot be cut short by a cancellation); the subscription goes
        with the last one."""
        self._listeners.discard(listener)
        if not self._listeners and self._reader is not None:
            reader, self._reader = self._reader, None
            reader.cancel()
            self._stopping.add(reader)
            reader.add_done_callback(self._stopping.discard)

    async def close(self) -> None:
        """Ends the subscription and waits until its connection is back (at shutdown, before the client closes)."""
        self._listeners.clear()
        readers = [*self._stopping, *([self._reader] if self._reader is not None else [])]
        self._reader = None
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    async def _read(self, settled: asyncio.Event) -> None:
        failing = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                # Its confirmation: from here on, nothing published is missed.
                await pubsub.get_message(timeout=SUBSCRIBE_WAIT_S)
                self.subscribed = True
                settled.set()
                if failing:
                    log.info("%s: subscribed again", self._name)
                    failing = False
                    self._fan_out(GAP)  # what was published meanwhile was missed
                await self._relay(pubsub)
            except (RedisError, OSError) as error:
                # redis-py can turn a cancellation that lands mid-read into a connection or timeout error (and on
                # Python 3.11 asyncio.timeout can too): stopping is what was asked, not subscribing again.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from error
                self.subscribed = False
                settled.set()
                if not failing:
                    log.warning("%s: subscription lost (%s); retrying", self._name, error)
                    failing = True
            finally:
                # The connection goes back as soon as nobody listens (cancelled) or it broke; shielded, so that a
                # cancellation cannot leave the pool counting it as taken.
                await asyncio.shield(pubsub.aclose())
            await asyncio.sleep(RESUBSCRIBE_DELAY_S)

    async def _relay(self, pubsub: PubSub) -> None:
        """Hands each message on, until the connection fails or stays silent even to a PING."""
        pinged_at: float | None = None
        while True:
            wait_s = (self._quiet_check_s if pinged_at is None
                      else max(0.0, pinged_at + self._ping_wait_s - time.monotonic()))
            message = await pubsub.get_message(timeout=wait_s)
            if message is not None:  # a message, a pong or a subscription's confirmation: the connection lives
                pinged_at = None
                if message.get("type") == "message":
                    item = self._parse(message["data"])
                    if item is not None:
                        self._fan_out(item)
            elif pinged_at is None:
                await pubsub.ping()
                pinged_at = time.monotonic()
            elif time.monotonic() - pinged_at >= self._ping_wait_s:
                raise RedisConnectionError(f"no answer to a PING within {self._ping_wait_s:g} s")

    def _fan_out(self, item: T | Gap) -> None:
        for listener in list(self._listeners):
            listener.offer(item)
