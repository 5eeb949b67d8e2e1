"""The code archive check's own cost stays bounded whatever the zip: deep trees and overlapping entries are
refused from their metadata, before the check spends memory or CPU on them (fast: no emulator)."""
from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from emulator.catalog.code_archive import MAX_DEPTH, MAX_FOLDERS, CodeError, check_zip, unpack


def _zip_of(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"")
    return buffer.getvalue()


def _peak_bytes_of_check(data: bytes) -> tuple[int, str]:
    """check_zip's peak of Python memory, and why it refused the zip ('' when it took it)."""
    tracemalloc.start()
    try:
        check_zip(data)
        refusal = ""
    except CodeError as error:
        refusal = str(error)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, refusal


def test_a_deep_tree_is_refused_with_bounded_memory() -> None:
    """The reviewer's zip: 80 entries 1,530 folders deep (496 KB) held 744 MB while it was checked."""
    data = _zip_of([f"b{i}/" + "a/" * 1530 + "x" for i in range(80)])
    peak, refusal = _peak_bytes_of_check(data)
    assert "entry 'b0/a/a/" in refusal and "lies 1531 folders deep; fcemu takes at most 128" in refusal
    assert peak < 20 * len(data), f"{peak} bytes at peak to check a {len(data)}-byte zip"


def test_many_folders_are_refused_with_bounded_memory() -> None:
    """Every entry as deep as allowed, none sharing a folder: the folder count stops it early."""
    entries = MAX_FOLDERS // MAX_DEPTH + 2
    data = _zip_of([f"b{i}/" + "a/" * (MAX_DEPTH - 1) + "x" for i in range(entries)])
    peak, refusal = _peak_bytes_of_check(data)
    assert f"makes more than {MAX_FOLDERS} folders" in refusal
    assert peak < 20 * len(data) + (4 << 20), f"{peak} bytes at peak to check a {len(data)}-byte zip"


def test_a_tree_as_deep_as_allowed_unpacks(tmp_path: Path) -> None:
    deepest = "a/" * MAX_DEPTH
    data = _zip_of([deepest, deepest + "x", "a/b/y"])
    assert check_zip(data)
    unpack(data, tmp_path / "code")
    assert (tmp_path / "code" / deepest / "x").is_file() and (tmp_path / "code" / "a" / "b" / "y").is_file()
    assert "folders deep" in _peak_bytes_of_check(_zip_of([deepest + "a/x"]))[1]
    assert "folders deep" in _peak_bytes_of_check(_zip_of([deepest + "a/"]))[1]


# Overlapping entries, crafted byte by byte (zipfile's writer never makes them).

def _local(name: bytes, body: bytes, *, declared: bytes | None = None) -> bytes:
    """A stored entry's local header and data; `declared` is the data its sizes and CRC describe (default: body)."""
    described = body if declared is None else declared
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(described), len(described),
                       len(described), len(name), 0) + name + body


def _central(name: bytes, described: bytes, offset: int) -> bytes:
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, zlib.crc32(described),
                       len(described), len(described), len(name), 0, 0, 0, 0, 0, offset) + name


def _end(count: int, directory: bytes, offset: int) -> bytes:
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), offset, 0)


def _overlapping_zip() -> bytes:
    """Entry 'a' is stored and its data is entry 'b' whole (header and data): both read back with valid CRCs,
    and they share bytes (a bomb nests many entries so, all sharing one long tail inflated once per entry)."""
    inner = _local(b"b", b"hello")
    outer = _local(b"a", inner)
    inner_offset = len(outer) - len(inner)
    directory = _central(b"a", inner, 0) + _central(b"b", b"hello", inner_offset)
    return outer + directory + _end(2, directory, len(outer))


def _entry_into_directory_zip() -> bytes:
    """The last entry declares more bytes than lie before the central directory."""
    body = b"hello"
    local = _local(b"a", body)
    directory = _central(b"a", body, 0)
    data = local + directory + _end(1, directory, len(local))
    stretched = bytearray(data)
    at = len(local)  # the central header: its compressed size (offset 20) now reaches into itself
    struct.pack_into("<I", stretched, at + 20, len(body) + 10)
    return bytes(stretched)


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    data = _overlapping_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # zipfile itself reads both, each with a valid CRC: only the layout gives them away
        assert archive.read("a")[-5:] == b"hello" and archive.read("b") == b"hello"
    with pytest.raises(CodeError, match="entry 'a' overlaps entry 'b'"):
        check_zip(data)
    with pytest.raises(CodeError, match="overlaps"):
        unpack(data, tmp_path / "code")
    assert list(tmp_path.iterdir()) == []


def test_an_entry_running_into_the_central_directory_is_refused() -> None:
    with pytest.raises(CodeError, match="entry 'a' overlaps the zip's central directory"):
        check_zip(_entry_into_directory_zip())


def test_zips_with_data_descriptors_and_extras_are_not_overlaps(tmp_path: Path) -> None:
    """What zip writers make: a streamed entry (data descriptor after its data) and zip64 extras."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("streamed.py", "w", force_zip64=True) as sink:
            sink.write(b"print('x')\n" * 100)
        archive.writestr("main.py", b"def handler(event, context):\n    return event\n")
        archive.writestr("pkg/", b"")
    unstreamed = io.BytesIO()
    with zipfile.ZipFile(unstreamed, "w") as archive:
        archive.writestr("a", b"x")
    for data in (buffer.getvalue(), _zip_via_pipe(), unstreamed.getvalue()):
        check_zip(data)


class _Unseekable(io.RawIOBase):
    """A sink zipfile cannot seek in: it writes data descriptors after each entry."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        self.chunks.append(bytes(chunk))
        return len(chunk)


def _zip_via_pipe() -> bytes:
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("one.py", b"1" * 1000)
        archive.writestr("two.py", b"2" * 1000)
    data = b"".join(sink.chunks)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(info.flag_bits & 0x08 for info in archive.infolist()), "entries with data descriptors"
    return data


def _many_empty_entries(count: int, *, zip64: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index in range(count):
            archive.writestr(f"{index}", b"")
    data = buffer.getvalue()
    if zip64:  # as writers do past 65,535 entries: the classic count says 0xFFFF, the zip64 record the truth
        end = data.rfind(b"PK\x05\x06")
        directory_size, directory_offset = struct.unpack_from("<II", data, end + 12)
        record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, directory_size,
                             directory_offset)
        locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)
        classic = bytearray(data[end:])
        struct.pack_into("<HH", classic, 8, 0xFFFF, 0xFFFF)
        data = data[:end] + record + locator + bytes(classic)
    return data


@pytest.mark.parametrize("zip64", [False, True])
def test_entries_past_the_limit_are_refused_before_zipfile_reads_them(zip64: bool) -> None:
    """The end record's count is read first: zipfile would build an object per entry before any check."""
    data = _many_empty_entries(10_001, zip64=zip64)
    tracemalloc.start()
    try:
        with pytest.raises(CodeError, match="10001 entries"):
            check_zip(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(data), "refused without an object per entry"


def test_files_are_unpacked_readable_and_executable_only_where_the_zip_says_so(tmp_path: Path) -> None:
    """As FC: a binary zipped with its execute bit (a go1 handler, a custom runtime's bootstrap) can be run; nothing
    is writable by the instance's user or keeps any other bit of the zip's mode."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, mode in (("main", 0o4777), ("lib/data.txt", 0o666), ("plain", 0)):
            entry = zipfile.ZipInfo(name)
            entry.external_attr = mode << 16
            archive.writestr(entry, b"x")
    unpack(buffer.getvalue(), tmp_path / "code")
    modes = {name: (tmp_path / "code" / name).stat().st_mode & 0o7777 for name in ("main", "lib/data.txt", "plain")}
    assert modes == {"main": 0o755, "lib/data.txt": 0o644, "plain": 0o644}
