"""The tail of one invocation's framed output, cut out of an instance's raw output as FC cuts it for
`x-fc-log-type: Tail`. The output is read as it comes and only a bounded part of it is ever held (a function
may print gigabytes, on one line or on many), and it is searched, not split into lines, so that millions of
short lines cost no more than one long one."""
from __future__ import annotations

from collections.abc import Iterable

from emulator.logs.attribution import framing_marker


def framed_tail(chunks: Iterable[bytes], request_id: str, keep: int) -> tuple[str, bool]:
    """The last `keep` bytes of the output from the request's Start line to its End line, both included, and
    whether the End line was found (Docker's copy may trail: then the tail holds what there is so far)."""
    start = f"\n{framing_marker('Invoke', 'Start')}{request_id}".encode()
    end = f"\n{framing_marker('Invoke', 'End')}{request_id}".encode()
    # Held from one piece to the next: enough to find a marker split between them, and the tail once inside.
    keep = max(keep, len(end) + 1)
    window = bytearray(b"\n")  # as if a line ended just before the output: a marker on its first line counts
    inside = False
    for chunk in chunks:
        window += chunk
        if not inside:
            found = _marker(window, start)
            if found < 0:
                del window[:-len(start)]
                continue
            inside = True
            del window[:found + 1]
        line_end = _end_line(window, end)
        if line_end >= 0:
            return bytes(window[:line_end][-keep:]).decode(errors="replace"), True
        del window[:-keep]
    return (bytes(window[-keep:]).decode(errors="replace") if inside else ""), False


def _marker(window: bytearray, marker: bytes) -> int:
    """Where the marker is in the window with the id ending where it does (another request's id may start with
    it), or -1 when it is not there whole yet."""
    found = window.find(marker)
    while found >= 0:
        after = found + len(marker)
        if after >= len(window):
            return -1
        if window[after] in b"\r\n ,":
            return found
        found = window.find(marker, found + 1)
    return -1


def _end_line(window: bytearray, end: bytes) -> int:
    """Where the End line found in the window ends (after its newline), or -1 when it is not all there yet."""
    found = _marker(window, end)
    if found < 0:
        return -1
    newline = window.find(b"\n", found + len(end))
    return -1 if newline < 0 else newline + 1
