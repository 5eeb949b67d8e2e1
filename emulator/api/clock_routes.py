"""The emulator's clock (fcemu's own endpoints, not FC's): how far `fcemu clock advance` moved it, and the
advance itself."""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from emulator.api.errors import FCError, stamp_request_id
from emulator.api.json_body import optional_object
from emulator.core import Core
from emulator.queue.clock_offset import ClockError, advance_ms, parse_duration

router = APIRouter(prefix="/_fcemu/clock", dependencies=[Depends(stamp_request_id)])


class ClockView(BaseModel):
    # Redis's time (ms), which leases and real timestamps use.
    realTime: int
    # realTime plus the offset: the time due times, retry backoff, max event age and timers are judged by.
    virtualTime: int
    offsetMs: int
    offsetSeconds: float


async def _view(core: Core) -> ClockView:
    offset_ms = await core.store.clock.load()
    seconds, micros = await core.redis.time()
    real = seconds * 1000 + micros // 1000
    return ClockView(realTime=real, virtualTime=real + offset_ms, offsetMs=offset_ms, offsetSeconds=offset_ms / 1000)


def _seconds_of(body: Any) -> float:
    """{"seconds": 3600} or {"by": "1h"}: exactly one of them."""
    if not isinstance(body, dict):
        raise FCError(400, "InvalidArgument", 'the body must be a JSON object: {"seconds": 3600} or {"by": "1h"}')
    given = [name for name in ("seconds", "by") if name in body]
    unknown = sorted(set(body) - {"seconds", "by"})
    if unknown:
        raise FCError(400, "InvalidArgument", f"unknown field(s) {', '.join(unknown)}: use seconds or by")
    if len(given) != 1:
        raise FCError(400, "InvalidArgument", 'give exactly one of seconds (a number) or by (e.g. "1h")')
    value = body[given[0]]
    if given[0] == "seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FCError(400, "InvalidArgument", f"seconds must be a number, got {json.dumps(value)}")
        try:
            return float(value)
        except OverflowError as error:
            raise FCError(400, "InvalidArgument", "seconds is more than one advance may move the clock") from error
    if not isinstance(value, str):
        raise FCError(400, "InvalidArgument", f'by must be a duration string such as "1h", got {json.dumps(value)}')
    try:
        return parse_duration(value)
    except ClockError as error:
        raise FCError(400, "InvalidArgument", f"by: {error}") from error


@router.get("")
async def show_clock(request: Request) -> ClockView:
    return await _view(request.app.state.core)


@router.post("/advance")
async def advance_clock(request: Request) -> ClockView:
    """Moves the clock forward for every process sharing this Redis (never back, never past the year 9999); each
    wakes at once."""
    core: Core = request.app.state.core
    body = optional_object(await request.body())
    try:
        await core.store.clock.advance(advance_ms(_seconds_of(body)))
    except ClockError as error:  # ClockLimitError too: the sum of advances would pass the year 9999
        raise FCError(400, "InvalidArgument", str(error)) from error
    return await _view(core)
