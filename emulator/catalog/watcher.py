"""Hot reload: watches the functions folder and, with a template, the template, its .env and its code folders and
zips (inotify through watchfiles, no polling), and has the catalog refreshed when one of them changes."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import watchfiles


class FunctionsWatcher:
    def __init__(self, functions_dir: Path, refresh: Callable[[set[Path]], Awaitable[object]],
                 extra: Iterable[Path] = ()) -> None:
        """`refresh` is given the changed paths (those that count) of each batch of changes."""
        self._functions_dir = functions_dir.resolve()
        self._refresh = refresh
        # Folders are watched whole; a file is watched through its folder (editors replace a file by renaming a
        # new one over it, which a watch on the file itself would lose), only that file's changes counting.
        self._folders = {self._functions_dir} | {path for path in extra if path.is_dir()}
        self._files = {path for path in extra if not path.is_dir()}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def folders(self) -> set[Path]:
        """The folders every change under which is reported (files watched alone are not among them)."""
        return set(self._folders)

    def _relevant(self, change: watchfiles.Change, path: str) -> bool:
        changed = Path(path)
        if "__pycache__" in changed.parts:
            return False
        return changed in self._files or any(changed.is_relative_to(folder) for folder in self._folders)

    def _roots(self) -> list[Path]:
        roots = {folder for folder in self._folders if folder.is_dir()}
        roots |= {file.parent for file in self._files if file.parent.is_dir()}
        # A folder inside another watched one is watched through it already.
        return sorted(root for root in roots if not any(root != other and root.is_relative_to(other)
                                                        for other in roots))

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="functions watcher")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait([self._task], timeout=5)

    async def _watch(self) -> None:
        roots = self._roots()
        if not roots:
            return
        async for changes in watchfiles.awatch(*roots, watch_filter=self._relevant, stop_event=self._stop,
                                               debounce=200, recursive=True):
            await self._refresh({Path(path) for _, path in changes})
