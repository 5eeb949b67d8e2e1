"""emulator/'s functions and modules stay short enough to read in one sitting: read from the source with ast, nothing
is imported or run (no Docker).

No function or method may be longer than MAX_FUNCTION_LINES lines (from its `def` to its last line, decorators
aside), and no module longer than MAX_MODULE_LINES. KNOWN_LONG holds what is longer today: that list may only
shrink. A new long function or module fails here, and so does a listed entry that is no longer long (delete it).
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "emulator"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400

# What is too long today: a module as its path below emulator/, a function as "path:qualified.name". Remove an
# entry when it shrinks; never add one (split the function or the module instead).
KNOWN_LONG: set[str] = set()


def _functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function of a module, nested ones and methods too, each with its name qualified by where it is
    defined (Class.method, outer.inner)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((prefix + child.name, child))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _long_in(name: str, source: str) -> set[str]:
    """The entries of one module (named `name`) that are over the limits."""
    long = {name} if len(source.splitlines()) > MAX_MODULE_LINES else set()
    for qualified, function in _functions(ast.parse(source, name)):
        assert function.end_lineno is not None
        if function.end_lineno - function.lineno + 1 > MAX_FUNCTION_LINES:
            long.add(f"{name}:{qualified}")
    return long


def _long_code() -> set[str]:
    long: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        long |= _long_in(path.relative_to(PACKAGE).as_posix(), path.read_text())
    return long


def test_no_new_long_code() -> None:
    new = sorted(_long_code() - KNOWN_LONG)
    assert new == [], (f"functions of at most {MAX_FUNCTION_LINES} lines and modules of at most {MAX_MODULE_LINES}: "
                       "split these, each part named for its job")


def test_the_known_long_code_is_still_long() -> None:
    gone = sorted(KNOWN_LONG - _long_code())
    assert gone == [], "these are short enough now: delete them from KNOWN_LONG"


def _body(lines: int, indent: int) -> str:
    return "".join(f"{' ' * indent}x{index} = {index}\n" for index in range(lines))


def test_functions_are_measured_and_named_where_they_are_defined() -> None:
    # A def line and MAX_FUNCTION_LINES lines of body are one over; a def line and one line fewer are at the limit.
    source = (f"class Pool:\n    def take(self):\n{_body(MAX_FUNCTION_LINES, 8)}"
              f"    async def give(self):\n{_body(MAX_FUNCTION_LINES - 1, 8)}"
              f"def outer():\n    def inner():\n{_body(MAX_FUNCTION_LINES, 8)}")
    assert _long_in("pool.py", source) == {"pool.py:Pool.take", "pool.py:outer", "pool.py:outer.inner"}


def test_modules_are_measured_by_their_lines() -> None:
    assert _long_in("big.py", "x = 1\n" * (MAX_MODULE_LINES + 1)) == {"big.py"}
    assert _long_in("small.py", "x = 1\n" * MAX_MODULE_LINES) == set()
