"""The dispatcher: claims due tasks within each function's capacity, runs them, and sleeps exactly until the
next due time (a timer on Redis's clock), woken early by a pub/sub nudge, a freed slot or the reaper's tick.
It also runs the reaper, the lease heartbeat and the destination deliverer."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter

from redis.exceptions import RedisError

from emulator.catalog.catalog import Catalog
from emulator.destinations.deliverer import Deliverer
from emulator.dispatcher.prestart import Prestarter
from emulator.dispatcher.task_runner import TaskRunner, throttled_detail
from emulator.invoker import InstanceSlot
from emulator.pool.pools import Pools
from emulator.queue.models import ClaimBatch, ClaimedTask
from emulator.queue.redis_clock import RedisClock
from emulator.queue.store import Finished, TaskStore
from emulator.queue.throttle_marks import ThrottleMarks
from emulator.redis_io.health import describe, is_outage, redis_health
from emulator.redis_io.keys import DELIVER_CHANNEL, STOP_CHANNEL, WAKE_CHANNEL
from emulator.redis_io.resilience import keep_running, wait_for_event
from emulator.triggers.timer_scheduler import TimerScheduler

log = logging.getLogger(__name__)

REAP_INTERVAL_S = 1.0
# A due time this close is claimed for rather than slept towards. The loop's timers wake up to 1 ms late (epoll
# counts whole milliseconds, rounded up) and the anchor on Redis's clock is up to 1 ms behind (scripts answer
# whole milliseconds); a claim a moment early finds nothing yet and says when, so the loop asks again, a round
# trip at a time, until the task is due: it then starts within a round trip of its due time, not 1-2 ms after.
CLAIM_AHEAD_MS = 1.5
LOOP_EXIT_TIMEOUT_S = 5.0


class Dispatcher:
    def __init__(
        self, store: TaskStore, catalog: Catalog, pools: Pools, runner: TaskRunner, deliverer: Deliverer,
        clock: RedisClock, timers: TimerScheduler, *, claim_batch: int, lease_ms: int, shutdown_grace_s: float,
        prestart: Prestarter | None = None,
    ) -> None:
        # Starts instances ahead of due times, from this copy of the due index (None: FCEMU_PRESTART=false).
        self._prestart = prestart
        self._deliverer = deliverer
        self._timers = timers
        self._store = store
        self._catalog = catalog
        self._pools = pools
        self._runner = runner
        self._claim_batch = claim_batch
        self._lease_ms = lease_ms
        self._shutdown_grace_s = shutdown_grace_s
        self._clock = clock
        self._wake = asyncio.Event()
        self._running: dict[str, tuple[ClaimedTask, asyncio.Task[None]]] = {}
        self._busy: Counter[str] = Counter()
        # Stop requests by task member, with when they came (monotonic s). One for a task that has not begun to
        # run here yet (claimed a moment ago, or another dispatcher's) waits to be checked before it runs,
        # and is forgotten after a lease's length.
        self._stop_requested: dict[str, float] = {}
        # Tasks whose run has begun in their slot: only those are cancelled by a stop.
        self._in_run: set[str] = set()
        self._closing = False
        self._loops: list[asyncio.Task[None]] = []
        self._heartbeat: asyncio.Task[None] | None = None
        self._leases_released = False
        # This dispatcher's copy of the due index: (shard, function) -> earliest due time (Redis ms).
        self._due: dict[tuple[int, str], int] = {}
        self._refresh_due = True
        self._reaper_ran = False
        # An advance of the clock may make anything due now: re-read the index at once.
        store.clock.on_change(self._hint)
        # Functions with due tasks that FC's limits (reserved concurrency, the account's) hold back: not claimed
        # until a slot of theirs frees up or a limit changes, which the pools' limits say at once (no backoff).
        self._held: set[str] = set()
        self._marks = ThrottleMarks(store)
        runner.on_throttled = self._held.add
        pools.limits.on_freed(self._freed)

    @property
    def clock(self) -> RedisClock:
        """Redis's clock as this dispatcher sees it."""
        return self._clock

    async def start(self) -> None:
        await self._clock.sync(self._store.redis)
        # Not one of the loops that close() ends first: it keeps the leases of running tasks until they end.
        self._heartbeat = asyncio.create_task(keep_running(self._heartbeat_loop, "heartbeat", self._store.redis),
                                              name="heartbeat")
        self._loops = [
            asyncio.create_task(keep_running(self._dispatch_loop, "dispatch", self._store.redis), name="dispatch"),
            asyncio.create_task(keep_running(self._listen_loop, "listen", self._store.redis), name="listen"),
            asyncio.create_task(keep_running(self._reap_loop, "reap", self._store.redis), name="reap"),
            asyncio.create_task(keep_running(self._deliverer.run, "deliver", self._store.redis), name="deliver"),
            asyncio.create_task(keep_running(self._timers.run, "timers", self._store.redis), name="timers"),
        ]

    async def close(self) -> None:
        """Stops claiming, lets running tasks finish for a grace period, then gives the rest back to Redis;
        their leases are kept alive until then, however the grace compares with the lease."""
        self._closing = True
        # Each loop also ends on its own once it sees _closing: a cancellation that lands inside a Redis call
        # can be lost there (seen with redis-py on Python 3.11), and shutdown must not hang on it.
        self._wake.set()
        self._deliverer.close()
        self._timers.close()
        if self._prestart is not None:
            self._prestart.close()
        for loop in self._loops:
            loop.cancel()
        _, stuck = await asyncio.wait(self._loops, timeout=LOOP_EXIT_TIMEOUT_S)
        for loop in stuck:
            log.warning("dispatcher loop %s did not stop", loop.get_name())
        running = [task for _, task in self._running.values()]
        if running:
            await asyncio.wait(running, timeout=self._shutdown_grace_s)
        for _, task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*(task for _, task in self._running.values()), return_exceptions=True)
        # Only now: a task the grace let finish kept its lease (the reaper of another dispatcher would have
        # run it again), and those cancelled are back in the queue.
        self._leases_released = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.wait([self._heartbeat], timeout=LOOP_EXIT_TIMEOUT_S)

    async def _dispatch_loop(self) -> None:
        while not self._closing:
            self._wake.clear()
            next_due = await self._dispatch_due()
            delay = None if next_due is None else self._clock.seconds_until_virtual(next_due) - CLAIM_AHEAD_MS / 1000
            await wait_for_event(self._wake, delay)

    def _free_slots(self, function: str) -> int:
        definition = self._catalog.get(function)
        if definition is None or function in self._held:
            # Another dispatcher (with other functions) may know it: never claim work this one cannot run.
            return 0
        return self._pools.for_function(definition).capacity - self._busy[function]

    def _freed(self, function: str | None) -> None:
        """A slot of `function` freed up (None: an instance went, or a limit changed): held tasks may run now."""
        if function is None:
            if self._held:
                self._held.clear()
                self._hint()
        elif function in self._held:
            self._held.discard(function)
            self._wake.set()

    async def _hold(self, shard_index: int, function: str) -> None:
        """A function with due tasks and no free slot: if FC's limits are why, its tasks are held until a slot
        frees up, and those not yet told get an event saying they were throttled."""
        definition = self._catalog.get(function)
        if definition is None:
            return
        limit = self._pools.limits.for_function(function)
        if limit.throttled(definition):
            self._held.add(function)
            await self._marks.mark(self._store.shards[shard_index], function,
                                   throttled_detail(limit.error(definition)))

    async def _dispatch_due(self) -> int | None:
        """Claims what is due now; returns the earliest future due time among functions with free slots.

        The due index is read from Redis only when a hint says it changed (a nudge, a stop, the reaper's tick);
        a freed slot alone works from the copy kept here, updated by every claim.
        """
        refreshed = self._refresh_due
        if self._refresh_due:
            self._refresh_due = False
            # Redis's clock comes in the same round trip: an anchor from before a forward step of that clock
            # (NTP, a resumed host) would make due tasks look not yet due. Every wake but a timer's reads the
            # index, and an idle dispatcher wakes at least on the reaper's tick; a timer's wake claims, and
            # the claim re-anchors on the time its script returns.
            redis_now_ms, due_rows = await self._store.due_index()
            self._clock.observe(redis_now_ms)
            self._due = {(shard, function): at for shard, function, at in due_rows}
        earliest: int | None = None
        for (shard_index, function), due in list(self._due.items()):
            free = self._free_slots(function)
            if free <= 0:
                if refreshed and due <= self._clock.virtual_now_ms() + CLAIM_AHEAD_MS:
                    await self._hold(shard_index, function)
                continue  # a finishing task, or a freed slot of a held function, wakes the loop
            if due > self._clock.virtual_now_ms() + CLAIM_AHEAD_MS:  # due times are on the advanced clock
                earliest = due if earliest is None else min(earliest, due)
                continue
            batch, slots = await self._claim(shard_index, function, min(free, self._claim_batch))
            self._clock.observe(batch.redis_now_ms)
            for member in batch.expired:
                log.info("task %s expired before it ran", member)
            for task, slot in zip(batch.claimed, slots):
                self._launch(task, slot)
            if batch.next_due_ms is None:
                self._due.pop((shard_index, function), None)
            else:
                self._due[(shard_index, function)] = batch.next_due_ms
                earliest = batch.next_due_ms if earliest is None else min(earliest, batch.next_due_ms)
        if self._prestart is not None:
            self._prestart.due_index(self._due)
        return earliest

    def _hint(self) -> None:
        """Something changed in Redis that the copy of the due index may not show."""
        self._refresh_due = True
        self._wake.set()

    async def _claim(self, shard_index: int, function: str, count: int) -> tuple[ClaimBatch, list[InstanceSlot]]:
        """Claims due tasks with a slot each. Warm instances that are free are held first and named in the
        claim, which marks their tasks Running at once: a due task then starts one round trip sooner."""
        definition = self._catalog.get(function)
        held = self._runner.reserve(definition, count) if definition is not None else []
        try:
            batch = await self._store.claim(self._store.shards[shard_index], function, count,
                                            [slot.instance.instance_id for slot in held if slot.instance])
        except BaseException:
            for slot in held:
                await self._runner.release(slot)
            raise
        for slot in held[len(batch.claimed):]:
            await self._runner.release(slot)
        return batch, held[:len(batch.claimed)] + [InstanceSlot() for _ in range(len(batch.claimed) - len(held))]

    def _launch(self, task: ClaimedTask, slot: InstanceSlot) -> None:
        """Gives the task a slot: a coroutine that runs it and then, while its function has due work, the next
        one, claimed by the same script that records the finish."""
        self._busy[task.function] += 1
        runner = asyncio.create_task(self._run_slot(task, slot), name=f"slot {task.function}")
        self._running[task.member] = (task, runner)

    async def _run_slot(self, task: ClaimedTask, slot: InstanceSlot) -> None:
        current: ClaimedTask | None = task
        try:
            while current is not None:
                claim_next = 0 if self._closing or self._free_slots(current.function) < 0 else 1
                finished = await self._run_one(current, slot, claim_next)
                self._running.pop(current.member, None)
                current = None
                if finished is not None and finished.next_tasks:
                    self._clock.observe(finished.redis_now_ms)
                    current = finished.next_tasks[0]
                    self._running[current.member] = (current, asyncio.current_task())  # type: ignore[assignment]
        finally:
            if current is not None:
                self._running.pop(current.member, None)
            await self._runner.release(slot)
            self._busy[task.function] -= 1
            self._refresh_due = True  # the finish may have claimed or rescheduled: re-read the index
            self._wake.set()

    async def _run_one(self, task: ClaimedTask, slot: InstanceSlot, claim_next: int) -> Finished | None:
        if self._stop_requested.pop(task.member, None) is not None:
            # Stopped between its claim and now: it never runs (its instance, if one was kept, is unused).
            await self._runner.release(slot)
            await self._runner.stopped(task)
            return None
        self._in_run.add(task.member)
        try:
            return await self._runner.run(task, slot, claim_next)
        except asyncio.CancelledError:
            if await self._cancelled(task):
                return None
            raise
        except RedisError as error:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                # redis-py turned the cancellation into a connection error.
                if await self._cancelled(task):
                    return None
                raise asyncio.CancelledError from error
            # The runner waits out an outage while it records a task; this is an error Redis answered with (or
            # an outage elsewhere): as with a bug, the lease runs out and the reaper gives the task back.
            if is_outage(error):
                redis_health(self._store.redis).failed(error, "the dispatcher")
            log.warning("task %s: Redis failed (%s); it runs again when its lease expires", task.member,
                        describe(error))
            return None
        except Exception:
            # A bug here must not lose the task: its lease runs out and the reaper gives it back.
            log.exception("task %s failed in the dispatcher", task.member)
            return None
        finally:
            self._in_run.discard(task.member)

    async def _cancelled(self, task: ClaimedTask) -> bool:
        """A task's run was cancelled: True when by a stop request (recorded Stopped here); otherwise, when this
        dispatcher is closing, the task goes back to the queue and the cancellation goes on (False)."""
        if self._stop_requested.pop(task.member, None) is not None:
            await self._runner.stopped(task)
            return True
        if self._closing:
            await self._store.requeue(task)
        return False

    async def _listen_loop(self) -> None:
        """Pub/sub hints: `wake` when an earlier task arrives, `stop` for a task someone stopped."""
        pubsub = self._store.redis.pubsub()
        try:
            await pubsub.subscribe(WAKE_CHANNEL, STOP_CHANNEL, DELIVER_CHANNEL)
            self._hint()  # anything published while unsubscribed is caught by this re-check
            async for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                if message["channel"] == STOP_CHANNEL.encode():
                    self._stop(message["data"].decode())
                elif message["channel"] == DELIVER_CHANNEL.encode():
                    self._deliverer.wake()
                else:
                    self._store.note_due(message["data"].decode())  # the task the wake is for
                    self._hint()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _stop(self, member: str) -> None:
        self._stop_requested[member] = time.monotonic()
        entry = self._running.get(member)
        if entry is not None and member in self._in_run:
            entry[1].cancel()

    def _forget_old_stop_requests(self) -> None:
        """A stop request is for a task running here within moments, or for another dispatcher's task."""
        horizon = time.monotonic() - self._lease_ms / 1000
        for member, at in list(self._stop_requested.items()):
            if at < horizon and member not in self._running:
                del self._stop_requested[member]

    async def _reap_loop(self) -> None:
        if self._reaper_ran:
            # Started again after a Redis outage: leases ran out meanwhile, and the heartbeat (which beats as
            # soon as it is back) must extend the ones of tasks still running here before they are reaped.
            await asyncio.sleep(REAP_INTERVAL_S)
        self._reaper_ran = True
        while not self._closing:
            reaped = 0
            for shard in self._store.shards:
                reaped += await self._store.reap(shard)
            if reaped:
                log.info("returned %d task(s) with expired leases to the queue", reaped)
            await self._expire_orphans()
            self._forget_old_stop_requests()
            # Also the backstop for a wake hint lost while pub/sub was reconnecting.
            self._hint()
            self._deliverer.wake()
            await asyncio.sleep(REAP_INTERVAL_S)

    async def _expire_orphans(self) -> None:
        """Due tasks of functions this dispatcher does not know are never claimed here; if no dispatcher knows
        the function (deleted, or its folder gone), only this ends them once older than their max age."""
        now, due_index = await self._store.due_index()
        for shard_index, function, due in due_index:
            if self._catalog.get(function) is None and due <= now + self._store.clock.ms:
                expired = await self._store.expire_orphans(self._store.shards[shard_index], function)
                if expired:
                    log.info("%d task(s) of unknown function %s expired", expired, function)

    async def _heartbeat_loop(self) -> None:
        # Beats first, then sleeps: started again after a Redis outage, it extends the leases at once.
        while not self._leases_released:
            tasks = [task for task, _ in self._running.values()]
            if tasks:
                await self._store.heartbeat(tasks, int(self._clock.now_ms()) + self._lease_ms)
            await asyncio.sleep(self._lease_ms / 3000)
