"""Catalog refreshes in a real Core (real Redis, Docker's engine; no instance is started): code folders are read
off the event loop (whose lease heartbeats a large folder would hold up), a refresh that changed nothing walks no
code folder again, and refreshes asked for together do not pile up. Observed through Python's audit events for
directory reads (os.scandir and os.listdir, raised in whatever thread walks) and a
count of the catalog's reads (a spy on load_sources), not through timing. The folder watcher is stopped once the
Core has started: the test reports its edit itself, and a late watcher event would be one more refresh."""
from __future__ import annotations

import asyncio
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import emulator.core
from emulator.core import Core
from emulator.settings import Settings
from tests.support.emulator_process import REPO
from tests.support.fc_api import code_saying
from tests.support.redis_server import RedisServer

# (thread, event, path) of each directory read while a test records; None while none does.
_reads: list[tuple[int, str, Path]] | None = None
_hooked = False


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _reads is not None and event in ("os.scandir", "os.listdir") and args and isinstance(args[0], (str, Path)):
        _reads.append((threading.get_ident(), event, Path(args[0])))


@contextmanager
def directory_reads() -> Iterator[list[tuple[int, str, Path]]]:
    """Records the directory reads of every thread of this process meanwhile (an audit hook cannot be removed:
    it is added once and records only here)."""
    global _reads, _hooked
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    _reads = []
    try:
        yield _reads
    finally:
        _reads = None


def _under(reads: list[tuple[int, str, Path]], folder: Path) -> list[tuple[int, str, Path]]:
    return [read for read in reads if read[2].resolve().is_relative_to(folder.resolve())]


def _large_function(functions_dir: Path) -> Path:
    """A function whose code folder has many folders (a vendored dependency tree, say)."""
    folder = functions_dir / "large"
    shutil.copytree(REPO / "tests" / "functions" / "echo", folder)
    (folder / "function.yaml").write_text((folder / "function.yaml").read_text().replace("echo", "large"))
    for package in range(40):
        for module in range(3):
            path = folder / "vendor" / f"package{package}" / f"sub{module}"
            path.mkdir(parents=True)
            (path / "module.py").write_text("VALUE = 1\n")
    return folder


def test_refreshes_read_code_off_the_loop_once_and_do_not_pile_up(
    tmp_path: Path, own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog_reads = 0
    load_sources = emulator.core.load_sources

    def counted_load_sources(*args: Any, **kwargs: Any) -> Any:
        nonlocal catalog_reads
        catalog_reads += 1
        return load_sources(*args, **kwargs)

    monkeypatch.setattr(emulator.core, "load_sources", counted_load_sources)
    functions_dir = tmp_path / "functions"
    large = _large_function(functions_dir)
    settings = Settings(redis_url=own_redis.url, functions_dir=functions_dir, data_dir=tmp_path / "data",
                        owner=f"refresh-{uuid.uuid4().hex[:6]}", dispatcher_enabled=False, template=None)

    async def scenario() -> None:
        nonlocal catalog_reads
        loop_thread = threading.get_ident()
        with directory_reads() as reads:
            core = await Core.start(settings)
            assert core.watcher is not None  # hot reload on: the refreshes walk only what was reported changed
            await core.watcher.close()
            # A deploy: its change message brings another refresh, as in a running emulator.
            spec = {"functionName": "deployed", "runtime": "python3.10", "handler": "main.handler"}
            await core.deployments.save_function("deployed", spec, code_saying("hi"), create=True)
            await core.refresh_catalog()
        try:
            walked = _under(reads, large)
            assert walked, "the start-up walks the large folder"
            assert all(thread != loop_thread for thread, _, _ in walked), "a code folder was walked on the event loop"
            deployed = core.catalog.get("deployed")
            assert deployed is not None and _under(reads, deployed.code_dir)

            with directory_reads() as reads:
                await core.refresh_catalog()
            assert _under(reads, large) == [], "a refresh that changed nothing walked the large folder again"
            assert _under(reads, deployed.code_dir) == [], "it walked a deployed version's code again"

            before = core.catalog.get("large")
            assert before is not None
            edited = large / "vendor" / "package7" / "sub1" / "module.py"
            edited.write_text("VALUE = 2  # a longer file\n")
            with directory_reads() as reads:
                await core.files_changed({edited})  # what the folder watcher reports
            assert _under(reads, large), "a reported change is not walked again"
            after = core.catalog.get("large")
            assert after is not None and after.code_fingerprint != before.code_fingerprint

            # Ten asked for at once (a burst of saves and change messages): not ten runs one after the other.
            catalog_reads = 0
            await asyncio.gather(*(core.refresh_catalog() for _ in range(10)))
            # One, or two where one was already under way when they asked.
            assert 1 <= catalog_reads <= 2, f"{catalog_reads} refreshes ran for 10 asked for together"
        finally:
            await core.close()

    asyncio.run(scenario())
