"""Hot reload: watches the functions folder (inotify through watchfiles, no polling) and swaps in what
changed; a changed function's warm instances drain so that the next invoke runs the new code."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import watchfiles

from emulator.catalog.catalog import Catalog
from emulator.catalog.loader import ManifestError, load_functions
from emulator.pool.pools import Pools

log = logging.getLogger(__name__)


def _relevant(change: watchfiles.Change, path: str) -> bool:
    return "__pycache__" not in Path(path).parts


class FunctionsWatcher:
    def __init__(self, functions_dir: Path, catalog: Catalog, pools: Pools) -> None:
        self._functions_dir = functions_dir
        self._catalog = catalog
        self._pools = pools
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="functions watcher")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait([self._task], timeout=5)

    async def _watch(self) -> None:
        async for _ in watchfiles.awatch(self._functions_dir, watch_filter=_relevant, stop_event=self._stop,
                                         debounce=200, recursive=True):
            self.reload()

    def reload(self) -> list[str]:
        try:
            definitions = load_functions(self._functions_dir)
        except ManifestError as error:
            log.error("functions not reloaded, the running ones stay: %s", error)
            return []
        changed = self._catalog.replace(definitions)
        for name in changed:
            if self._catalog.get(name) is None:
                self._pools.forget(name)
        if changed:
            log.info("reloaded functions: %s", ", ".join(changed))
        return changed
