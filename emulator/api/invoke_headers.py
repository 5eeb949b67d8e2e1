"""The x-fc-* headers of an invoke request, checked the way FC checks them."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Literal

from starlette.datastructures import Headers

from emulator.api.errors import FCError
from emulator.api.numbers import whole_number

# Matched whole (fullmatch): `$` would also accept a trailing newline.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.:-]{0,127}")
INVOCATION_TYPES = {"sync": "Sync", "async": "Async"}
LOG_TYPES = {"none": "None", "tail": "Tail"}


TASK_ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
MAX_ASYNC_DELAY_S = 3600
TASK_ID_HEADERS = ("x-fc-async-task-id", "x-fc-stateful-async-invocation-id")


@dataclass(frozen=True, slots=True)
class InvokeHeaders:
    request_id: str
    invocation_type: Literal["Sync", "Async"]
    log_tail: bool


@dataclass(frozen=True, slots=True)
class AsyncHeaders:
    delay_s: int
    # The task id the client chose (3.0 `x-fc-async-task-id`, 2.0 `x-fc-stateful-async-invocation-id`).
    task_id: str | None


def parse_async_headers(headers: Headers) -> AsyncHeaders:
    raw_delay = headers.get("x-fc-async-delay")
    delay = 0
    if raw_delay is not None and raw_delay != "":
        parsed = whole_number(raw_delay, MAX_ASYNC_DELAY_S)
        if parsed is None or parsed > MAX_ASYNC_DELAY_S:
            raise FCError(
                400, "InvalidArgument",
                f"header x-fc-async-delay must be a whole number of seconds from 0 to {MAX_ASYNC_DELAY_S}, "
                f"got '{_shown(raw_delay)}'",
            )
        delay = parsed
    task_id = None
    for name in TASK_ID_HEADERS:
        value = headers.get(name)
        if value:
            if not TASK_ID_PATTERN.fullmatch(value):
                raise FCError(
                    400, "InvalidArgument",
                    f"header {name} '{_shown(value)}' is not a valid task id: a letter or '_' first, then letters, "
                    "digits, '_' or '-', at most 128 characters",
                )
            task_id = value
    return AsyncHeaders(delay, task_id)


def _shown(value: str) -> str:
    """A client's value as an error message quotes it: cut, so that a huge header does not make a huge answer."""
    return value if len(value) <= 64 else value[:64] + "..."


def _choice(headers: Headers, name: str, choices: dict[str, str], default: str) -> str:
    raw = headers.get(name)
    if raw is None or raw == "":
        return default
    value = choices.get(raw.lower())
    if value is None:
        allowed = ", ".join(choices.values())
        raise FCError(400, "InvalidArgument", f"header {name} must be one of {allowed}, got '{_shown(raw)}'")
    return value


def parse_invoke_headers(headers: Headers) -> InvokeHeaders:
    request_id = headers.get("x-fc-request-id")
    if request_id is None:
        request_id = str(uuid.uuid4())
    elif not REQUEST_ID_PATTERN.fullmatch(request_id):
        raise FCError(
            400, "InvalidArgument",
            "header x-fc-request-id must be 1-128 characters of letters, digits, '_', '-', '.' or ':'",
        )
    invocation_type = _choice(headers, "x-fc-invocation-type", INVOCATION_TYPES, "Sync")
    log_type = _choice(headers, "x-fc-log-type", LOG_TYPES, "None")
    return InvokeHeaders(request_id, invocation_type, log_type == "Tail")  # type: ignore[arg-type]
