"""Steering async work (fcemu's own endpoints, not FC's): run a waiting task now, re-run a finished one, fire a
timer trigger now."""
from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from emulator.api.errors import FCError, request_id_of, stamp_request_id
from emulator.api.invoke_headers import TASK_ID_PATTERN
from emulator.api.json_body import optional_object
from emulator.api.lookup import function_v3
from emulator.api.task_errors import V3_TASK_ERRORS
from emulator.core import Core
from emulator.queue.rerun import RerunRefused, rerun
from emulator.triggers.timer_scheduler import fire_timer

router = APIRouter(prefix="/_fcemu", dependencies=[Depends(stamp_request_id)])


class RunNowReply(BaseModel):
    taskId: str
    status: str


@router.post("/tasks/{function_name}/{task_id}/run-now")
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
    record = await core.task_reads.get(definition.name, task_id)
    return RunNowReply(taskId=task_id, status=record.status if record is not None else "Enqueued")


_RERUN_FIELDS = ("payload", "payloadBase64", "taskId")


async def _optional_object(request: Request) -> dict[str, Any]:
    return optional_object(await request.body()) or {}


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise FCError(400, "InvalidArgument", f"{name} must be a string")
    return value


def _edited_payload(body: dict[str, Any], limit: int) -> bytes | None:
    text, encoded = _string(body, "payload"), _string(body, "payloadBase64")
    if text is not None and encoded is not None:
        raise FCError(400, "InvalidArgument", "give at most one of payload and payloadBase64")
    if encoded is not None:
        try:
            payload: bytes | None = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise FCError(400, "InvalidArgument", f"payloadBase64 is not valid base64: {error}") from error
    else:
        try:
            payload = None if text is None else text.encode()
        except UnicodeEncodeError as error:
            raise FCError(400, "InvalidArgument", f"payload is not text that UTF-8 can hold: {error.reason}") from error
    if payload is not None and len(payload) > limit:
        raise FCError(400, "EntityTooLarge",
                      f"payload size exceeds maximum allowed size ({limit} bytes), got {len(payload)} bytes")
    return payload


@router.post("/tasks/{function_name}/{task_id}/rerun", status_code=202)
async def rerun_task(request: Request, function_name: str, task_id: str) -> JSONResponse:
    """A finished task runs again as a new task-mode task through the same qualifier, with that qualifier's current
    async config; the body may edit its payload ({"payload": text} or {"payloadBase64": ...}) and name the new task
    ({"taskId": ...})."""
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    body = await _optional_object(request)
    unknown = sorted(set(body) - set(_RERUN_FIELDS))
    if unknown:
        raise FCError(400, "InvalidArgument", f"unknown field(s) {', '.join(unknown)}: use {', '.join(_RERUN_FIELDS)}")
    edited = _edited_payload(body, core.settings.async_payload_limit_bytes)
    request_id = request_id_of(request)
    asked = _string(body, "taskId")
    # Checked only when given: the default, the request id, is what an async invoke without a task id uses.
    if asked is not None and not TASK_ID_PATTERN.fullmatch(asked):
        raise FCError(400, "InvalidArgument", f"taskId '{asked[:64]}' is not valid: 1 to 128 letters, digits, "
                      "'_' or '-', starting with a letter or '_'")
    new_id = asked or request_id
    original = await core.task_reads.get(definition.name, task_id)
    if original is None:
        raise V3_TASK_ERRORS.not_found(task_id)
    try:
        policy = core.async_configs.task_policy(definition, original.qualifier)  # the qualifier it ran through
        outcome = await rerun(core.store, policy, original, task_id=new_id,
                              request_id=request_id, edited_payload=edited)
    except RerunRefused as error:
        raise FCError(400, "InvalidArgument", str(error)) from error
    if not outcome.accepted.created:
        raise V3_TASK_ERRORS.already_exists(new_id)
    return JSONResponse({"taskId": new_id, "requestId": request_id, "rerunOf": task_id}, status_code=202,
                        headers={"x-fc-request-id": request_id})


@router.post("/triggers/{function_name}/{trigger_name}/fire", status_code=202)
async def fire_trigger(request: Request, function_name: str, trigger_name: str) -> JSONResponse:
    """A timer trigger fires now, with the event of a scheduled firing at the (advanced) current time, even when
    it is disabled: firing by hand is an explicit request."""
    core: Core = request.app.state.core
    definition = function_v3(core, function_name)
    entry = core.triggers.get(definition.name, trigger_name)
    if entry is None:
        raise FCError(404, "TriggerNotFound", f"trigger '{trigger_name}' does not exist")
    trigger = entry.trigger
    if trigger.triggerType != "timer":
        raise FCError(400, "InvalidArgument", f"trigger '{trigger_name}' is a {trigger.triggerType} trigger: "
                      "only timer triggers can be fired")
    offset_ms = await core.store.clock.load()
    seconds, micros = await core.redis.time()
    at = datetime.fromtimestamp((seconds * 1000 + micros // 1000 + offset_ms) / 1000, UTC)
    # Never the id of a scheduled firing (timer-<name>-<second>), which the queue would take for a duplicate.
    task_id = f"timer-{trigger_name}-fired-{uuid.uuid4().hex[:12]}"
    disabled = "" if trigger.triggerConfig.get("enable", True) else " (the trigger is disabled)"
    policy = core.async_configs.task_policy(definition, trigger.qualifier)
    await fire_timer(core.store, policy, trigger, at, task_id=task_id, note=f"fired by hand{disabled}", task_mode=True)
    return JSONResponse({"taskId": task_id, "requestId": task_id, "triggerTime": int(at.timestamp() * 1000)},
                        status_code=202, headers={"x-fc-request-id": request_id_of(request)})
