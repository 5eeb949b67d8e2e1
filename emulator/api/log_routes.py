"""Function log lines kept per invocation (fcemu's own endpoint, not FC's): GET /_fcemu/logs answers JSON lines;
with follow=true it streams them as server-sent events."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from emulator.api.errors import FCError, stamp_request_id
from emulator.api.event_stream import TICK_S, event_stream
from emulator.logs.reader import RECENT_STREAMS, LogFilter, LogReader

router = APIRouter(prefix="/_fcemu", dependencies=[Depends(stamp_request_id)])


@router.get("/logs")
async def logs(
    request: Request,
    function: Annotated[str, Query(max_length=128)] = "",
    requestId: Annotated[str, Query(max_length=128)] = "",
    taskId: Annotated[str, Query(max_length=128)] = "",
    recent: Annotated[int, Query(ge=1, le=1000)] = RECENT_STREAMS,
    follow: bool = False,
) -> Response:
    if taskId and not function:
        raise FCError(400, "InvalidArgument", "taskId needs function: task ids are unique per function")
    wanted = LogFilter(function=function, request_id=requestId, task_id=taskId)
    reader = LogReader(request.app.state.core.redis)
    if not follow:
        entries = await reader.lines(wanted, recent)
        body = "".join(json.dumps(entry) + "\n" for entry in entries)
        return Response(body, media_type="application/x-ndjson")

    followed = reader.follow(wanted, idle_s=TICK_S)
    # Subscribed before the answer starts: a Redis that is down is FC's 503, not a stream that breaks at once.
    await anext(followed)

    async def chunks() -> AsyncIterator[str | None]:
        yield ": following\n\n"  # the client knows it is subscribed: no line printed from now on is missed
        try:
            async for entry in followed:
                yield None if entry is None else f"data: {json.dumps(entry)}\n\n"
        finally:
            await followed.aclose()

    return event_stream(request, chunks())
