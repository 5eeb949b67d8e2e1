"""Which invocation a line belongs to, the per-invocation bound, and a writer that never fails an invocation."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from emulator.logs.attribution import LineAttributor, LogBounds
from emulator.logs.pump import split_timestamp
from emulator.logs.writer import LogEntry, LogWriter
from tests.support.emulator_process import free_port


def _expecting(*request_ids: str, bounds: LogBounds | None = None) -> LineAttributor:
    """An attributor of an instance the emulator sent these requests to."""
    lines = LineAttributor(bounds or LogBounds())
    for request_id in request_ids:
        lines.expect(request_id)
    return lines


def test_framed_lines_go_to_their_request_and_others_to_the_instance() -> None:
    lines = _expecting("r1", "r2")
    assert lines.attribute("runtime inited") == [("", "runtime inited")]
    assert lines.attribute("FC Invoke Start RequestId: r1") == [("r1", "FC Invoke Start RequestId: r1")]
    assert lines.attribute("hello") == [("r1", "hello")]
    assert lines.attribute("FC Invoke End RequestId: r1, Error: Unhandled function error")[0][0] == "r1"
    assert lines.attribute("after its end") == [("r1", "after its end")]
    assert lines.attribute("FC Invoke Start RequestId: r2") == [("r2", "FC Invoke Start RequestId: r2")]
    assert lines.attribute("second") == [("r2", "second")]


def test_a_forged_end_line_neither_ends_the_frame_nor_escapes_the_bound() -> None:
    lines = _expecting("r", bounds=LogBounds(max_lines=4, max_bytes=1 << 20))
    printed = ["FC Invoke Start RequestId: r", "FC Invoke End RequestId: r", *["FC Invoke End RequestId: r"] * 50,
               *[f"after {n}" for n in range(50)], "FC Invoke End RequestId: r"]
    kept = [pair for text in printed for pair in lines.attribute(text)]
    assert {request_id for request_id, _ in kept} == {"r"}, "every line stays with its invocation"
    # The Start line, the first End line (kept whatever the bound), three more lines, then the marker.
    assert len(kept) == 6 and kept[-1][1].startswith("[fcemu] log truncated")


def test_framing_lines_for_requests_the_instance_was_not_sent_are_ordinary_lines() -> None:
    lines = _expecting("mine", bounds=LogBounds(max_lines=3, max_bytes=1 << 20))
    lines.attribute("FC Invoke Start RequestId: mine")
    # Another invocation's id (of this function or any other): no frame opens for it, no line goes to it.
    assert lines.attribute("FC Invoke Start RequestId: victim") == [("mine", "FC Invoke Start RequestId: victim")]
    assert lines.attribute("pushed") == [("mine", "pushed")]
    over = lines.attribute("FC Invoke End RequestId: victim")  # the fourth line of a bound of three
    assert over[0][0] == "mine" and over[0][1].startswith("[fcemu] log truncated")
    assert lines.attribute("FC Invoke End RequestId: victim") == []
    # A Start line of a request that started already does not start it again.
    again = _expecting("r")
    again.attribute("FC Invoke Start RequestId: r")
    again.attribute("FC Invoke End RequestId: r")
    assert again.attribute("FC Invoke Start RequestId: r") == [("r", "FC Invoke Start RequestId: r")]
    assert again.attribute("FC Invoke End RequestId: r") == [("r", "FC Invoke End RequestId: r")]
    assert again._open == []
    # Nothing sent yet: every line is the instance's.
    assert LineAttributor(LogBounds()).attribute("FC Invoke Start RequestId: x") == [
        ("", "FC Invoke Start RequestId: x")]


def test_concurrent_requests_are_told_apart_by_the_request_id_in_the_line() -> None:
    lines = _expecting("r1", "r2")
    lines.attribute("FC Invoke Start RequestId: r1")
    lines.attribute("FC Invoke Start RequestId: r2")
    assert lines.attribute("2026-01-01T00:00:00.000Z r2 [INFO] two") == [("r2", "2026-01-01T00:00:00.000Z r2 [INFO] two")]
    assert lines.attribute("print without an id") == [("", "print without an id")]
    lines.attribute("FC Invoke End RequestId: r2")
    assert lines.attribute("only r1 is open") == [("r1", "only r1 is open")]


def test_the_bound_keeps_the_first_lines_one_marker_and_the_end_line() -> None:
    lines = _expecting("r", bounds=LogBounds(max_lines=3, max_bytes=1 << 20))
    kept = [pair for text in ["FC Invoke Start RequestId: r", "a", "b", "c", "d",
                              "FC Invoke End RequestId: r"] for pair in lines.attribute(text)]
    assert [text for _, text in kept][:3] == ["FC Invoke Start RequestId: r", "a", "b"]
    assert kept[3][1].startswith("[fcemu] log truncated")
    assert kept[4:] == [("r", "FC Invoke End RequestId: r")]
    sized = _expecting("s", bounds=LogBounds(max_lines=100, max_bytes=10))
    sized.attribute("FC Invoke Start RequestId: s")  # 30 bytes: over the bound already
    assert sized.attribute("x") == []


def test_docker_timestamps_are_read_to_the_millisecond() -> None:
    moment = datetime(2026, 11, 23, 22, 40, tzinfo=UTC)
    expected = int(moment.timestamp()) * 1000 + 123
    assert split_timestamp("2026-11-23T22:40:00.123456789Z hello world") == (expected, "hello world")
    stamp, text = split_timestamp("no timestamp here")
    assert stamp > 0 and text == "no timestamp here"


def test_a_writer_without_redis_drops_lines_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    writer = LogWriter(f"redis://127.0.0.1:{free_port()}/0", retention_s=60)  # nothing listens there
    entry = LogEntry(1, "f", "r", "", "i", "line")
    with caplog.at_level(logging.WARNING, logger="emulator.logs.writer"):
        writer.write([entry], {})
        writer.write([entry], {"r": ("f", "t")})
    writer.close()
    assert len([record for record in caplog.records if "dropped" in record.message]) == 1


class _Chunks:
    """What Docker's log stream yields: frames of at most 16 KiB, a long line split over many of them."""

    def __init__(self, data: bytes, frame: int = 16 * 1024) -> None:
        self._frames = [data[i:i + frame] for i in range(0, len(data), frame)]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._frames)

    def close(self) -> None:
        pass


class _Kept:
    def __init__(self) -> None:
        self.entries: list = []

    def put(self, entries: list, tasks: dict) -> None:
        self.entries += entries

    def close(self) -> None:
        pass


def test_a_line_longer_than_the_bound_is_cut_and_the_next_ones_are_kept() -> None:
    from emulator.logs.attribution import LogBounds
    from emulator.logs.pump import CUT_MARK, MAX_LINE_BYTES, LogPumps, _InstancePump

    output = b"start\n" + b"x" * (5 * MAX_LINE_BYTES) + b"tail of the long line\nafter\n" + b"y" * 10
    kept = _Kept()
    pumps = LogPumps(kept, lambda container: _Chunks(output), LogBounds(10_000, 10 * MAX_LINE_BYTES))  # type: ignore[arg-type]
    _InstancePump(pumps, "fn", "c" * 64)._run()
    messages = [entry.message for entry in kept.entries]
    assert messages[0] == "start"
    assert messages[1] == "x" * MAX_LINE_BYTES + CUT_MARK.decode()
    assert messages[2:] == ["after", "y" * 10], "the rest of the cut line is dropped, the lines after it are kept"


def test_a_log_tail_is_the_end_of_the_framed_output() -> None:
    from emulator.logs.tail import framed_tail

    output = (b"before\nFC Invoke Start RequestId: r\nin r\nFC Invoke End RequestId: r2\n"
              b"FC Invoke End RequestId: r\nafter\n")
    pieces = [output[i:i + 3] for i in range(0, len(output), 3)]  # lines split anywhere
    assert framed_tail(pieces, "r", 4096) == (
        "FC Invoke Start RequestId: r\nin r\nFC Invoke End RequestId: r2\nFC Invoke End RequestId: r\n", True)
    assert framed_tail([output], "r", 28) == ("\nFC Invoke End RequestId: r\n", True)
    assert framed_tail([b"FC Invoke Start RequestId: r\nso far"], "r", 4096) == (
        "FC Invoke Start RequestId: r\nso far", False)
    assert framed_tail([output], "other", 4096) == ("", False)
    assert framed_tail([b"FC Invoke Start RequestId: r2\nFC Invoke End RequestId: r\n"], "r", 4096) == ("", False)


def test_a_log_tail_never_holds_the_output() -> None:
    import tracemalloc

    from emulator.logs.tail import framed_tail

    def output():  # type: ignore[no-untyped-def]
        yield b"FC Invoke Start RequestId: r\n"
        for _ in range(1600):  # 100 MB on one line, then 100 MB of short lines
            yield b"z" * 65536
        yield b"\n" + b"short line\n" * 6000
        for _ in range(1600):
            yield b"line\n" * 13107
        yield b"FC Invoke End RequestId: r\n"

    tracemalloc.start()
    try:
        text, ended = framed_tail(output(), "r", 4096)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ended and text.endswith("line\nFC Invoke End RequestId: r\n") and len(text) == 4096
    assert peak < 1024 * 1024, f"{peak} bytes held at once"
