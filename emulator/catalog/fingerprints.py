"""What tells one version of a function's files from the next: hot reload and layer merging compare these."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

# How a loader fingerprints a code folder: `fingerprint` itself, or a cache's `of`.
FingerprintOf = Callable[[Path], str]


def fingerprint(folder: Path) -> str:
    """A digest of every file's path, size and modification time under the folder."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class Fingerprints:
    """Fingerprints of folders, each kept until a change under it is reported: a catalog refresh that changed
    nothing walks no folder again. Kept only for folders under `roots`, whose every change is reported (watched
    folders, or folders written once and never again); any other folder is walked each time. `of` runs in worker
    threads, `changed` in the event loop."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self._roots = [root.resolve() for root in roots]
        self._known: dict[Path, str] = {}
        # Counts reported changes: a digest computed while one was reported may have read the old files.
        self._epoch = 0
        self._lock = threading.Lock()

    def of(self, folder: Path) -> str:
        if not any(folder.is_relative_to(root) for root in self._roots):
            return fingerprint(folder)
        with self._lock:
            known, epoch = self._known.get(folder), self._epoch
        if known is not None:
            return known
        value = fingerprint(folder)
        with self._lock:
            if self._epoch == epoch:
                self._known[folder] = value
        return value

    def changed(self, paths: Iterable[Path]) -> None:
        """Files or folders that changed (or went): every folder holding one, or inside one, is walked again."""
        paths = list(paths)
        with self._lock:
            self._epoch += 1
            for folder in list(self._known):
                if any(path.is_relative_to(folder) or folder.is_relative_to(path) for path in paths):
                    del self._known[folder]
