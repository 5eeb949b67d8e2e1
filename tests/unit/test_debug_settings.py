"""Pure logic of FCEMU_DEBUG: the list's syntax, which host port each debugged function gets, what its container is
started with, and `fcemu serve --debug`."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import FunctionManifest
from emulator.cli import serving as cli
from emulator.pool.debugging import DEBUGPY_MOUNT, debugpy_dir
from emulator.pool.launcher import InstanceLauncher
from emulator.settings import Settings


def definition(name: str, runtime: str = "python3.10", **fields: Any) -> FunctionDefinition:
    manifest = FunctionManifest.model_validate({"functionName": name, "runtime": runtime, "handler": "index.handler",
                                                **fields})
    return FunctionDefinition(manifest, Path("/code"), Path("/code"))


def launcher(**fields: Any) -> InstanceLauncher:
    # container_spec and debugs need neither the engine nor the agent.
    return InstanceLauncher(None, None, Settings(**fields))  # type: ignore[arg-type]


def test_the_list_takes_names_and_ports() -> None:
    assert Settings(debug=" a, b:7000 ,c:0,,").debug_ports() == {"a": None, "b": 7000, "c": 0}
    assert Settings().debug_ports() == {}


@pytest.mark.parametrize("entry", ["a:x", "a:70000", ":5678", "a:"])
def test_a_bad_entry_is_refused_naming_it(entry: str) -> None:
    with pytest.raises(ValueError, match=f"debug entry '{entry}'"):
        Settings(debug=entry).debug_ports()


def test_ports_default_to_the_runtimes_own_plus_the_place_in_the_list() -> None:
    spec = launcher(debug="py,node,own:7000").container_spec
    assert spec(definition("py")).extra_ports == {5678: 5678}
    assert spec(definition("node", "nodejs18")).extra_ports == {9229: 9230}
    assert spec(definition("own")).extra_ports == {5678: 7000}
    based = launcher(debug="py,node", debug_port=6000).container_spec
    assert based(definition("node", "nodejs18")).extra_ports == {9229: 6001}
    assert launcher(debug="py", debug_port=0).container_spec(definition("py")).extra_ports == {5678: 0}


def test_a_debugged_python_instance_runs_debugpy_from_the_host_read_only() -> None:
    spec = launcher(debug="py").container_spec(definition("py", environmentVariables={"PYTHONPATH": "/code/lib"}))
    assert spec.command is not None and spec.command[:5] == ["python3", "-Xfrozen_modules=off", "-m", "debugpy",
                                                             "--listen"]
    assert spec.extra_mounts == {str(debugpy_dir()): f"{DEBUGPY_MOUNT}/debugpy"}
    assert spec.environment["PYTHONPATH"] == f"/code/lib:{DEBUGPY_MOUNT}"


def test_a_debugged_nodejs_instance_runs_the_inspector() -> None:
    spec = launcher(debug="node").container_spec(definition("node", "nodejs18"))
    assert spec.command == ["node", "--inspect=0.0.0.0:9229", "/opt/fcemu/bootstrap.js"]
    assert spec.extra_mounts == {}


def test_a_debugged_java_instance_keeps_its_command_and_asks_the_start_script_for_jdwp() -> None:
    spec = launcher(debug="jv").container_spec(definition("jv", "java11", handler="example.App::handleRequest"))
    assert spec.command is None and spec.image == Settings().java_runtime_image
    assert spec.environment["FCEMU_JDWP_ADDRESS"] == "*:5005" and spec.extra_ports == {5005: 5005}


def test_a_go_function_is_not_debugged_and_runs_its_binary_as_usual() -> None:
    debugging = launcher(debug="go")
    go = definition("go", "go1", handler="main")
    assert not debugging.debugs(go)
    spec = debugging.container_spec(go)
    assert spec.image == Settings().go_runtime_image and spec.extra_ports == {} and spec.command is None


def test_other_functions_and_custom_runtimes_run_as_usual() -> None:
    debugging = launcher(debug="py,custom")
    plain = debugging.container_spec(definition("other"))
    assert plain.command is None and plain.extra_ports == {} and plain.extra_mounts == {}
    custom = definition("custom", "custom.debian10", customRuntimeConfig={"command": ["./run"]})
    assert not debugging.debugs(custom)
    assert debugging.container_spec(custom).extra_ports == {}


def test_serve_debug_flags_replace_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCEMU_DEBUG", "from-env")
    flags = {"host": None, "port": None, "functions_dir": None, "template": None}
    assert cli._serve_settings(argparse.Namespace(**flags, debug=None)).debug == "from-env"
    assert cli._serve_settings(argparse.Namespace(**flags, debug=["a", "b:7000"])).debug_ports() == {"a": None,
                                                                                                    "b": 7000}
