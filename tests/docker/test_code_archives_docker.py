"""Code archives against the real emulator: zips that cannot be unpacked as they are (tree conflicts, bombs) are
refused before anything is stored; a stored function that cannot be unpacked (stored before these checks) shows
as Failed and stops nothing else; code zips and unpacked versions do not outlive their functions."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import time
import uuid
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from emulator.catalog.code_archive import MAX_UNPACKED_BYTES, CodeError, check_zip, unpack
from emulator.redis_io.keys import CODE_PREFIX, FUNCTIONS_KEY, LEGACY_CODE_PREFIX, LEGACY_FUNCTIONS_KEY
from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v2_error, assert_v3_error, code_saying
from tests.support.redis_server import RedisServer

# bzip2 of 1 GiB of zero bytes (785 bytes; made with bz2.BZ2Compressor(9) fed 64 chunks of 16 MiB of zeros): the
# issue's bomb, kept as bytes because making it takes seconds of CPU.
BZIP2_GIB_OF_ZEROS = base64.b64decode(
    "QlpoOTFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+O"
    "QADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakK"
    "gJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAA"
    "wAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCX"
    "MUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAA"
    "AAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFB"
    "WSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAI"
    "IAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkm"
    "U1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAA"
    "MIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZ"
    "Dgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1lIfF/JAIpSyADAAAAEAAggADDMBSmmkSJDYUSJDxdyRThQkPaI5AI="
)


# Crafting zips byte by byte: what zipfile's writer refuses to make.

def _patch_entry(data: bytes, name: str, *, method: int | None = None, file_size: int | None = None) -> bytes:
    """Rewrites an entry's compression method and declared size in its local and its central header."""
    patched = bytearray(data)
    for signature, name_at, method_at, size_at in ((b"PK\x03\x04", 26, 8, 22), (b"PK\x01\x02", 28, 10, 24)):
        at = patched.find(signature)
        while at != -1:
            name_length = struct.unpack_from("<H", patched, at + name_at)[0]
            start = at + (30 if signature == b"PK\x03\x04" else 46)
            if patched[start:start + name_length] == name.encode():
                if method is not None:
                    struct.pack_into("<H", patched, at + method_at, method)
                if file_size is not None:
                    struct.pack_into("<I", patched, at + size_at, file_size)
            at = patched.find(signature, at + 4)
    return bytes(patched)


def _raw_entry_zip(name: str, method: int, stream: bytes, declared_size: int) -> bytes:
    """A zip whose one entry is `stream` as compressed with `method`, declaring `declared_size` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(name, stream)
    stored = buffer.getvalue()
    return _patch_entry(stored, name, method=method, file_size=declared_size)


def _zeros_zip(name: str, size: int, method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        info = zipfile.ZipInfo(name)
        info.compress_type = method
        with archive.open(info, "w", force_zip64=size > 0xFFFF0000) as sink:
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                sink.write(chunk)
            sink.write(bytes(size & ((1 << 20) - 1)))
    return buffer.getvalue()


def _entries(*names: str) -> bytes:
    """A zip of stored entries with exactly these names (zipfile's writer refuses an empty name and cuts one at a
    NUL), each holding 'x'; a trailing '/' makes a folder entry."""
    local, central = io.BytesIO(), io.BytesIO()
    for name in names:
        raw, body = name.encode(), b"" if name.endswith("/") else b"x"
        crc, offset = zlib.crc32(body), local.tell()
        local.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(body), len(body), len(raw), 0))
        local.write(raw + body)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, crc, len(body), len(body),
                                  len(raw), 0, 0, 0, 0, 0, offset))
        central.write(raw)
    directory = central.getvalue()
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(directory), local.tell(), 0)
    return local.getvalue() + directory + end


BAD_TREES = [
    (("a", "a/b"), "lies under 'a', which is a file"),
    (("a/b", "a"), "is a file where the zip also has a folder"),
    (("main.py", "main.py"), "more than once"),
    (("a", "a/"), "is a folder where the zip also has a file"),
    (("a/", "a"), "is a file where the zip also has a folder"),
    (("lib/x.py", "lib\\x.py"), "more than once"),
    (("lib/./x.py", "lib/x.py"), "more than once"),
    (("",), "empty name"),
    (("./",), "empty name"),
    (("a\0b",), "NUL byte"),
    (("x" * 300,), "path component over 255 bytes"),
]


# Fast checks of the archive module alone.

@pytest.mark.parametrize("names, words", BAD_TREES)
def test_a_tree_that_cannot_be_written_is_refused_before_unpacking(names: tuple[str, ...], words: str,
                                                                    tmp_path: Path) -> None:
    data = _entries(*names)
    with pytest.raises(CodeError, match=words.replace("(", r"\(").replace(")", r"\)")):
        check_zip(data)
    with pytest.raises(CodeError):
        unpack(data, tmp_path / "code")
    assert list(tmp_path.iterdir()) == [], "a failed unpack leaves nothing behind"


def test_a_folder_named_twice_and_implied_folders_unpack(tmp_path: Path) -> None:
    data = _entries("pkg/", "pkg/", "pkg/sub/m.py", "main.py")
    check_zip(data)
    unpack(data, tmp_path / "code")
    assert (tmp_path / "code" / "pkg" / "sub" / "m.py").read_bytes() == b"x"


# Against the real emulator.

def _create(url: str, name: str, zip_bytes: bytes | None = None, **fields: object) -> requests.Response:
    body: dict[str, object] = {"functionName": name, "runtime": "python3.10", "handler": "main.handler", **fields}
    if zip_bytes is not None:
        body["code"] = {"zipFile": base64.b64encode(zip_bytes).decode()}
    return requests.post(f"{url}/2023-03-30/functions", json=body, timeout=60)


def _update(url: str, name: str, zip_bytes: bytes) -> requests.Response:
    return requests.put(f"{url}/2023-03-30/functions/{name}",
                        json={"code": {"zipFile": base64.b64encode(zip_bytes).decode()}}, timeout=60)


def _invoke(url: str, name: str, payload: bytes = b"hi") -> requests.Response:
    return requests.post(f"{url}/2023-03-30/functions/{name}/invocations", data=payload, timeout=60)


def _code_keys(redis_server: RedisServer) -> set[bytes]:
    with redis_server.client() as client:
        return set(client.scan_iter(match=CODE_PREFIX + "*"))


@pytest.mark.parametrize("names, words", BAD_TREES[:6])
def test_the_emulator_refuses_a_bad_tree_and_stores_nothing(
    emulator: EmulatorProcess, redis_server: RedisServer, names: tuple[str, ...], words: str
) -> None:
    name = f"tree-{uuid.uuid4().hex[:6]}"
    data = _entries(*names)
    before = _code_keys(redis_server)
    reply = _create(emulator.url, name, data)
    assert words in assert_v3_error(reply, 400, "InvalidArgument")["Message"]
    with redis_server.client() as client:
        assert not client.hexists(FUNCTIONS_KEY, name)
    assert _code_keys(redis_server) == before
    # and the emulator goes on deploying
    good = f"after-{uuid.uuid4().hex[:6]}"
    assert _create(emulator.url, good, code_saying("fine")).status_code == 200
    assert _invoke(emulator.url, good).content == b"fine hi"
    assert requests.delete(f"{emulator.url}/2023-03-30/functions/{good}", timeout=30).status_code == 204


def _bzip2_bomb() -> bytes:
    return _raw_entry_zip("main.py", zipfile.ZIP_BZIP2, BZIP2_GIB_OF_ZEROS, declared_size=10)


def _lzma_bomb() -> bytes:
    return _patch_entry(_zeros_zip("main.py", 64 << 20, zipfile.ZIP_LZMA), "main.py", file_size=10)


def _deflate_longer_than_declared() -> bytes:
    return _patch_entry(_zeros_zip("main.py", 64 << 20, zipfile.ZIP_DEFLATED), "main.py", file_size=10)


def _deflate_over_the_limit() -> bytes:
    return _zeros_zip("big.bin", MAX_UNPACKED_BYTES + 1, zipfile.ZIP_DEFLATED)


def _deflate_over_the_limit_declared_small() -> bytes:
    """Two entries whose declared sizes fit the limit, one of whose streams inflates far beyond it."""
    return _patch_entry(_zeros_zip("big.bin", MAX_UNPACKED_BYTES + (1 << 20), zipfile.ZIP_DEFLATED), "big.bin",
                        file_size=1000)


@pytest.mark.parametrize("make, words", [
    (_bzip2_bomb, "entry 'main.py' uses compression method 12 (bzip2)"),
    (_lzma_bomb, "entry 'main.py' uses compression method 14 (lzma)"),
    (_deflate_longer_than_declared, "corrupt at 'main.py'"),
    (_deflate_over_the_limit, f"fcemu takes at most {MAX_UNPACKED_BYTES}"),
    (_deflate_over_the_limit_declared_small, "corrupt at 'big.bin'"),
], ids=["bzip2-1GiB", "lzma", "deflate-longer-than-declared", "deflate-over-limit", "deflate-over-limit-hidden"])
def test_zip_bombs_are_refused_without_inflating_them(
    emulator: EmulatorProcess, redis_server: RedisServer, make: object, words: str
) -> None:
    assert callable(make)
    data = make()
    name = f"bomb-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    reply = _create(emulator.url, name, data)
    print(f"{len(data)}-byte zip refused in {time.monotonic() - started:.3f} s")  # the figure; no timed assertion
    assert words in assert_v3_error(reply, 400, "InvalidArgument")["Message"]
    with redis_server.client() as client:
        assert not client.hexists(FUNCTIONS_KEY, name)
    assert requests.get(f"{emulator.url}/2023-03-30/functions/hello", timeout=30).status_code == 200


@pytest.mark.parametrize("code", [{"zipFile": 1}, {"zipFile": ["x"]}, {"zipFile": {}}, {"zipFile": ""}, "x", [], 7])
def test_code_that_is_not_a_zip_file_string_is_a_400_naming_it(emulator: EmulatorProcess, code: object) -> None:
    body = {"functionName": f"typed-{uuid.uuid4().hex[:6]}", "runtime": "python3.10", "handler": "main.handler",
            "code": code}
    v3 = requests.post(f"{emulator.url}/2023-03-30/functions", json=body, timeout=30)
    assert "code.zipFile" in assert_v3_error(v3, 400, "InvalidArgument")["Message"]
    v2 = requests.post(f"{emulator.url}/2016-08-15/services/default/functions", json=body, timeout=30)
    assert "code.zipFile" in assert_v2_error(v2, 400, "InvalidArgument")["ErrorMessage"]
    update = requests.put(f"{emulator.url}/2023-03-30/functions/whatever", json={"code": code}, timeout=30)
    assert update.status_code in (400, 404), update.text


# A function stored before these checks existed.

def _store_directly(redis_server: RedisServer, name: str, zip_bytes: bytes | None, raw: bytes | None = None) -> None:
    """Writes a function record (and its code) into Redis as an older fcemu did, without any check, under the
    key names of before the deployments' hash tag (the start renames them)."""
    with redis_server.client() as client:
        if raw is not None:
            client.hset(LEGACY_FUNCTIONS_KEY, name, raw)
            return
        assert zip_bytes is not None
        checksum = hashlib.sha256(zip_bytes).hexdigest()
        client.set(LEGACY_CODE_PREFIX + checksum, zip_bytes)
        client.hset(LEGACY_FUNCTIONS_KEY, name, json.dumps({
            "spec": {"functionName": name, "runtime": "python3.10", "handler": "main.handler"},
            "functionId": str(uuid.uuid4()), "codeChecksum": checksum, "codeSize": len(zip_bytes),
            "createdTime": "2024-01-01T00:00:00Z", "lastModifiedTime": "2024-01-01T00:00:00Z",
        }))


def test_a_stored_function_that_cannot_be_unpacked_shows_failed_and_stops_nothing(
    functions_dir: Path, own_redis: RedisServer, tmp_path: Path
) -> None:
    _store_directly(own_redis, "bricked", _entries("a", "a/b"))
    _store_directly(own_redis, "garbled", None, raw=b"{not json")
    with own_redis.client() as client:
        client.set(LEGACY_CODE_PREFIX + "0" * 64, b"an orphan zip that no function uses")
    emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    try:
        emulator.wait_for_log("deployed function bricked is not served (state Failed)")
        assert CODE_PREFIX.encode() + b"0" * 64 not in _code_keys(own_redis), "orphan code is swept at start-up"

        got = requests.get(f"{emulator.url}/2023-03-30/functions/bricked", timeout=30).json()
        assert got["state"] == "Failed" and got["stateReasonCode"] == "FunctionCodeInvalid"
        assert "lies under 'a', which is a file" in got["stateReason"]
        v2 = requests.get(f"{emulator.url}/2016-08-15/services/default/functions/bricked", timeout=30).json()
        assert v2["state"] == "Failed" and v2["functionName"] == "bricked"
        assert requests.get(f"{emulator.url}/2023-03-30/functions/garbled", timeout=30).json()["state"] == "Failed"
        listed = requests.get(f"{emulator.url}/2023-03-30/functions?limit=100", timeout=30).json()["functions"]
        states = {f["functionName"]: f["state"] for f in listed}
        assert states["bricked"] == "Failed" and states["garbled"] == "Failed" and states["hello"] == "Active"
        listed_v2 = requests.get(f"{emulator.url}/2016-08-15/services/default/functions?limit=100", timeout=30)
        assert {f["functionName"]: f["state"] for f in listed_v2.json()["functions"]}["bricked"] == "Failed"

        assert_v3_error(_invoke(emulator.url, "bricked"), 412, "FunctionNotActive")
        v2_invoke = requests.post(f"{emulator.url}/2016-08-15/services/default/functions/bricked/invocations",
                                  data=b"x", timeout=30)
        assert_v2_error(v2_invoke, 412, "FunctionNotActive")

        # the others are served, and deploys go on
        assert _invoke(emulator.url, "hello").status_code == 200
        assert _create(emulator.url, "fresh", code_saying("fresh")).status_code == 200
        assert _invoke(emulator.url, "fresh").content == b"fresh hi"
        assert_v3_error(_create(emulator.url, "bricked", code_saying("x")), 409, "FunctionAlreadyExists")
        logged = emulator.log_path.read_text().count("deployed function bricked is not served")
        assert logged == 1, "logged once, not on every refresh"

        # a restart is no problem either
        emulator.stop()
        emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu-2.log", redis_url=own_redis.url).start()
        assert _invoke(emulator.url, "fresh").content == b"fresh hi"

        # updating it with working code makes it Active; a garbled one can be deleted
        assert _update(emulator.url, "bricked", code_saying("mended")).json()["state"] == "Active"
        assert _invoke(emulator.url, "bricked").content == b"mended hi"
        assert requests.delete(f"{emulator.url}/2023-03-30/functions/garbled", timeout=30).status_code == 204
        with own_redis.client() as client:
            assert not client.hexists(FUNCTIONS_KEY, "garbled")
    finally:
        emulator.stop()


# Growth: code zips in Redis and unpacked versions on disk.

def test_a_code_zip_goes_with_the_last_function_that_uses_it(
    emulator: EmulatorProcess, redis_server: RedisServer
) -> None:
    tag = uuid.uuid4().hex[:6]
    shared, other = code_saying(f"shared-{tag}"), code_saying(f"other-{tag}")
    shared_key = (CODE_PREFIX + hashlib.sha256(shared).hexdigest()).encode()
    other_key = (CODE_PREFIX + hashlib.sha256(other).hexdigest()).encode()
    one, two = f"one-{tag}", f"two-{tag}"
    assert _create(emulator.url, one, shared).status_code == 200
    assert _create(emulator.url, two, shared).status_code == 200
    assert shared_key in _code_keys(redis_server)
    assert _update(emulator.url, one, other).status_code == 200
    assert {shared_key, other_key} <= _code_keys(redis_server), "two still uses the shared code"
    assert requests.delete(f"{emulator.url}/2023-03-30/functions/{two}", timeout=30).status_code == 204
    assert shared_key not in _code_keys(redis_server)
    assert _update(emulator.url, one, code_saying(f"third-{tag}")).status_code == 200
    assert other_key not in _code_keys(redis_server)
    assert requests.delete(f"{emulator.url}/2023-03-30/functions/{one}", timeout=30).status_code == 204
    assert not any(tag.encode() in key for key in _code_keys(redis_server))
    with redis_server.client() as client:
        for key in _code_keys(redis_server):
            # every code key left belongs to some function
            sums = {json.loads(v)["codeChecksum"] for v in client.hvals(FUNCTIONS_KEY) if v.startswith(b"{\"")}
            assert key[len(CODE_PREFIX):].decode() in sums


def test_concurrent_deploys_of_the_same_code_never_lose_it(
    emulator: EmulatorProcess, redis_server: RedisServer
) -> None:
    """One function is created while another with the same code is deleted, over and over: the survivor's code
    is always there (record and code change in one script)."""
    tag = uuid.uuid4().hex[:6]
    code = code_saying(f"race-{tag}")
    assert _create(emulator.url, f"race-{tag}-0", code).status_code == 200
    with ThreadPoolExecutor(2) as pool:
        for round_ in range(1, 6):
            created = pool.submit(_create, emulator.url, f"race-{tag}-{round_}", code)
            deleted = pool.submit(requests.delete, f"{emulator.url}/2023-03-30/functions/race-{tag}-{round_ - 1}",
                                  timeout=30)
            assert created.result().status_code == 200 and deleted.result().status_code == 204
    assert _invoke(emulator.url, f"race-{tag}-5").content == f"race-{tag} hi".encode()
    assert (CODE_PREFIX + hashlib.sha256(code).hexdigest()).encode() in _code_keys(redis_server)
    assert requests.delete(f"{emulator.url}/2023-03-30/functions/race-{tag}-5", timeout=30).status_code == 204
    assert (CODE_PREFIX + hashlib.sha256(code).hexdigest()).encode() not in _code_keys(redis_server)


def _versions(data_dir: Path, name: str) -> list[Path]:
    folder = data_dir / "deployed" / name
    return sorted(v for c in folder.iterdir() for v in c.iterdir()) if folder.is_dir() else []


def test_old_unpacked_versions_are_removed(functions_dir: Path, own_redis: RedisServer, tmp_path: Path) -> None:
    emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu.log", redis_url=own_redis.url).start()
    data_dir = tmp_path / f"data-{emulator.owner}"
    try:
        assert _create(emulator.url, "churn", code_saying("v0")).status_code == 200
        for version in range(1, 5):
            assert _update(emulator.url, "churn", code_saying(f"v{version}")).status_code == 200
            assert _invoke(emulator.url, "churn").content == f"v{version} hi".encode()
            # the current version and the one before it (its instances may still be draining)
            assert len(_versions(data_dir, "churn")) == 2
        assert len(list((data_dir / "deployed" / "churn").iterdir())) == 2, "empty checksum folders go too"
        before_restart = _versions(data_dir, "churn")
        emulator.stop()
        emulator = EmulatorProcess(functions_dir, tmp_path / "fcemu-2.log", redis_url=own_redis.url,
                                   owner=emulator.owner).start()
        # another process on the same data folder may still be draining the previous version
        assert _versions(data_dir, "churn") == before_restart, "a start-up keeps the previous version too"
        assert _invoke(emulator.url, "churn").content == b"v4 hi"
        assert requests.delete(f"{emulator.url}/2023-03-30/functions/churn", timeout=30).status_code == 204
        assert not (data_dir / "deployed" / "churn").exists()
        assert _code_keys(own_redis) == set()
    finally:
        emulator.stop()
