"""Where the catalog's files come from: the functions folder and, when one is given, a Serverless Devs template.
Both are loaded together; a function name defined in both is an error naming both files. Their layers come from
FCEMU_LAYERS_DIR and the template's `layers/` folder."""
from __future__ import annotations

from pathlib import Path

from emulator.catalog.fingerprints import FingerprintOf, fingerprint
from emulator.catalog.layers import LayerSource
from emulator.catalog.loader import FunctionDefinition, ManifestError, load_functions
from emulator.catalog.template import Template, find_template, load_template
from emulator.settings import Settings


def template_path(settings: Settings) -> Path | None:
    """FCEMU_TEMPLATE / --template, else an s.yaml (or s.yml) in the current folder, else none."""
    if settings.template is not None:
        return settings.template
    return find_template(Path.cwd())


def layer_source(settings: Settings) -> LayerSource:
    """Where functions' layers come from; zips are unpacked and layers merged (and published ones mirrored)
    under data_dir."""
    roots = [settings.layers_dir.resolve()]
    template = template_path(settings)
    if template is not None:
        roots.append(template.resolve().parent / "layers")
    return LayerSource(roots=tuple(roots), cache_dir=settings.data_dir.resolve() / "layers")


def load_sources(settings: Settings, fingerprint_of: FingerprintOf = fingerprint
                 ) -> tuple[dict[str, FunctionDefinition], Template | None]:
    """The functions folder's definitions plus the template's. With a template, a functions folder that does not
    exist is no error (the project may have none); without one it is, as before. It reads and fingerprints every
    code folder (unless `fingerprint_of` knows them): call it off the event loop."""
    source = template_path(settings)
    template = None
    if source is not None:
        if not source.is_file():
            raise ManifestError(f"{source}: template file does not exist")
        template = load_template(source, account_id=settings.account_id, region=settings.region,
                                 layers=layer_source(settings), data_dir=settings.data_dir,
                                 fingerprint_of=fingerprint_of)
    if template is not None and not settings.functions_dir.is_dir():
        return dict(template.definitions), template
    definitions = load_functions(settings.functions_dir, layer_source(settings), fingerprint_of)
    for name, definition in (template.definitions if template else {}).items():
        if name in definitions:
            raise ManifestError(f"{definition.source}: functionName '{name}' is already defined by "
                                f"{definitions[name].source}")
        definitions[name] = definition
    return definitions, template
