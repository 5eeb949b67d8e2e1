"""No test module imports another test module: what tests share lives in tests/support/ or a conftest.py.

Read from the source with ast, nothing is imported or run (no Docker). A test module is a file named test_*.py
under tests/; every Python file under tests/ (test modules, support modules, conftests, benchmarks) is checked,
for every form of import: `import tests.docker.test_x`, `from tests.docker.test_x import y`,
`from tests.docker import test_x`, and the relative forms of each.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"


def imported_names(source: str, package: tuple[str, ...]) -> Iterator[str]:
    """The dotted names an import statement of the source may load, relative ones resolved against the package
    (the importing file's folder as a dotted name). A `from a import b` yields both `a` and `a.b`, since b may be
    a module of package a."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parent = package[:len(package) - node.level + 1] if node.level else ()
            base = ".".join([*parent, *([node.module] if node.module else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def is_test_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split(".")).with_suffix(".py")
    return path.name.startswith("test_") and path.is_relative_to(TESTS) and path.is_file()


def imported_test_modules(path: Path) -> list[str]:
    package = path.relative_to(REPO).parent.parts
    return sorted({name for name in imported_names(path.read_text(), package) if is_test_module(name)})


def test_no_test_module_imports_another_test_module() -> None:
    files = sorted(TESTS.rglob("*.py"))
    assert len(files) > 100, "the walk found too few files: it is not reading tests/"
    offenders = {str(path.relative_to(REPO)): imported_test_modules(path) for path in files}
    assert {path: names for path, names in offenders.items() if names} == {}, (
        "move what test modules share to tests/support/ (helpers, constants) or a conftest.py (fixtures)")


def test_every_form_of_import_of_a_test_module_is_seen_and_only_those() -> None:
    """The reader itself: each form below imports the durability tests' module; support modules, conftests and
    the emulator's modules are not test modules."""
    forms = [
        "import tests.docker.test_durability_docker\n",
        "from tests.docker.test_durability_docker import enqueue\n",
        "from tests.docker import test_durability_docker\n",
        "from .test_durability_docker import enqueue\n",
        "from . import test_durability_docker\n",
        "from ..docker.test_durability_docker import enqueue\n",
        "def helper():\n    from tests.docker.test_durability_docker import enqueue\n",
    ]
    for source in forms:
        found = {name for name in imported_names(source, ("tests", "docker")) if is_test_module(name)}
        assert found == {"tests.docker.test_durability_docker"}, source
    others = "from tests.support.fc_api import v3\nfrom tests.conftest import TEST_FUNCTIONS\nimport emulator.cli\n"
    assert [name for name in imported_names(others, ("tests", "docker")) if is_test_module(name)] == []
