"""Which invocation an instance's output line belongs to, and how much of it is kept. Pure logic, no I/O.

The agents (and custom runtimes that follow FC) frame a request's output with `FC <Stage> Start RequestId: X`
and `FC <Stage> End RequestId: X`. With instanceConcurrency > 1 several requests are open at once; then a line
naming one of them (FC's logger puts the request id in every line) goes to that one, else it cannot be told
apart and goes to the instance only (request id "").

The function's own output shares the stream, so the framing is only believed as far as the emulator vouches
for it: a Start line opens a request only when the emulator sent that request to this instance (`expect`) and
it has not started yet, and an End line closes only an open request, once. Any other framing line is an
ordinary line of whoever owns it. Output after an invocation's End line stays with it while no other one is
open, so that a function printing an End line of its own cannot leave its frame (and its bound).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass


def framing_marker(stage: str, edge: str) -> str:
    """How FC's framing line begins, up to the request id that follows it: `FC <Stage> <Start|End> RequestId: `."""
    return f"FC {stage} {edge} RequestId: "


# Any stage's Start or End line; the id ends at a blank, a comma (`, Error: ...`) or the line's end.
FRAMING = re.compile("^" + framing_marker(r"\w+", "(Start|End)") + r"(\S+?),?(?:\s|$)")
# Requests whose counters are remembered after their End line (a late line of a concurrent request still counts).
REMEMBERED_REQUESTS = 256
TRUNCATION_MARKER = "[fcemu] log truncated: this invocation printed more than {lines} lines or {kib} KiB"


@dataclass(frozen=True)
class LogBounds:
    max_lines: int = 1000
    max_bytes: int = 64 * 1024


@dataclass
class _Kept:
    lines: int = 0
    size: int = 0
    truncated: bool = False


class LineAttributor:
    """Attributes one instance's lines, in the order it printed them, and applies the per-invocation bound."""

    def __init__(self, bounds: LogBounds) -> None:
        self._bounds = bounds
        self._expected: OrderedDict[str, None] = OrderedDict()  # sent to this instance, not started yet
        self._expected_lock = threading.Lock()  # expect() comes from the event loop, attribute() from a thread
        self._open: list[str] = []  # requests between their Start and End lines, oldest first
        self._ended = ""  # the request whose End line came last, while no other one has started
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    def expect(self, request_id: str) -> None:
        """The emulator sends this request to the instance: its Start line may come."""
        with self._expected_lock:
            self._expected[request_id] = None
            while len(self._expected) > REMEMBERED_REQUESTS:
                self._expected.popitem(last=False)

    def attribute(self, line: str) -> list[tuple[str, str]]:
        """(request id, line) pairs to keep for one output line: none when the request's bound was reached, the
        line followed by nothing, or the truncation marker instead of the first line over the bound. A request's
        End line is kept whatever the bound (once), so that a reader sees where the invocation ended."""
        framing = FRAMING.match(line)
        if framing is not None:
            kind, request_id = framing.groups()
            if kind == "Start" and self._starts(request_id):
                self._open.append(request_id)
                self._ended = ""
                return self._keep(request_id, line, always=False)
            if kind == "End" and request_id in self._open:
                self._open.remove(request_id)
                self._ended = request_id
                return self._keep(request_id, line, always=True)
        return self._keep(self._owner_of(line), line, always=False)

    def _starts(self, request_id: str) -> bool:
        """Whether a Start line for this request is the emulator's request starting (each starts once)."""
        with self._expected_lock:
            return self._expected.pop(request_id, 0) is None

    def _owner_of(self, line: str) -> str:
        if not self._open:
            return self._ended
        if len(self._open) == 1:
            return self._open[0]
        for request_id in self._open:
            if request_id in line:
                return request_id
        return ""

    def _keep(self, request_id: str, line: str, *, always: bool) -> list[tuple[str, str]]:
        if not request_id:
            return [("", line)]  # instance lines: bounded by the function's stream, not per invocation
        kept = self._kept.get(request_id)
        if kept is None:
            kept = self._kept[request_id] = _Kept()
            while len(self._kept) > REMEMBERED_REQUESTS:
                self._kept.popitem(last=False)
        size = len(line.encode())
        if always:
            return [(request_id, line)]
        if kept.truncated:
            return []
        if kept.lines + 1 > self._bounds.max_lines or kept.size + size > self._bounds.max_bytes:
            kept.truncated = True
            marker = TRUNCATION_MARKER.format(lines=self._bounds.max_lines, kib=self._bounds.max_bytes // 1024)
            return [(request_id, marker)]
        kept.lines += 1
        kept.size += size
        return [(request_id, line)]
