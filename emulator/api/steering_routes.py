"""Steering async work (fcemu's own endpoints, not FC's): run a waiting task now."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from emulator.api.errors import FCError, stamp_request_id
from emulator.api.lookup import function_v3
from emulator.api.task_errors import V3_TASK_ERRORS
from emulator.core import Core

router = APIRouter(prefix="/_fcemu/tasks", dependencies=[Depends(stamp_request_id)])


class RunNowReply(BaseModel):
    taskId: str
    status: str


@router.post("/{function_name}/{task_id}/run-now")
async def run_now(request: Request, function_name: str, task_id: str) -> RunNowReply:
    """A deferred task, or one waiting out a retry's backoff, becomes due now."""
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    outcome = await core.store.run_now(definition.name, task_id)
    if outcome == "NotFound":
        raise V3_TASK_ERRORS.not_found(task_id)
    if outcome != "Scheduled":
        raise FCError(400, "InvalidArgument",
                      f"async task '{task_id}' is {outcome}: only a task waiting to run (deferred or retrying) "
                      "can be run now")
    record = await core.store.get(definition.name, task_id)
    return RunNowReply(taskId=task_id, status=record.status if record is not None else "Enqueued")
