"""Puts an async invocation on the queue with the function's task policy: the one way in, for the API, the
triggers and function destinations alike."""
from __future__ import annotations

from emulator.queue.store import Enqueued, TaskStore
from emulator.queue.task_policy import TaskPolicy


async def submit_invocation(
    store: TaskStore, policy: TaskPolicy, *, task_id: str, request_id: str, payload: bytes, delay_ms: int,
    task_mode: bool, kind: str = "", note: str = "", qualifier: str = "LATEST",
) -> Enqueued:
    """`qualifier`: what it was invoked with (LATEST, a version id or an alias), recorded on the task."""
    return await store.enqueue(
        function=policy.function, task_id=task_id, request_id=request_id, payload=payload, delay_ms=delay_ms,
        max_retry=policy.max_retry, max_age_s=policy.max_age_s, task_mode=task_mode, qualifier=qualifier,
        on_success=policy.on_success, on_failure=policy.on_failure, kind=kind, version=policy.version, note=note,
    )
