"""MkDocs hook: the Settings page's table, generated from `Settings`' fields (emulator/settings.py).

docs/settings.md holds the page's prose and the marker below; at build time the marker becomes one row per field:
its variable (FCEMU_<FIELD>), its default, what it accepts (from the field's type and bounds) and its description.
So a setting's meaning lives in its `Field(description=...)` only, and the page cannot fall behind the code.
"""
from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from annotated_types import Ge, Gt, Le, Lt
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- settings-table -->"


def _settings_class():
    # The checkout being built, whichever fcemu the venv has installed.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from emulator.settings import Settings

    return Settings


def _default(value) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _kind(annotation) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return ", ".join(f"`{arg}`" for arg in args)
    if isinstance(annotation, types.UnionType):
        return " or ".join(_kind(arg) for arg in args if arg is not type(None))
    return {bool: "`true` or `false`", int: "integer", float: "number", str: "text", Path: "path",
            SecretStr: "text (secret)"}.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _number(limit) -> str:
    return f"{limit:,}" if isinstance(limit, int) else f"{limit:g}"


def _bounds(metadata) -> str:
    """`1-65,535`, `>= 1`, `> 0`: the field's bounds as one reads them."""
    found = {}
    for bound in metadata:
        for kind, attribute in ((Ge, "ge"), (Gt, "gt"), (Le, "le"), (Lt, "lt")):
            if isinstance(bound, kind):
                found[attribute] = getattr(bound, attribute)
    if "ge" in found and "le" in found:
        return f"{_number(found['ge'])}-{_number(found['le'])}"
    signs = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    return ", ".join(f"{signs[attribute]} {_number(limit)}" for attribute, limit in found.items())


def settings_table() -> str:
    rows = ["| variable | default | accepts | meaning |", "| --- | --- | --- | --- |"]
    for name, field in _settings_class().model_fields.items():
        accepts = _kind(field.annotation)
        bounds = _bounds(field.metadata)
        if bounds:
            accepts += f" {bounds}"
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        rows.append(f"| `FCEMU_{name.upper()}` | {_default(field.default)} | {accepts} | {description} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != "settings.md":
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"docs/settings.md lost its marker {MARKER}")
    return markdown.replace(MARKER, settings_table())
