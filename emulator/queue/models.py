"""What the queue hands out and stores, as plain data."""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field


class TaskStatus(str, enum.Enum):
    """FC's async task states, with FC's names."""

    ENQUEUED = "Enqueued"
    DEQUEUED = "Dequeued"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    RETRYING = "Retrying"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    EXPIRED = "Expired"
    INVALID = "Invalid"


FINAL_STATUSES = frozenset(
    {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.STOPPED, TaskStatus.EXPIRED, TaskStatus.INVALID}
)


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    """A task this dispatcher holds a lease on; `attempt` is the fencing token for every later transition."""

    member: str
    function: str
    task_id: str
    attempt: int
    retried: int
    request_id: str
    payload: bytes
    # "" for an event invocation, "http" for an HTTP function's request (payload: see api/http_trigger_routes),
    # "timer" and "mns" for events of those triggers (run as "" is; the kind names them in the metrics).
    kind: str = ""
    # The function it was accepted for (FunctionDefinition.identity); "" for tasks queued before fcemu kept it.
    version: str = ""
    # When it was due and when it was claimed (Redis ms): how late it started, for the metrics.
    due_ms: int = 0
    claimed_ms: int = 0
    # The qualifier it was invoked with (LATEST, a version id or an alias); "" when LATEST or queued before fcemu
    # kept it. An alias's version is drawn when the task runs.
    qualifier: str = ""


@dataclass(frozen=True)
class ClaimBatch:
    redis_now_ms: int
    next_due_ms: int | None
    claimed: list[ClaimedTask]
    expired: list[str]


@dataclass(frozen=True)
class TaskEvent:
    eventId: int
    status: str
    timestamp: int
    eventDetail: str
    # When the clock was advanced (`fcemu clock advance`): the advanced time the event happened at.
    virtualTimestamp: int | None = None


@dataclass(frozen=True)
class TaskRecord:
    function: str
    task_id: str
    request_id: str
    status: str
    created_ms: int
    due_ms: int
    end_ms: int | None
    ran_ms: int | None
    retried: int
    payload: bytes
    return_payload: bytes
    error_message: str
    instance_id: str
    qualifier: str
    task_mode: bool
    attempts: int = 0
    destination_status: str = ""
    destination_error: str = ""
    on_success: str = ""
    on_failure: str = ""
    kind: str = ""  # see ClaimedTask.kind
    # The version that ran, for a task invoked with a version or an alias ("" for LATEST).
    version_id: str = ""
    events: list[TaskEvent] = field(default_factory=list)

    @classmethod
    def from_redis(cls, fields: dict[bytes, bytes], raw_events: list[bytes]) -> TaskRecord:
        def text(name: str) -> str:
            return fields.get(name.encode(), b"").decode(errors="replace")

        def number(name: str) -> int | None:
            value = fields.get(name.encode())
            return int(value) if value else None

        return cls(
            function=text("fn"),
            task_id=text("id"),
            request_id=text("rid"),
            status=text("status"),
            created_ms=number("created") or 0,
            due_ms=number("due") or 0,
            end_ms=number("end"),
            ran_ms=number("ran"),
            retried=number("retried") or 0,
            payload=fields.get(b"payload", b""),
            return_payload=fields.get(b"ret", b""),
            error_message=text("err"),
            instance_id=text("inst"),
            qualifier=text("qualifier") or "LATEST",
            task_mode=text("taskMode") == "1",
            attempts=number("attempt") or 0,
            destination_status=text("dest"),
            destination_error=text("destError"),
            on_success=text("onSuccess"),
            on_failure=text("onFailure"),
            kind=text("kind"),
            version_id=text("versionId"),
            events=[TaskEvent(**json.loads(raw)) for raw in raw_events],
        )
