"""Puts an async invocation on the queue with the function's async config: the one way in, for the API and
for function destinations alike."""
from __future__ import annotations

from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import AsyncInvokeConfig
from emulator.queue.store import Enqueued, TaskStore


async def submit_invocation(
    store: TaskStore, definition: FunctionDefinition, config: AsyncInvokeConfig, *, task_id: str, request_id: str,
    payload: bytes, delay_ms: int, task_mode: bool, kind: str = "", note: str = "",
) -> Enqueued:
    destinations = config.destinationConfig
    return await store.enqueue(
        function=definition.name, task_id=task_id, request_id=request_id, payload=payload, delay_ms=delay_ms,
        max_retry=config.maxAsyncRetryAttempts, max_age_s=config.maxAsyncEventAgeInSeconds, task_mode=task_mode,
        qualifier="LATEST",
        on_success=destinations.onSuccess.destination if destinations and destinations.onSuccess else "",
        on_failure=destinations.onFailure.destination if destinations and destinations.onFailure else "",
        kind=kind, version=definition.identity, note=note,
    )
