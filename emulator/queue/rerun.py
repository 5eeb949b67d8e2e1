"""Re-runs a finished task as a new one: the same payload (or an edited one), kind and qualifier, through the submit
path, so that it gets its qualifier's current task policy (destinations, max event age, retries) as a new
invocation would."""
from __future__ import annotations

from dataclasses import dataclass

from emulator.queue.models import FINAL_STATUSES, TaskRecord
from emulator.queue.store import Enqueued, TaskStore
from emulator.queue.submit import submit_invocation
from emulator.queue.task_policy import TaskPolicy


class RerunRefused(ValueError):
    """The task cannot be re-run as asked; the message says why."""


@dataclass(frozen=True)
class Rerun:
    task_id: str
    request_id: str
    accepted: Enqueued


def check_rerunnable(original: TaskRecord, edited_payload: bytes | None) -> None:
    if original.status not in {status.value for status in FINAL_STATUSES}:
        raise RerunRefused(f"async task '{original.task_id}' is {original.status}: only a finished task "
                           "(Succeeded, Failed, Stopped, Expired, Invalid) can be re-run")
    if edited_payload is not None and original.kind == "http":
        # Its payload is the whole HTTP request (method, path, headers, body), not what a client would edit.
        raise RerunRefused(f"async task '{original.task_id}' is an HTTP request, re-run as it came: its payload "
                           "cannot be edited (send the edited request to the HTTP trigger instead)")


async def rerun(
    store: TaskStore, policy: TaskPolicy, original: TaskRecord, *, task_id: str, request_id: str,
    edited_payload: bytes | None = None,
) -> Rerun:
    """The re-run is a task-mode task (its id is what the caller gets back, to look it up by), whatever the
    original was; the caller checks `accepted.created` (False: the id is taken)."""
    check_rerunnable(original, edited_payload)
    edited = " with an edited payload" if edited_payload is not None else ""
    accepted = await submit_invocation(
        store, policy, task_id=task_id, request_id=request_id,
        payload=original.payload if edited_payload is None else edited_payload, delay_ms=0, task_mode=True,
        kind=original.kind, note=f"re-run of task {original.task_id}{edited}", qualifier=original.qualifier,
    )
    return Rerun(task_id=task_id, request_id=request_id, accepted=accepted)
