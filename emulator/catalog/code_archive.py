"""A function's code as FC takes it, a base64 zip: checked for safety and unpacked.

Everything here is blocking work on up to 50 MB of zip and 200 MB of files: callers run it off the event loop.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import shutil
import stat
import struct
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_FILES = 10_000
# Linux's limits on one path component and on a whole path (the unpack folder's own path comes on top).
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 3072
# Folders above one entry: deeper trees are no code anyone ships, and each level costs the check a trie node.
MAX_DEPTH = 128
# Folders in all, named or implied by a path under them: each costs the check a trie node (10,000 entries 128 deep
# would be 1.3 million of them, a quarter of a gigabyte). Real code has fewer folders than files.
MAX_FOLDERS = 2 * MAX_FILES
# Only these inflate under a bound (zipfile hands bzip2 and lzma all of an entry's input at once, so a
# 900-byte entry can inflate to gigabytes in one call before any limit is looked at).
METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
CHUNK_BYTES = 1024 * 1024
# A local file header up to its name and extra field lengths (zip APPNOTE 4.3.7).
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


class CodeError(Exception):
    """The code cannot be used; the message says why (for a 400 InvalidArgument)."""


def decode_zip(zip_file_b64: object) -> bytes:
    """The zip of a CreateFunction/UpdateFunction `code.zipFile`, checked completely (blocking: run it in a thread)."""
    if not isinstance(zip_file_b64, str) or not zip_file_b64:
        raise CodeError("code.zipFile must be a non-empty string (base64 of a zip of the function's code)")
    try:
        data = base64.b64decode(zip_file_b64, validate=True)
    except (binascii.Error, ValueError) as error:
        raise CodeError(f"code.zipFile is not valid base64: {error}") from error
    if len(data) > MAX_ZIP_BYTES:
        raise CodeError(f"code.zipFile is {len(data)} bytes; fcemu takes at most {MAX_ZIP_BYTES}")
    check_zip(data)
    return data


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_zip(data: bytes) -> list[zipfile.ZipInfo]:
    """Refuses a zip that cannot be unpacked as it is: broken, corrupt, a bomb, or holding entries that cannot
    all be written where they say. Inflates every entry (bounded) to check it, and writes nothing."""
    with _open(data) as archive:
        entries = _plan(archive, data)
        budget = MAX_UNPACKED_BYTES
        for entry in entries:
            if not _is_dir(entry):
                for chunk in _inflate(archive, entry, budget):
                    budget -= len(chunk)
    return entries


def _is_executable(entry: zipfile.ZipInfo) -> bool:
    """Whether a zip made on Unix marks the file executable (a go1 binary, a custom runtime's bootstrap): FC keeps
    that bit, and nothing else of the mode (every file readable by the instance's user, none writable)."""
    return bool((entry.external_attr >> 16) & 0o111)


def unpack(data: bytes, target: Path) -> None:
    """Unpacks a zip into a new folder (files readable by the unprivileged container user, executable where the zip
    says so); checks it on the way, so a zip stored before these checks existed fails here with a CodeError rather
    than half unpacked."""
    # A staging folder of its own, renamed into place at the end: another process unpacking the same code
    # at the same time loses the race harmlessly, and a failure leaves nothing behind.
    staging = target.with_name(f"{target.name}.partial-{uuid.uuid4().hex}")
    staging.mkdir(parents=True)
    try:
        executables = set()
        with _open(data) as archive:
            budget = MAX_UNPACKED_BYTES
            for entry in _plan(archive, data):
                destination = staging.joinpath(*_parts(entry))
                if _is_dir(entry):
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with destination.open("xb") as sink:
                    for chunk in _inflate(archive, entry, budget):
                        sink.write(chunk)
                        budget -= len(chunk)
                if _is_executable(entry):
                    executables.add(destination)
        for path in [staging, *staging.rglob("*")]:
            path.chmod(0o755 if path.is_dir() or path in executables else 0o644)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise


def _declared_entries(data: bytes) -> int | None:
    """How many entries the zip's end record says it holds (zip64 too), read before zipfile builds an object per
    entry: a 50 MB zip of empty entries would be half a million of them. None when there is no end record."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, end + 10)
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and data[locator:locator + 4] == b"PK\x06\x07":
        (record,) = struct.unpack_from("<Q", data, locator + 8)
        if record + 40 <= len(data) and data[record:record + 4] == b"PK\x06\x06":
            (count,) = struct.unpack_from("<Q", data, record + 32)
    return int(count)


def _open(data: bytes) -> zipfile.ZipFile:
    declared = _declared_entries(data)
    if declared is not None and declared > MAX_FILES:
        raise CodeError(f"code.zipFile holds {declared} entries; fcemu takes at most {MAX_FILES}")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as error:
        raise CodeError(f"code.zipFile is not a valid zip: {error}") from error


def _parts(entry: zipfile.ZipInfo) -> tuple[str, ...]:
    """The path an entry is written to, as the unpack joins it (backslashes are folder separators too)."""
    return PurePosixPath(entry.orig_filename.replace("\\", "/")).parts


def _is_dir(entry: zipfile.ZipInfo) -> bool:
    return entry.orig_filename.replace("\\", "/").endswith("/")


def _plan(archive: zipfile.ZipFile, data: bytes) -> list[zipfile.ZipInfo]:
    """The entries, once the tree they make is known to be writable: every name a relative path inside the folder,
    no file named twice, no file where a folder must be and no folder where a file is (a folder named twice is
    harmless), and no entry's bytes shared with another's. Only metadata is read here."""
    entries = archive.infolist()
    if len(entries) > MAX_FILES:
        raise CodeError(f"code.zipFile holds {len(entries)} entries; fcemu takes at most {MAX_FILES}")
    _check_layout(archive, entries, data)
    tree = _Tree()
    declared = 0
    for entry in entries:
        name = entry.orig_filename
        _check_name(entry)
        tree.add(entry)
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise CodeError(f"code.zipFile entry '{name}' is a symbolic link, which fcemu does not unpack")
        if entry.flag_bits & 0x1:
            raise CodeError(f"code.zipFile entry '{name}' is encrypted, which fcemu does not unpack")
        if entry.compress_type not in METHODS:
            raise CodeError(
                f"code.zipFile entry '{name}' uses compression method {entry.compress_type}"
                f"{_method_name(entry.compress_type)}; fcemu takes stored (0) and deflate (8) only"
            )
        declared += entry.file_size
    if declared > MAX_UNPACKED_BYTES:
        raise CodeError(f"code.zipFile unpacks to {declared} bytes; fcemu takes at most {MAX_UNPACKED_BYTES}")
    return entries


def _check_layout(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], data: bytes) -> None:
    """Each entry's local header and compressed bytes end before the next entry (or the central directory) starts.
    Entries that overlap can all share one long compressed tail (zipfile does not look for it), so that checking
    a small zip would inflate its bytes once per entry: minutes of CPU for little output."""
    ordered = sorted(entries, key=lambda entry: entry.header_offset)
    for entry, following in zip(ordered, [*ordered[1:], None]):
        start = entry.header_offset
        if start < 0 or start + _LOCAL_HEADER.size > len(data):
            raise CodeError(f"code.zipFile is corrupt at '{entry.orig_filename}': its header lies outside the zip")
        name_length, extra_length = _LOCAL_HEADER.unpack_from(data, start)[-2:]
        end = start + _LOCAL_HEADER.size + name_length + extra_length + entry.compress_size
        limit = following.header_offset if following is not None else archive.start_dir
        if end > limit:
            raise CodeError(
                f"code.zipFile entry '{entry.orig_filename}' overlaps "
                + (f"entry '{following.orig_filename}'" if following is not None else "the zip's central directory")
                + "; fcemu takes zips whose entries do not share bytes"
            )


class _Tree:
    """The tree the unpack would make, as a trie walked once per entry (a folder is a dict of what it holds, a file
    is None): keeping every prefix of every path instead costs depth squared per entry, gigabytes for a small zip."""

    def __init__(self) -> None:
        self._root: dict[str, Any] = {}
        self._folders = 0

    def add(self, entry: zipfile.ZipInfo) -> None:
        name = entry.orig_filename
        parts, is_dir = _parts(entry), _is_dir(entry)
        depth_of_entry = len(parts) if is_dir else len(parts) - 1
        if depth_of_entry > MAX_DEPTH:
            raise CodeError(f"code.zipFile entry '{name}' lies {depth_of_entry} folders deep; fcemu takes at most "
                            f"{MAX_DEPTH}")
        node = self._root
        for depth, part in enumerate(parts[:-1], 1):
            below = node.get(part, _ABSENT)
            if below is _ABSENT:
                below = node[part] = self._new_folder(name)
            elif below is None:
                raise CodeError(f"code.zipFile entry '{name}' lies under '{'/'.join(parts[:depth])}', which is a file")
            node = below
        leaf = parts[-1]
        if leaf not in node:
            node[leaf] = self._new_folder(name) if is_dir else None
        elif not is_dir and node[leaf] is not None:
            raise CodeError(f"code.zipFile entry '{name}' is a file where the zip also has a folder")
        elif is_dir and node[leaf] is None:
            raise CodeError(f"code.zipFile entry '{name}' is a folder where the zip also has a file")
        elif not is_dir:
            raise CodeError(f"code.zipFile holds '{name}' more than once")

    def _new_folder(self, name: str) -> dict[str, Any]:
        self._folders += 1
        if self._folders > MAX_FOLDERS:
            raise CodeError(f"code.zipFile makes more than {MAX_FOLDERS} folders (at entry '{name}'); fcemu takes "
                            f"at most {MAX_FOLDERS}")
        return {}


_ABSENT = object()


def _check_name(entry: zipfile.ZipInfo) -> None:
    name = entry.orig_filename
    if "\0" in name:
        raise CodeError(f"code.zipFile entry {name!r} has a NUL byte in its name")
    path = PurePosixPath(name.replace("\\", "/"))
    if not path.parts or path.parts == ("/",):
        raise CodeError(f"code.zipFile has an entry with an empty name ({name!r})")
    if path.is_absolute() or ".." in path.parts or ":" in path.parts[0]:
        raise CodeError(f"code.zipFile entry '{name}' points outside the code folder")
    try:
        encoded = [part.encode() for part in path.parts]
    except UnicodeEncodeError as error:
        raise CodeError(f"code.zipFile entry {name!r} has a name that is not valid text") from error
    if any(len(part) > MAX_NAME_BYTES for part in encoded):
        raise CodeError(f"code.zipFile entry '{name}' has a path component over {MAX_NAME_BYTES} bytes")
    if sum(len(part) + 1 for part in encoded) > MAX_PATH_BYTES:
        raise CodeError(f"code.zipFile entry '{name}' has a path over {MAX_PATH_BYTES} bytes")


def _method_name(method: int) -> str:
    known = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma", 9: "deflate64", 93: "zstd", 95: "xz"}
    return f" ({known[method]})" if method in known else ""


def _inflate(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: int) -> Iterator[bytes]:
    """An entry's bytes in chunks, counted as they come: never more than it declares nor than the budget left, and
    its CRC checked at the end (zipfile stops an entry at its declared size; a longer stream fails the CRC)."""
    limit = min(entry.file_size, budget)
    produced = 0
    try:
        with archive.open(entry) as source:
            while True:
                chunk = source.read(min(CHUNK_BYTES, limit - produced + 1))
                if not chunk:
                    break
                produced += len(chunk)
                if produced > limit:
                    raise CodeError(
                        f"code.zipFile entry '{entry.orig_filename}' inflates to more than "
                        + (f"it declares ({entry.file_size} bytes)" if limit == entry.file_size
                           else f"fcemu takes ({MAX_UNPACKED_BYTES} bytes in all)")
                    )
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, RuntimeError, NotImplementedError) as error:
        raise CodeError(f"code.zipFile is corrupt at '{entry.orig_filename}': {error}") from error
    if produced != entry.file_size:
        raise CodeError(f"code.zipFile is corrupt at '{entry.orig_filename}': {produced} bytes, "
                        f"{entry.file_size} declared")


# Every entry's time in a folder's zip: the same files always make the same zip (and so the same checksum, which
# tells a version's publish whether anything changed).
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def zip_folder(folder: Path) -> bytes:
    """A code folder as the zip FC would hand back for it (GetFunctionCode, a published version): its files by their
    path below it, in name order, each with its mode and a fixed time; compiled caches left out; a symbolic link
    only when it points inside the folder; refused (CodeError) beyond the limits a code zip has. Blocking: run it
    in a thread."""
    root = folder.resolve()
    buffer = io.BytesIO()
    files = size = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file() or not path.resolve().is_relative_to(root):
                continue
            files, size = files + 1, size + path.stat().st_size
            if files > MAX_FILES or size > MAX_UNPACKED_BYTES:
                raise CodeError(f"the code folder {root} holds more than {MAX_FILES} files or "
                                f"{MAX_UNPACKED_BYTES} bytes, more than a code zip may")
            entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), _FIXED_TIME)
            entry.external_attr = (stat.S_IMODE(path.stat().st_mode) | stat.S_IFREG) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return buffer.getvalue()
