"""FC's layers, from local folders: `acs:fc:<region>:<account>:layers/<name>/versions/<n>` is the folder
`<layers_dir>/<name>/<n>/` (or the zip `<layers_dir>/<name>/<n>.zip`). A function's layers are merged into one
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

LAYER_ARN = re.compile(r"^acs:fc:[^:]*:[^:]*:layers/([A-Za-z0-9_-]{1,128})/versions/([1-9][0-9]{0,9})$")
# FC takes at most five layers per function.
MAX_LAYERS = 5


class LayerError(Exception):
    """A layer that cannot be used; the message names its ARN."""


@dataclass(frozen=True)
class LayerSource:
    """Where layers are read from, and where their zips are unpacked and a function's layers merged."""

    layers_dir: Path
    cache_dir: Path

    def resolve(self, arns: list[str]) -> tuple[Path | None, str]:
        """The merged /opt folder of these layers (None for none) and a fingerprint of their contents."""
        if not arns:
            return None, ""
        if len(arns) > MAX_LAYERS:
            raise LayerError(f"layers: {len(arns)} given; FC takes at most {MAX_LAYERS}")
        folders = [self._folder(arn) for arn in arns]
        from emulator.catalog.loader import fingerprint  # the loader imports this module

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
        return self.layers_dir / name / version, self.layers_dir / name / f"{version}.zip"

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
            "(FCEMU_LAYERS_DIR holds <name>/<version>/ or <name>/<version>.zip)")


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
