"""MkDocs hook: the tables of Redis keys and channels, generated from emulator/redis_io/keys.py.

A page holds the marker `<!-- redis-keys -->` (every key and channel) or `<!-- redis-keys log -->` (those whose
Python name starts with `log`); at build time it becomes one row per key or channel: its name, with a
`<parameter>` where the code fills one in, its type and what it holds, both from the name's docstring (for a
constant, the string right after it, as Sphinx reads them). So a key's meaning lives in keys.py only, and the
pages cannot fall behind the code. A name whose docstring does not open with one of keys.KINDS (a hash tag, a
prefix, a helper) is not a key and gets no row.
"""
from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
KEYS_FILE = ROOT / "emulator" / "redis_io" / "keys.py"
MARKER = re.compile(r"<!-- redis-keys(?: (\w+))? -->")
# What a parameter stands for where its own name would say less.
PLACEHOLDERS = {"member": "<function>/<taskId>", "task_id": "<taskId>", "stream_id": "<stream id>"}
# ShardKeys' keys are shown for shard N.
SHARD = "N"


class Documented(NamedTuple):
    name: str  # as the code reads it: `FUNCTIONS_KEY`, `layer_key`, `ShardKeys.task`
    doc: str


def _keys_module() -> ModuleType:
    # The checkout being built, whichever fcemu the venv has installed.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from emulator.redis_io import keys

    return keys


def _documented(body: list[ast.stmt], owner: str = "") -> list[Documented]:
    """Every public name `body` defines, with its docstring ("" if it has none)."""
    found = []
    for index, node in enumerate(body):
        following = body[index + 1] if index + 1 < len(body) else None
        string_after = (following.value.value if isinstance(following, ast.Expr)
                        and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str)
                        else "")
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [target.id for target in targets if isinstance(target, ast.Name)]
            found += [Documented(owner + name, inspect.cleandoc(string_after)) for name in names]
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            found.append(Documented(owner + node.name, ast.get_docstring(node) or ""))
            if isinstance(node, ast.ClassDef):
                found += _documented(node.body, f"{node.name}.")
    return [entry for entry in found if not entry.name.rpartition(".")[2].startswith("_")]


def documented_names() -> list[Documented]:
    """Every public name keys.py defines (module level and class members), in the file's order."""
    return _documented(ast.parse(KEYS_FILE.read_text(), str(KEYS_FILE)).body)


def _pattern(keys: ModuleType, name: str) -> str:
    owner, _, attribute = name.rpartition(".")
    value = getattr(getattr(keys, owner)(SHARD) if owner else keys, attribute)
    if callable(value):
        parameters = inspect.signature(value).parameters
        value = value(*(PLACEHOLDERS.get(parameter, f"<{parameter}>") for parameter in parameters))
    return value + "*" if value.endswith(":") else value  # a prefix: the key is the prefix and a suffix


def _kind_and_holds(keys: ModuleType, doc: str) -> tuple[str, str] | None:
    kind, _, holds = doc.partition(":")
    if kind not in keys.KINDS or not holds.strip():
        return None
    return kind.lower(), " ".join(holds.split()).removesuffix(".").replace("|", "\\|")


def keys_table(group: str = "") -> str:
    keys = _keys_module()
    rows = ["| name | type | holds | in keys.py |", "| --- | --- | --- | --- |"]
    for entry in documented_names():
        described = _kind_and_holds(keys, entry.doc)
        if described and entry.name.lower().startswith(group):
            kind, holds = described
            rows.append(f"| `{_pattern(keys, entry.name)}` | {kind} | {holds} | `{entry.name}` |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(lambda match: keys_table(match.group(1) or ""), markdown)
