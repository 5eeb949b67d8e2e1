"""Every Lua file of emulator/, read from the source as emulator/redis_io/lua.py loads it: a script, or a prelude
of helpers that scripts of its folder are loaded after (queue/lua/common.lua, catalog/lua/code_references.lua).
A prelude is told by its form: a script's chunk returns at its top level (a line that begins with `return`), a
prelude returns only inside its functions."""
from __future__ import annotations

import re
from pathlib import Path

EMULATOR = Path(__file__).resolve().parents[2] / "emulator"
TOP_LEVEL_RETURN = re.compile(r"^return\b", re.MULTILINE)


def lua_files() -> dict[str, str]:
    """Every .lua file under emulator/, by its path there (`queue/lua/claim.lua`): its text."""
    return {path.relative_to(EMULATOR).as_posix(): path.read_text() for path in sorted(EMULATOR.rglob("*.lua"))}


def is_prelude(text: str) -> bool:
    return TOP_LEVEL_RETURN.search(text) is None


def scripts_with_preludes() -> dict[str, str]:
    """Every script, by its path, after the preludes of its folder: all the Lua it may run."""
    files = lua_files()
    preludes = {name: text for name, text in files.items() if is_prelude(text)}
    return {
        name: "".join(text for prelude, text in preludes.items() if prelude.rpartition("/")[0] == folder) + source
        for name, source in files.items() if name not in preludes
        for folder in [name.rpartition("/")[0]]
    }
