"""Every Lua script of emulator/ is a .lua file run through the one loader (emulator/redis_io/lua.py) and opens
with its calling contract, as BullMQ's commands do: what it does, then its KEYS[n] and ARGV[n] numbered one a
line, then what it returns. Read from the sources (the Lua as text, the Python with ast), no Redis needed.

A header line `-- KEYS[3]: ...` declares one key; `-- KEYS[6..]: ...` (or `ARGV[8..7+n]`, `ARGV[8+n..]`) the
variable tail that follows the numbered ones. A prelude (tests/support/lua_files.py) declares none: its helpers
take what they need from the script that calls them."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.lua_files import EMULATOR, is_prelude, lua_files, scripts_with_preludes

LOADER = EMULATOR / "redis_io" / "lua.py"
NAMES = ("KEYS", "ARGV")
DECLARED = re.compile(r"^-- (KEYS|ARGV)\[(\d+)\]: \S")
VARIADIC = re.compile(r"^-- (KEYS|ARGV)\[(\d+)(?:\+\w+)?\.\.[^\]]*\]: \S")
ANY_DECLARATION = re.compile(r"^-- (KEYS|ARGV)\[")
USED = re.compile(r"\b(KEYS|ARGV)\[(\d+)\]")

FILES = lua_files()
SCRIPTS = sorted(name for name, text in FILES.items() if not is_prelude(text))
PRELUDES = sorted(name for name, text in FILES.items() if is_prelude(text))


def header_and_body(text: str) -> tuple[list[str], str]:
    """The leading comment lines, and the code after them with its comments dropped (a comment may name a key)."""
    lines = text.splitlines()
    count = next((i for i, line in enumerate(lines) if not line.startswith("--")), len(lines))
    code = [line.split("--", 1)[0] for line in lines[count:]]
    return lines[:count], "\n".join(code)


def declared(header: list[str], name: str) -> tuple[list[int], list[int]]:
    """The numbered declarations of KEYS or ARGV in the header's order, and where each variable tail starts."""
    numbered = [int(m.group(2)) for line in header if (m := DECLARED.match(line)) and m.group(1) == name]
    tails = [int(m.group(2)) for line in header if (m := VARIADIC.match(line)) and m.group(1) == name]
    return numbered, tails


def used(body: str, name: str) -> set[int]:
    return {int(index) for found, index in USED.findall(body) if found == name}


def computed(source: str, name: str) -> bool:
    """Whether the Lua reaches KEYS or ARGV by a computed index (a loop, unpack, a length)."""
    return re.search(rf"\b{name}\[(?!\d+\])|#{name}\b|unpack\({name}\b", source) is not None


def test_the_files_are_found() -> None:
    assert "queue/lua/claim.lua" in SCRIPTS and "queue/lua/common.lua" in PRELUDES


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_script_opens_with_what_it_does_its_numbered_keys_and_argv_and_what_it_returns(name: str) -> None:
    header, _ = header_and_body(FILES[name])
    assert header and not ANY_DECLARATION.match(header[0]), "the header opens with what the script does"
    assert any(line.startswith("-- Returns") for line in header), "the header says what the script returns"
    for line in header:
        if ANY_DECLARATION.match(line):
            assert DECLARED.match(line) or VARIADIC.match(line), f"not `-- KEYS[n]: what it is`: {line}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_key_and_argument_the_script_uses_is_declared_and_every_declared_one_is_used(name: str) -> None:
    header, body = header_and_body(FILES[name])
    for kind in NAMES:
        numbered, tails = declared(header, kind)
        assert numbered == list(range(1, len(numbered) + 1)), f"{kind} numbered 1, 2, ... one a line: {numbered}"
        assert used(body, kind) == set(numbered), f"{kind} used by the code != declared in the header"
        assert all(start == len(numbered) + 1 for start in tails), f"a {kind} tail starts after the numbered ones"
        if computed(body, kind):
            assert tails, f"the code reaches {kind} by a computed index: the header declares the variable tail"
        if tails:
            assert computed(scripts_with_preludes()[name], kind), f"a {kind} tail is declared that nothing reads"


@pytest.mark.parametrize("name", PRELUDES)
def test_a_prelude_says_what_it_holds_and_takes_no_keys_or_argv_of_its_own(name: str) -> None:
    header, body = header_and_body(FILES[name])
    assert header, "the prelude opens with what it holds"
    assert not any(ANY_DECLARATION.match(line) for line in header)
    assert not any(used(body, kind) for kind in NAMES), "a prelude's helpers take their keys from their caller"


def python_modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in sorted(EMULATOR.rglob("*.py"))}


def calls(tree: ast.Module) -> list[tuple[str, ast.Call]]:
    """Every call with the name it calls (`x.register_script(...)` and `register_script(...)` alike)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            found.append((name, node))
    return found


def test_every_script_runs_through_the_loader_and_no_lua_is_inline() -> None:
    for path, tree in python_modules().items():
        where = path.relative_to(EMULATOR.parent)
        for name, _ in calls(tree):
            assert name != "register_script", f"{where} registers a script: load a .lua file with load_script"
            assert name != "Script" or path == LOADER, f"{where} makes a Script: load a .lua file with load_script"
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert "redis.call(" not in node.value, f"{where} holds Lua inline: move it into a .lua file"


def test_the_preludes_are_the_ones_the_loader_is_given_and_every_script_is_loaded() -> None:
    names: set[str] = set()
    preludes: set[str] = set()
    for tree in python_modules().values():
        names |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        for name, call in calls(tree):
            if name == "load_script":
                preludes |= {k.value.value for k in call.keywords
                             if k.arg == "prelude" and isinstance(k.value, ast.Constant)}
    assert preludes == {Path(name).stem for name in PRELUDES}
    assert not [name for name in SCRIPTS if Path(name).stem not in names], "a .lua file that nothing loads"
