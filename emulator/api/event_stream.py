"""Server-sent events, the one way fcemu's endpoints stream them (the console's task events, logs' follow mode):
a stream ends when its client leaves or the server is asked to exit, so that neither waits on an open console,
and a quiet stream sends a comment line now and then (proxies and browsers drop silent ones)."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse

# How often a stream's source hands back control (None when it has nothing) so that the stream can look at its
# client and the server, and after how many quiet looks a comment line is sent.
TICK_S = 1.0
KEEPALIVE_TICKS = 15


def event_stream(request: Request, chunks: AsyncIterator[str | None]) -> StreamingResponse:
    """`chunks` yields SSE text, or None at least every TICK_S while it has none; it is closed with the stream."""
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
                if exiting() or await request.is_disconnected():
                    return
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
