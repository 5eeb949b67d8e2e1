"""A function's code as FC takes it, a base64 zip: checked for safety and unpacked."""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import shutil
import stat
import uuid
import zipfile
from pathlib import Path, PurePosixPath

MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_FILES = 10_000


class CodeError(Exception):
    """The code cannot be used; the message says why (for a 400 InvalidArgument)."""


def decode_zip(zip_file_b64: str) -> bytes:
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
    """Refuses a broken zip, one whose paths leave its folder or that holds links, and a zip bomb."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        bad = archive.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise CodeError(f"code.zipFile is not a valid zip: {error}") from error
    if bad is not None:
        raise CodeError(f"code.zipFile is corrupt at '{bad}'")
    if len(entries) > MAX_FILES:
        raise CodeError(f"code.zipFile holds {len(entries)} entries; fcemu takes at most {MAX_FILES}")
    total = 0
    for entry in entries:
        path = PurePosixPath(entry.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
            raise CodeError(f"code.zipFile entry '{entry.filename}' points outside the code folder")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise CodeError(f"code.zipFile entry '{entry.filename}' is a symbolic link, which fcemu does not unpack")
        total += entry.file_size
    if total > MAX_UNPACKED_BYTES:
        raise CodeError(f"code.zipFile unpacks to {total} bytes; fcemu takes at most {MAX_UNPACKED_BYTES}")
    return entries


def unpack(data: bytes, target: Path) -> None:
    """Unpacks a checked zip into a new folder (files readable by the unprivileged container user)."""
    entries = check_zip(data)
    # A staging folder of its own, renamed into place at the end: another process unpacking the same code
    # at the same time loses the race harmlessly.
    staging = target.with_name(f"{target.name}.partial-{uuid.uuid4().hex}")
    staging.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in entries:
            destination = staging / PurePosixPath(entry.filename.replace("\\", "/"))
            if entry.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as source, destination.open("wb") as sink:
                sink.write(source.read())
    for path in [staging, *staging.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    try:
        staging.rename(target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(staging, ignore_errors=True)
