"""`fcemu invoke`: one invocation of a function of the running emulator, through FC's own API, as `s local invoke
-e` and `sam local invoke` do. Sync: the result on stdout, the log tail on stderr, a non-zero exit on a function
error. Async: the task id; with `wait`, the task's log lines as they come and its final state (a non-zero exit
unless it succeeded), heard on the emulator's event streams, never by polling."""
from __future__ import annotations

import base64
import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

FINAL = frozenset({"Succeeded", "Failed", "Stopped", "Expired", "Invalid"})
# After the final state, how long the last attempt's log lines may trail it (Docker copies output on its own).
LOG_GRACE_S = 5.0
CONNECT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Invocation:
    function: str
    event: bytes
    asynchronous: bool = False
    delay_s: int | None = None
    task_id: str | None = None
    wait: bool = False


class InvokeError(Exception):
    """The emulator refused the invocation (FC's error) or could not be reached; the message says which."""


def _path(function: str) -> str:
    return f"/2023-03-30/functions/{urllib.parse.quote(function, safe='')}/invocations"


def _error_text(error: urllib.error.HTTPError) -> str:
    raw = error.read()
    try:
        body = json.loads(raw)
        return f"{error.code} {body.get('Code')}: {body.get('Message')}"
    except ValueError:
        return f"{error.code} {raw.decode(errors='replace')}"


def _send(url: str, invocation: Invocation, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(  # noqa: S310 - the emulator's own URL
        url + _path(invocation.function), data=invocation.event, method="POST",
        headers={"Content-Type": "application/octet-stream", **headers})
    try:
        # No timeout: a function may run for its whole timeout (up to a day); Ctrl-C ends the wait.
        with urllib.request.urlopen(request) as reply:  # noqa: S310 - the emulator's own URL
            return reply.status, {name.lower(): value for name, value in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as error:
        raise InvokeError(_error_text(error)) from error
    except urllib.error.URLError as error:
        raise InvokeError(f"the emulator does not answer at {url} ({error.reason}); `fcemu up`") from error


def invoke_sync(url: str, invocation: Invocation) -> int:
    _, headers, body = _send(url, invocation, {"x-fc-log-type": "Tail"})
    tail = headers.get("x-fc-log-result")
    if tail:
        sys.stderr.write(base64.b64decode(tail).decode(errors="replace"))
    sys.stdout.buffer.write(body + (b"" if body.endswith(b"\n") else b"\n"))
    sys.stdout.flush()
    if headers.get("x-fc-error-type"):
        print(f"fcemu invoke: the function failed ({headers['x-fc-error-type']})", file=sys.stderr)
        return 1
    return 0


def _async_headers(invocation: Invocation) -> dict[str, str]:
    headers = {"x-fc-invocation-type": "Async"}
    if invocation.delay_s is not None:
        headers["x-fc-async-delay"] = str(invocation.delay_s)
    if invocation.task_id:
        headers["x-fc-async-task-id"] = invocation.task_id
    return headers


def _events(response: Any) -> Iterator[tuple[str, str]]:
    """Server-sent events as (event, data); comments as ("comment", text)."""
    event, data = "message", []
    for raw in response:
        line = raw.decode(errors="replace").rstrip("\r\n")
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            yield event, "\n".join(data)
            event, data = "message", []


class _Stream(threading.Thread):
    """Reads one event stream into a queue shared with the other; `ready` once the server said it subscribed."""

    def __init__(self, name: str, url: str, ready_comment: str, into: queue.Queue[tuple[str, str, str]]) -> None:
        super().__init__(daemon=True, name=name)
        self._url, self._ready_comment, self._into = url, ready_comment, into
        # `done` once the server said it subscribed, or the stream failed; `subscribed` only in the first case.
        self.done = threading.Event()
        self.subscribed = False
        self.response: Any = None

    def run(self) -> None:
        try:
            self.response = urllib.request.urlopen(self._url, timeout=None)  # noqa: S310 - the emulator's own URL
            for event, data in _events(self.response):
                if event == "comment" and data == self._ready_comment:
                    self.subscribed = True
                    self.done.set()
                self._into.put((self.name, event, data))
        except Exception as error:  # noqa: BLE001 - closed under it, or the emulator went: either ends the stream
            self._into.put((self.name, "error", str(error)))
        finally:
            self.done.set()
            self._into.put((self.name, "end", ""))

    def close(self) -> None:
        if self.response is not None:
            self.response.close()


def invoke_async(url: str, invocation: Invocation) -> int:
    if not invocation.wait:
        _, headers, _ = _send(url, invocation, _async_headers(invocation))
        print(f"accepted: task {invocation.task_id or headers.get('x-fc-request-id', '')} of {invocation.function}")
        return 0
    heard: queue.Queue[tuple[str, str, str]] = queue.Queue()
    function = urllib.parse.quote(invocation.function, safe="")
    streams = [_Stream("logs", f"{url}/_fcemu/logs?function={function}&follow=true", "following", heard),
               _Stream("tasks", f"{url}/_fcemu/events?function={function}", "connected", heard)]
    for stream in streams:
        stream.start()
    try:
        for stream in streams:
            # Nothing is invoked unless both streams are heard: a task whose end could not be told is not started.
            if not stream.done.wait(CONNECT_TIMEOUT_S) or not stream.subscribed:
                raise InvokeError(f"the emulator's {stream.name} stream did not open at {url}; nothing was invoked")
        _, headers, _ = _send(url, invocation, _async_headers(invocation))
        request_id = headers.get("x-fc-request-id", "")
        task_id = invocation.task_id or request_id
        print(f"accepted: task {task_id} of {invocation.function}; waiting for it to end", file=sys.stderr)
        return _follow(task_id, {task_id, request_id}, heard)
    finally:
        for stream in streams:
            stream.close()


def _follow(task_id: str, request_ids: set[str], heard: queue.Queue[tuple[str, str, str]]) -> int:
    """Prints the task's log lines (its attempts' request ids) until it ended and its last attempt's End line came
    (or LOG_GRACE_S passed)."""
    final: str | None = None
    attempts = ends = 0
    grace_until = float("inf")
    while final is None or (ends < attempts and time.monotonic() < grace_until):
        try:
            source, event, data = heard.get(timeout=None if final is None else max(0.0, grace_until - time.monotonic()))
        except queue.Empty:
            break
        if event in ("error", "end") and final is None:
            raise InvokeError(f"the emulator's {source} stream ended before the task did ({data or 'closed'})")
        if source == "logs" and event == "message":
            entry = json.loads(data)
            if entry.get("requestId") in request_ids:
                message = str(entry.get("message", ""))
                print(message, flush=True)
                ends += message.startswith("FC Invoke End RequestId:")
        elif source == "tasks" and event == "task":
            change = json.loads(data)
            if change.get("taskId") == task_id:
                attempts += change.get("status") == "Running"
                if change.get("status") in FINAL:
                    final = str(change["status"])
                    grace_until = time.monotonic() + LOG_GRACE_S
        elif source == "tasks" and event == "resync":
            raise InvokeError("task changes were missed (the emulator's stream fell behind); see `fcemu logs`")
    print(f"task {task_id}: {final}", file=sys.stderr)
    return 0 if final == "Succeeded" else 1
