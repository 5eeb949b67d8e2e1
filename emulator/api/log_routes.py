"""Function log lines kept per invocation (fcemu's own endpoint, not FC's): GET /_fcemu/logs answers JSON lines;
with follow=true it streams them as server-sent events."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from emulator.api.errors import FCError, stamp_request_id
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

    async def events() -> AsyncIterator[str]:
        yield ": following\n\n"  # sent at once: the client knows it is subscribed
        async for entry in reader.follow(wanted):
            if await request.is_disconnected():
                return
            yield ": idle\n\n" if entry is None else f"data: {json.dumps(entry)}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
