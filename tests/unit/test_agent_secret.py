"""Pure logic of the instance's secret on the control plane's side: what a container is started with, and that
no client's copy of the header is passed on (the agents' side runs in tests/test_instance_isolation_docker.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import FunctionManifest
from emulator.invoker import HttpRequest
from emulator.pool import contract
from emulator.pool.contract import AGENT_TOKEN_HEADER, AGENT_TOKEN_VARIABLE, is_contract_header
from emulator.pool.instance import Instance
from emulator.pool.launcher import InstanceLauncher
from emulator.settings import Settings


def definition(runtime: str, **fields: Any) -> FunctionDefinition:
    manifest = FunctionManifest.model_validate({"functionName": "fn", "runtime": runtime, "handler": "index.handler",
                                                **fields})
    return FunctionDefinition(manifest, Path("/code"), Path("/code"))


def launcher(**fields: Any) -> InstanceLauncher:
    # container_spec needs neither the engine nor the agent.
    return InstanceLauncher(None, None, Settings(**fields))  # type: ignore[arg-type]


@pytest.mark.parametrize("runtime", ["python3.10", "nodejs18"])
def test_every_instance_starts_with_a_secret_of_its_own(runtime: str) -> None:
    spec = launcher().container_spec
    secrets = {spec(definition(runtime)).environment[AGENT_TOKEN_VARIABLE] for _ in range(50)}
    assert len(secrets) == 50 and all(len(secret) >= 43 for secret in secrets)


def test_a_debugged_or_custom_instance_gets_one_too() -> None:
    assert launcher(debug="fn").container_spec(definition("python3.10")).environment[AGENT_TOKEN_VARIABLE]
    custom = definition("custom.debian10", customRuntimeConfig={"command": ["python3", "server.py"]})
    assert launcher().container_spec(custom).environment[AGENT_TOKEN_VARIABLE]


@pytest.mark.parametrize("name", [AGENT_TOKEN_VARIABLE, "FCEMU_JDWP_ADDRESS", "fcemu_fc_relay"])
def test_a_functions_own_variables_cannot_set_fcemus(name: str) -> None:
    with pytest.raises(ValidationError, match="is reserved"):
        definition("python3.10", environmentVariables={name: "chosen-by-the-function"})


@pytest.mark.parametrize("name", [AGENT_TOKEN_HEADER, "X-Fcemu-Agent-Token", "x-fcemu-anything",
                                  "x-fc-function-handler"])
def test_a_clients_header_of_the_emulators_is_never_passed_on(name: str) -> None:
    assert is_contract_header(name)
    request = HttpRequest("GET", "/", [(name, "from-a-client"), ("x-custom", "kept")], b"")
    assert request.headers_with([(AGENT_TOKEN_HEADER, "the-emulators")]) == [
        ("x-custom", "kept"), (AGENT_TOKEN_HEADER, "the-emulators")]


def test_every_request_to_an_instance_carries_its_secret_and_is_a_contract_header() -> None:
    instance = Instance(function_name="fn", container_id="c" * 64, base_url="", capacity=1, agent_token="its-own")
    for path in (contract.INVOKE, contract.HTTP_INVOKE, contract.INITIALIZE, contract.PRE_STOP):
        headers = contract.control_headers(instance, path, "r-1", None)
        assert headers == {"x-fc-request-id": "r-1", "x-fc-control-path": path, AGENT_TOKEN_HEADER: "its-own"}
        # None of them could come from a client: each would be dropped from a client's request.
        assert all(is_contract_header(name) for name in headers)
