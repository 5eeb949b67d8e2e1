"""Follows each instance's container output live, in one thread per instance (started with the instance, ended
with it), and keeps the lines per invocation through the LogWriter. Nothing on the invoke path waits for it."""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol

from emulator.logs.attribution import LineAttributor, LogBounds
from emulator.logs.writer import LogEntry, LogWriter

log = logging.getLogger(__name__)

# The longest line kept (a function printing a 20 MB JSON document on one line keeps its first 64 KiB).
MAX_LINE_BYTES = 64 * 1024
CUT_MARK = b" [fcemu] line cut at 64 KiB"

# Async tasks whose request id → task id is remembered until their first line comes.
REMEMBERED_TASKS = 10_000


class LogStream(Protocol):
    def __iter__(self) -> Iterator[bytes]: ...
    def close(self) -> None: ...


# Opens a container's output from its start, followed, each line prefixed with Docker's RFC 3339 timestamp.
OpenStream = Callable[[str], LogStream]


def split_timestamp(raw: str) -> tuple[int, str]:
    """Docker's `2026-11-23T22:40:00.123456789Z text` as (Unix ms, text); now when there is no timestamp."""
    stamp, _, text = raw.partition(" ")
    try:
        seconds, _, fraction = stamp.rstrip("Z").partition(".")
        moment = datetime.fromisoformat(seconds + "+00:00")
        return int(moment.timestamp() * 1000) + int((fraction + "000")[:3]), text
    except ValueError:
        return int(time.time() * 1000), raw


class LogPumps:
    def __init__(self, writer: LogWriter, open_stream: OpenStream, bounds: LogBounds) -> None:
        self._writer = writer
        self._open_stream = open_stream
        self._bounds = bounds
        self._tasks: OrderedDict[str, str] = OrderedDict()
        self._tasks_lock = threading.Lock()
        self._pumps: dict[str, _InstancePump] = {}

    def note_task(self, request_id: str, task_id: str) -> None:
        """Called before an async task's invocation: its lines are kept under its task id too."""
        with self._tasks_lock:
            self._tasks[request_id] = task_id
            while len(self._tasks) > REMEMBERED_TASKS:
                self._tasks.popitem(last=False)

    def task_of(self, request_id: str) -> str:
        with self._tasks_lock:
            return self._tasks.get(request_id, "")

    def expect(self, container_id: str, request_id: str) -> None:
        """Called before a request is sent to an instance: only such a request's framing lines are believed."""
        pump = self._pumps.get(container_id)
        if pump is not None:
            pump.expect(request_id)

    def start(self, function: str, container_id: str) -> None:
        pump = _InstancePump(self, function, container_id)
        self._pumps[container_id] = pump
        pump.start()

    def stop(self, container_id: str) -> None:
        """The stream also ends by itself once the container is gone; this ends it at once."""
        pump = self._pumps.pop(container_id, None)
        if pump is not None:
            pump.stop()

    def close(self) -> None:
        for container_id in list(self._pumps):
            self.stop(container_id)
        self._writer.close()

    def open_stream(self, container_id: str) -> LogStream:
        return self._open_stream(container_id)

    def write(self, entries: list[LogEntry], tasks: dict[str, tuple[str, str]]) -> None:
        self._writer.put(entries, tasks)

    @property
    def bounds(self) -> LogBounds:
        return self._bounds


class _InstancePump:
    def __init__(self, pumps: LogPumps, function: str, container_id: str) -> None:
        self._pumps = pumps
        self._function = function
        self._container_id = container_id
        self._attributor = LineAttributor(pumps.bounds)
        self._stream: LogStream | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._complained = False
        self._thread = threading.Thread(target=self._run, name=f"logs-{container_id[:12]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def expect(self, request_id: str) -> None:
        self._attributor.expect(request_id)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):  # a stream closed twice, or by Docker already
                stream.close()

    def _run(self) -> None:
        try:
            stream = self._pumps.open_stream(self._container_id)
        except Exception as error:  # noqa: BLE001 - the instance works without its logs
            log.warning("cannot follow the output of instance %s of %s: %s", self._container_id[:12],
                        self._function, error)
            return
        with self._lock:
            self._stream = stream
        if self._stopped.is_set():
            stream.close()
            return
        pending = bytearray()
        # Past MAX_LINE_BYTES a line is cut: its start is kept and the rest dropped up to its end.
        cutting = False
        try:
            for chunk in stream:
                searched_from = len(pending)
                pending += chunk
                # Only the new bytes are searched: a long line arriving in many frames costs linear time.
                end = pending.rfind(b"\n", searched_from)
                if end >= 0:
                    complete = bytes(pending[:end]).split(b"\n")
                    del pending[:end + 1]
                    if cutting:
                        complete, cutting = complete[1:], False
                    if complete:
                        self._keep(complete)
                if len(pending) > MAX_LINE_BYTES:
                    if not cutting:
                        self._keep([bytes(pending[:MAX_LINE_BYTES]) + CUT_MARK])
                    cutting = True
                    pending.clear()
        except Exception as error:  # noqa: BLE001 - a closed stream ends like this; anything else ends it too
            if not self._stopped.is_set():
                log.warning("stopped following instance %s of %s: %s", self._container_id[:12], self._function,
                            error)
        if pending and not cutting:
            self._keep([bytes(pending)])

    def _keep(self, raw_lines: list[bytes]) -> None:
        try:
            entries: list[LogEntry] = []
            tasks: dict[str, tuple[str, str]] = {}
            instance_id = self._container_id[:12]
            for raw in raw_lines:
                timestamp_ms, text = split_timestamp(raw.decode(errors="replace").rstrip("\r"))
                for request_id, line in self._attributor.attribute(text):
                    task_id = self._pumps.task_of(request_id) if request_id else ""
                    if task_id:
                        tasks[request_id] = (self._function, task_id)
                    entries.append(LogEntry(timestamp_ms, self._function, request_id, task_id, instance_id, line))
            self._pumps.write(entries, tasks)
        except Exception:  # one bad batch of lines must not end the instance's log
            if not self._complained:
                self._complained = True
                log.exception("could not keep log lines of instance %s of %s; skipping them",
                              self._container_id[:12], self._function)
