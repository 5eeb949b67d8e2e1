"""Function log lines kept per invocation (fcemu's own endpoint, not FC's): GET /_fcemu/logs answers JSON lines
(the newest that fit in the reader's ANSWER_MAX_BYTES, with TRUNCATED_HEADER when older ones were left out);
with follow=true it streams them as server-sent events, every follower of the process fed by one subscription
(see logs/log_hub.py)."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from redis.exceptions import ConnectionError as RedisConnectionError

from emulator.api.errors import FCError, stamp_request_id
from emulator.api.event_stream import TICK_S, event_stream, join_stream
from emulator.core import Core
from emulator.logs.reader import RECENT_STREAMS, TRUNCATED_HEADER, LogFilter, LogReader, not_in
from emulator.queue.channel_hub import Gap

router = APIRouter(prefix="/_fcemu", dependencies=[Depends(stamp_request_id)])

# The last event of a follower that fell FOLLOWER_BACKLOG lines behind (or whose subscription was lost and taken
# again): its stream ends rather than skipping lines silently; the kept lines are read back by request id.
BEHIND_EVENT = "event: behind\ndata: {\"message\": \"lines were missed (this client read too slowly, or Redis was " \
               "away); the stream ends here: read them back with requestId\"}\n\n"


@router.get("/logs")
async def logs(
    request: Request,
    function: Annotated[str, Query(max_length=128)] = "",
    requestId: Annotated[str, Query(max_length=128)] = "",  # noqa: N803 - the names FC's own request ids go by
    taskId: Annotated[str, Query(max_length=128)] = "",  # noqa: N803
    recent: Annotated[int, Query(ge=1, le=1000)] = RECENT_STREAMS,
    follow: bool = False,
) -> Response:
    if taskId and not function:
        raise FCError(400, "InvalidArgument", "taskId needs function: task ids are unique per function")
    wanted = LogFilter(function=function, request_id=requestId, task_id=taskId)
    core: Core = request.app.state.core
    reader = LogReader(core.api_redis)
    if not follow:
        kept = await reader.lines(wanted, recent)
        body = "".join(json.dumps(entry) + "\n" for entry in kept.entries)
        headers = {TRUNCATED_HEADER: "true"} if kept.truncated else {}
        return Response(body, media_type="application/x-ndjson", headers=headers)

    with ExitStack() as setup:
        listener = await join_stream(request, core.log_hub, wanted.matches, setup)
        if not core.log_hub.subscribed:
            # A Redis that is down is FC's 503 (the Redis error handler's), not a stream that breaks at once.
            raise RedisConnectionError("the log channel could not be subscribed")
        # Subscribed first, then read (here, before the stream starts: nothing in the stream waits on Redis).
        backlog = await reader.backlog(wanted)
        held = setup.pop_all()  # from here on, the stream's to give back
    is_new = not_in(backlog)

    async def chunks() -> AsyncIterator[str | None]:
        yield ": following\n\n"  # the client knows it is subscribed: no line printed from now on is missed
        for entry in backlog:
            yield _data(entry)
        while True:
            item = await listener.next(TICK_S)
            if isinstance(item, Gap):
                yield BEHIND_EVENT
                return
            yield None if item is None else _data(item) if is_new(item) else None

    return event_stream(request, chunks(), held)


def _data(entry: dict[str, Any]) -> str:
    return f"data: {json.dumps(entry)}\n\n"
