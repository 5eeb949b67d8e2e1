"""emulator/'s layers import downwards: read from the source with ast, nothing is imported or run (no Docker).

Every module of emulator/ belongs to the layer of its longest matching name in LAYERS (a package takes its
modules along). A module may import modules of its own layer and of the layers below, never of one above.
KNOWN_UPWARD holds the arrows that point up today (none since issue 22 removed the last): that list may only
shrink. A new upward import fails here, and so does an entry that no longer occurs (delete it), or a module in no
layer (place it).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "emulator"
ROOT = "emulator"  # the package itself (its __init__ holds the version): only ever the name itself, not a prefix

# Highest first.
LAYERS: list[tuple[str, ...]] = [
    # The command line, and what only it runs: the project commands, the local mail sink.
    ("emulator.__main__", "emulator.cli", "emulator.project", "emulator.devtools"),
    # HTTP: FC's APIs, the console's and the docs' pages.
    ("emulator.api", "emulator.console", "emulator.api_docs"),
    # Builds, starts and holds every part below.
    ("emulator.core",),
    # What Core.start is made of: the groups of parts it builds, and the checks `fcemu serve`'s preflight shares.
    ("emulator.core_parts", "emulator.startup_checks"),
    # Claims due tasks and runs them.
    ("emulator.dispatcher",),
    # What the dispatcher drives beside the invoker, and the exporter that reads the pools and the queue.
    ("emulator.destinations", "emulator.triggers", "emulator.metrics.scrape"),
    # An HTTP trigger's event, on top of the invoker.
    ("emulator.http_event",),
    # One invocation of one instance.
    ("emulator.invoker",),
    # Instances: engine, launcher, pools.
    ("emulator.pool",),
    # What the instances are made of and report to: functions (with what their triggers may declare:
    # catalog/trigger_config.py), their logs, FC's endpoints, the counters (and any other module of metrics/ but
    # the exporter).
    ("emulator.catalog", "emulator.logs", "emulator.fc_endpoint", "emulator.metrics.counters", "emulator.metrics"),
    # The queue's scripts and Redis's clock (open_files sizes itself by the client's pool). The queue knows
    # nothing of the catalog: it takes an invocation with a TaskPolicy (queue/task_policy.py), which the catalog
    # builds from a function's definition and async config.
    ("emulator.queue", "emulator.open_files"),
    # The Redis plumbing every part shares: clients, the outage probe, resilience, typed replies.
    ("emulator.redis_io",),
    # Helpers every layer reads.
    ("emulator.settings", "emulator.credentials", "emulator.local_address", "emulator.arns", "emulator.timestamps",
     "emulator.coalesced", "emulator.process_exit", "emulator.runtime_files", ROOT),
]

# (importer, imported) arrows that point up today. Remove an entry when its import goes; never add one. None
# is left: kept, empty, so that the test below still says when an arrow would be new.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(module: str, path: Path) -> set[str]:
    """The emulator modules `module` imports anywhere in its file (inside functions and TYPE_CHECKING too):
    `from package import name` counts as the module package.name where that is a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name == ROOT or name.startswith(ROOT + ".")}


def _layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (length of the matching name, layer)
    for index, names in enumerate(LAYERS):
        for name in names:
            matches = module == name or (name != ROOT and module.startswith(name + "."))
            if matches and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return None if best is None else best[1]


def _upward_imports() -> set[tuple[str, str]]:
    upward = set()
    for module, path in MODULES.items():
        for imported in _imported(module, path):
            importer_layer, imported_layer = _layer_of(module), _layer_of(imported)
            if importer_layer is not None and imported_layer is not None and imported_layer < importer_layer:
                upward.add((module, imported))
    return upward


def test_every_module_has_a_layer() -> None:
    assert [module for module in MODULES if _layer_of(module) is None] == []


def test_no_new_upward_import() -> None:
    new = sorted(_upward_imports() - KNOWN_UPWARD)
    assert new == [], "import only from your own layer or a lower one (LAYERS in this file)"


def test_the_known_upward_imports_still_occur() -> None:
    gone = sorted(KNOWN_UPWARD - _upward_imports())
    assert gone == [], "these arrows no longer point up: delete them from KNOWN_UPWARD"


@pytest.mark.parametrize(("source", "expected"), [
    ("from emulator.redis_io.keys import ShardKeys\n", {"emulator.redis_io.keys"}),
    ("from emulator.catalog import code_archive\n", {"emulator.catalog.code_archive"}),
    ("from emulator import __version__\n", {"emulator"}),
    ("from . import reader\nfrom ..queue.redis_client import sync_client\n",
     {"emulator.logs.reader", "emulator.queue.redis_client"}),
    ("import json\nfrom redis.asyncio import Redis\n", set()),
])
def test_imports_are_read_as_module_names(tmp_path: Path, source: str, expected: set[str]) -> None:
    path = tmp_path / "writer.py"
    path.write_text(source)
    assert _imported("emulator.logs.writer", path) == expected


def test_a_module_takes_its_longest_matching_layer() -> None:
    assert _layer_of("emulator.metrics.counters") == _layer_of("emulator.catalog.loader")
    assert _layer_of("emulator.metrics.scrape") == _layer_of("emulator.triggers")
    assert _layer_of("emulator") == _layer_of("emulator.settings")
    assert _layer_of("emulator.not_placed") is None
