"""Server-sent events, the one way fcemu's endpoints stream them (the console's task events, logs' follow mode).

A stream is owned: it takes one of the process's stream slots (at most `FCEMU_MAX_STREAMS` at once; past them FC's
429 ResourceExhausted), and what it holds (its slot, its place in a channel hub) is given back by the response
itself, synchronously, the moment it ends: when its client leaves (listened for as it happens, not looked at
between chunks), when the server is asked to exit, or when the stream was never started. A stream never holds a
Redis connection while it waits: its source is a hub's queue. A quiet stream sends a comment line now and then
(proxies and browsers drop silent ones)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from typing import TypeVar

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse
from prometheus_client import Gauge
from starlette.types import Receive, Scope, Send

from emulator.api.errors import FCError
from emulator.queue.channel_hub import ChannelHub, Listener

T = TypeVar("T")

# How often a stream's source hands back control (None when it has nothing) so that the stream can look at the
# server, and after how many quiet looks a comment line is sent.
TICK_S = 1.0
KEEPALIVE_TICKS = 15


class StreamSlots:
    """The open streams of this process, up to a cap."""

    def __init__(self, limit: int, gauge: Gauge | None = None) -> None:
        self.limit = limit
        self.open = 0
        self._gauge = gauge

    def take(self, held: ExitStack) -> None:
        """One slot, given back when `held` closes; FC's 429 when none is free."""
        if self.open >= self.limit:
            raise FCError(429, "ResourceExhausted",
                          f"too many open streams: this process serves at most {self.limit} log followers and "
                          "console event streams at once (FCEMU_MAX_STREAMS); close one or raise the setting")
        self.open += 1
        self._show()
        held.callback(self._give_back)

    def _give_back(self) -> None:
        self.open -= 1
        self._show()

    def _show(self) -> None:
        if self._gauge is not None:
            self._gauge.set(self.open)


async def join_stream(request: Request, hub: ChannelHub[T], accepts: Callable[[T], bool],
                      held: ExitStack) -> Listener[T]:
    """A stream slot (or FC's 429) and a place in `hub` for the items `accepts` takes, both given back when
    `held` closes: at the stream's end, or at once if the route fails before it starts."""
    slots: StreamSlots = request.app.state.stream_slots
    slots.take(held)
    listener = await hub.join(accepts)
    held.callback(hub.leave, listener)
    return listener


class EventStreamResponse(StreamingResponse):
    """Streams `chunks` while listening for the client's disconnect, whatever ASGI version the server speaks, and
    closes `held` (synchronous callbacks) however it ends."""

    def __init__(self, chunks: AsyncIterator[str], held: ExitStack) -> None:
        super().__init__(chunks, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._chunks = chunks
        self._held = held

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:
                async def until_disconnected() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnected)
                await self.stream_response(send)
                group.cancel_scope.cancel()
        except OSError:
            pass  # the client went while a chunk was being written
        finally:
            # First, and with no await: a cancellation cannot cut it short.
            self._held.close()
            with anyio.CancelScope(shield=True):
                await self._chunks.aclose()  # type: ignore[attr-defined]


def event_stream(request: Request, chunks: AsyncIterator[str | None], held: ExitStack) -> EventStreamResponse:
    """`chunks` yields SSE text, or None at least every TICK_S while it has none; it must not wait on Redis.
    `held` is closed with the stream."""
    exiting: Callable[[], bool] = getattr(request.app.state, "exiting", lambda: False)

    async def stream() -> AsyncIterator[str]:
        quiet = 0
        try:
            async for chunk in chunks:
                if chunk is not None:
                    quiet = 0
                    yield chunk
                else:
                    quiet += 1
                    if quiet >= KEEPALIVE_TICKS:
                        quiet = 0
                        yield ": keep-alive\n\n"
                if exiting():
                    return
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    return EventStreamResponse(stream(), held)
