"""Hot reload: watches the functions folder (inotify through watchfiles, no polling) and has the catalog
refreshed when something in it changes."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import watchfiles


def _relevant(change: watchfiles.Change, path: str) -> bool:
    return "__pycache__" not in Path(path).parts


class FunctionsWatcher:
    def __init__(self, functions_dir: Path, refresh: Callable[[], Awaitable[object]]) -> None:
        self._functions_dir = functions_dir
        self._refresh = refresh
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
            await self._refresh()
