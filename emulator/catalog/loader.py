"""Reads `functions/<name>/function.yaml` (or `.json`) into function definitions."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from emulator.catalog.fingerprints import FingerprintOf, fingerprint
from emulator.catalog.layers import LayerError, LayerSource
from emulator.catalog.manifest import FunctionManifest
from emulator.timestamps import iso_utc

MANIFEST_NAMES = ("function.yaml", "function.yml", "function.json")


class ManifestError(Exception):
    """A manifest that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class FunctionDefinition:
    manifest: FunctionManifest
    code_dir: Path
    source: Path
    # Changes whenever a file under code_dir does: tells a reload which functions really changed.
    code_fingerprint: str = ""
    # A deployed function's functionId (new for each CreateFunction, kept by updates); "" for functions/.
    function_id: str = ""
    # The function's layers merged, mounted as /opt in its instances; None without layers.
    opt_dir: Path | None = None
    # A published version's id (catalog/versions.py); "" for LATEST. Each version has a pool of its own.
    version_id: str = ""

    @property
    def name(self) -> str:
        return self.manifest.functionName

    @property
    def identity(self) -> str:
        """Which function this is, beyond its name: a task accepted for one never runs on another that took
        the name after a delete. Updates keep it, as FC's LATEST runs a queued task on the updated code."""
        return self.function_id or f"functions/{self.name}"

    @property
    def modified_time(self) -> str:
        """When its manifest last changed, as FC writes times (for configs and triggers that come from it)."""
        return iso_utc(self.source.stat().st_mtime) if self.source.exists() else iso_utc()


def _describe(error: ValidationError, source: Path) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{field}: {item['msg']}")
    return f"{source}: " + "; ".join(problems)


def load_manifest(source: Path, code_dir: Path | None = None, layers: LayerSource | None = None,
                  fingerprint_of: FingerprintOf = fingerprint) -> FunctionDefinition:
    """A manifest file as a definition; the code is the manifest's folder unless `code_dir` says otherwise."""
    try:
        text = source.read_text()
        raw = json.loads(text) if source.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ManifestError(f"{source}: cannot be read: {error}") from error
    if not isinstance(raw, dict):
        raise ManifestError(f"{source}: expected a mapping of CreateFunctionInput fields")
    try:
        manifest = FunctionManifest.model_validate(raw)
    except ValidationError as error:
        raise ManifestError(_describe(error, source)) from error
    code_dir = (code_dir or source.parent).resolve()
    opt_dir, layers_fingerprint = resolve_layers(manifest, layers, source)
    return FunctionDefinition(manifest=manifest, code_dir=code_dir, source=source, opt_dir=opt_dir,
                              code_fingerprint=fingerprint_of(code_dir) + layers_fingerprint)


def resolve_layers(manifest: FunctionManifest, layers: LayerSource | None, source: Path) -> tuple[Path | None, str]:
    """The function's merged layers and their fingerprint (a changed layer changes the function's fingerprint, so
    its warm instances drain), or a ManifestError naming the file and the layer."""
    if not manifest.layers:
        return None, ""
    if layers is None:
        raise ManifestError(f"{source}: layers: fcemu was given no layers folder (FCEMU_LAYERS_DIR)")
    try:
        return layers.resolve(manifest.layers)
    except LayerError as error:
        raise ManifestError(f"{source}: layers: {error}") from error


def find_manifest(folder: Path) -> Path | None:
    for name in MANIFEST_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def load_functions(functions_dir: Path, layers: LayerSource | None = None,
                   fingerprint_of: FingerprintOf = fingerprint) -> dict[str, FunctionDefinition]:
    """Every function under the folder, by name; one bad manifest stops the load with its reason."""
    definitions: dict[str, FunctionDefinition] = {}
    if not functions_dir.is_dir():
        raise ManifestError(f"{functions_dir}: functions folder does not exist")
    for folder in sorted(path for path in functions_dir.iterdir() if path.is_dir()):
        source = find_manifest(folder)
        if source is None:
            continue
        definition = load_manifest(source, layers=layers, fingerprint_of=fingerprint_of)
        if definition.name in definitions:
            other = definitions[definition.name].source
            raise ManifestError(f"{source}: functionName '{definition.name}' is already defined by {other}")
        definitions[definition.name] = definition
    return definitions
