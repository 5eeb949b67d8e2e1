"""FC's layers, from local folders: `acs:fc:<region>:<account>:layers/<name>/versions/<n>` is the folder
`<root>/<name>/<n>/` (or the zip `<root>/<name>/<n>.zip`) in the first of the source's roots that has it
(FCEMU_LAYERS_DIR, a template's `layers/` folder, then the zips published through the API, which
published_layers.py mirrors from Redis to `<cache_dir>/published`). A function's layers are merged into one
folder that its instances see as /opt, as FC unpacks them: the layer configured first wins a clash.

Blocking file work: callers run it off the event loop where they have one.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from emulator.catalog.code_archive import MAX_ZIP_BYTES, CodeError, check_zip, unpack
from emulator.catalog.fingerprints import fingerprint

VERSION = re.compile(r"^[1-9][0-9]{0,9}$")
LAYER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
LAYER_ARN = re.compile(r"^acs:fc:[^:]*:[^:]*:layers/([A-Za-z0-9_-]{1,128})/versions/([1-9][0-9]{0,9})$")
# FC takes at most five layers per function.
MAX_LAYERS = 5


class LayerError(Exception):
    """A layer that cannot be used; the message names its ARN."""


@dataclass(frozen=True)
class LayerSource:
    """Where layers are read from, and where their zips are unpacked and a function's layers merged."""

    # Searched in order; the published mirror comes after them all (see `search_roots`).
    roots: tuple[Path, ...]
    cache_dir: Path

    @property
    def published_dir(self) -> Path:
        """Where this host keeps the zips of layer versions published through the API (`<name>/<n>.zip`)."""
        return self.cache_dir / "published"

    def search_roots(self) -> tuple[Path, ...]:
        return (*self.roots, self.published_dir)

    def local_versions(self, name: str) -> dict[int, Path]:
        """The versions of a layer that the folders (not the API) hold, each with the folder or zip that holds it."""
        found: dict[int, Path] = {}
        for root in self.roots:
            folder = root / name
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                stem = entry.name[:-4] if entry.name.endswith(".zip") and entry.is_file() else entry.name
                if (entry.is_dir() or entry.name.endswith(".zip")) and VERSION.match(stem):
                    found.setdefault(int(stem), entry)
        return found

    def local_names(self) -> set[str]:
        return {entry.name for root in self.roots if root.is_dir() for entry in root.iterdir()
                if entry.is_dir() and LAYER_NAME.match(entry.name) and self.local_versions(entry.name)}

    def resolve(self, arns: list[str]) -> tuple[Path | None, str]:
        """The merged /opt folder of these layers (None for none) and a fingerprint of their contents."""
        if not arns:
            return None, ""
        if len(arns) > MAX_LAYERS:
            raise LayerError(f"layers: {len(arns)} given; FC takes at most {MAX_LAYERS}")
        folders = [self._folder(arn) for arn in arns]

        digest = hashlib.sha256()
        for arn, folder in zip(arns, folders):
            digest.update(f"{arn}\0{folder}\0{fingerprint(folder)}\n".encode())
        key = digest.hexdigest()
        merged = self.cache_dir / "merged" / key[:32]
        if not merged.is_dir():
            _merge(folders, merged)
        return merged, key

    def check(self, arns: list[str]) -> None:
        """Raises LayerError unless every ARN names a layer that exists (no unpacking, no merging)."""
        if len(arns) > MAX_LAYERS:
            raise LayerError(f"layers: {len(arns)} given; FC takes at most {MAX_LAYERS}")
        for arn in arns:
            folder, archive = self._locate(arn)
            if not folder.is_dir() and not archive.is_file():
                raise LayerError(_missing(arn, folder, archive))

    def _locate(self, arn: str) -> tuple[Path, Path]:
        match = LAYER_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise LayerError(f"layer '{str(arn)[:300]}' is not a layer version ARN "
                             "(acs:fc:<region>:<account>:layers/<name>/versions/<n>)")
        name, version = match.groups()
        candidates = [(root / name / version, root / name / f"{version}.zip") for root in self.search_roots()]
        for folder, archive in candidates:
            if folder.is_dir() or archive.is_file():
                return folder, archive
        return candidates[0]

    def _folder(self, arn: str) -> Path:
        folder, archive = self._locate(arn)
        if folder.is_dir():
            return folder.resolve()
        if archive.is_file():
            return self._unpacked(arn, archive)
        raise LayerError(_missing(arn, folder, archive))

    def _unpacked(self, arn: str, archive: Path) -> Path:
        data = archive.read_bytes()
        if len(data) > MAX_ZIP_BYTES:
            raise LayerError(f"layer '{arn}': {archive} is {len(data)} bytes; fcemu takes at most {MAX_ZIP_BYTES}")
        target = self.cache_dir / "zips" / hashlib.sha256(data).hexdigest()
        if not target.is_dir():
            try:
                check_zip(data)
                unpack(data, target)
            except CodeError as error:
                raise LayerError(f"layer '{arn}': {archive}: {error}") from error
        return target


def _missing(arn: str, folder: Path, archive: Path) -> str:
    return (f"layer '{arn}' does not exist: no folder {folder} nor zip {archive} "
            "(FCEMU_LAYERS_DIR holds <name>/<version>/ or <name>/<version>.zip), nor was it published")


def _merge(folders: list[Path], merged: Path) -> None:
    """Copies the layers into one folder, last first, so that the first configured overwrites the others (FC's
    rule); built aside and renamed so that a reader never sees half of it."""
    staging = merged.with_name(f"{merged.name}.partial-{uuid.uuid4().hex}")
    staging.mkdir(parents=True)
    try:
        for folder in reversed(folders):
            shutil.copytree(folder, staging, dirs_exist_ok=True, symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() or path.stat().st_mode & 0o111 else 0o644)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise LayerError(f"layers could not be merged: {error}") from error
    try:
        staging.rename(merged)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not merged.is_dir():
            raise
