"""Pure logic of credentials and lifecycle hooks: settings, the credentials file, the manifest's
instanceLifecycleConfig, and what the runtime contract carries."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from emulator.catalog.loader import FunctionDefinition
from emulator.catalog.manifest import FunctionManifest
from emulator.pool import contract
from emulator.settings import Settings

BASE = {"functionName": "f", "runtime": "python3.10", "handler": "index.handler"}


def definition(**fields: Any) -> FunctionDefinition:
    return FunctionDefinition(FunctionManifest.model_validate({**BASE, **fields}), Path("/code"), Path("/code"))


def static_headers(function: FunctionDefinition, config: Settings) -> dict[str, str]:
    return contract.static_headers(function, config, config.function_credentials())


def environment(function: FunctionDefinition, config: Settings) -> dict[str, str]:
    return contract.environment(function, config, config.function_credentials())


def settings(**fields: Any) -> Settings:
    return Settings(**{"function_credentials_access_key_id": "id", "function_credentials_access_key_secret": "sk",
                       "function_credentials_security_token": "tok", **fields})


def test_a_function_with_a_role_gets_the_credentials_in_headers_and_environment() -> None:
    role = definition(role="acs:ram::1:role/r")
    headers, env = static_headers(role, settings()), environment(role, settings())
    assert (headers["x-fc-access-key-id"], headers["x-fc-access-key-secret"], headers["x-fc-security-token"]) == (
        "id", "sk", "tok")
    assert (env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
            env["ALIBABA_CLOUD_SECURITY_TOKEN"]) == ("id", "sk", "tok")


def test_no_role_no_credentials() -> None:
    for function, config in ((definition(), settings()),):
        assert not {"x-fc-access-key-id", "x-fc-security-token"} & static_headers(function, config).keys()
        assert "ALIBABA_CLOUD_ACCESS_KEY_ID" not in environment(function, config)


def test_the_emulators_credentials_win_over_the_functions_own_variables() -> None:
    function = definition(role="r", environmentVariables={"ALIBABA_CLOUD_ACCESS_KEY_ID": "mine"})
    assert environment(function, settings())["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "id"


@pytest.mark.parametrize(("disabled", "in_headers", "in_env"), [
    ("None", True, True), ("Env", True, False), ("Request", False, True), ("All", False, False)])
def test_disable_inject_credentials(disabled: str, in_headers: bool, in_env: bool) -> None:
    function = definition(role="r", disableInjectCredentials=disabled)
    assert ("x-fc-access-key-id" in static_headers(function, settings())) is in_headers
    assert ("ALIBABA_CLOUD_ACCESS_KEY_ID" in environment(function, settings())) is in_env


def test_a_long_term_key_without_token_sends_no_empty_token() -> None:
    config = settings(function_credentials_security_token="")
    assert "x-fc-security-token" not in static_headers(definition(role="r"), config)
    assert "ALIBABA_CLOUD_SECURITY_TOKEN" not in environment(definition(role="r"), config)


def test_the_secret_stays_out_of_the_settings_repr() -> None:
    config = settings()
    assert "sk" not in repr(config.function_credentials()) and "tok" not in repr(config.function_credentials())
    assert "'sk'" not in repr(config)


def test_half_a_key_pair_or_both_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="secret"):
        Settings(function_credentials_access_key_id="id").function_credentials()
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"AccessKeyId": "a", "AccessKeySecret": "b"}))
    with pytest.raises(ValueError, match="not both"):
        settings(function_credentials_file=path).function_credentials()


@pytest.mark.parametrize("document", [
    {"AccessKeyId": "a", "AccessKeySecret": "b", "SecurityToken": "c"},
    {"RequestId": "r", "Credentials": {"AccessKeyId": "a", "AccessKeySecret": "b", "SecurityToken": "c"}},
])
def test_the_file_takes_sts_assume_roles_shape(tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))
    found = Settings(function_credentials_file=path).function_credentials()
    assert found is not None
    assert (found.access_key_id, found.access_key_secret, found.security_token) == ("a", "b", "c")


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "is not JSON"), ("[1]", "JSON object"), ('{"AccessKeyId": 1, "AccessKeySecret": "b"}', "strings"),
    ("{}", "holds no AccessKeyId")])
def test_a_bad_file_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        Settings(function_credentials_file=path).function_credentials()


def test_fc3_lifecycle_initializer_means_the_top_level_initializer() -> None:
    manifest = definition(instanceLifecycleConfig={"initializer": {"handler": "index.init", "timeout": 9}}).manifest
    assert (manifest.initializer, manifest.initializationTimeout) == ("index.init", 9)
    headers = static_headers(definition(instanceLifecycleConfig={"initializer": {"handler": "i.x"}}),
                                      Settings())
    assert headers["x-fc-function-initializer"] == "i.x" and headers["x-fc-initialization-timeout"] == "3"
    same = definition(initializer="i.x", initializationTimeout=7,
                      instanceLifecycleConfig={"initializer": {"handler": "i.x"}}).manifest
    assert same.initializationTimeout == 7


def test_two_different_initializers_are_refused() -> None:
    with pytest.raises(ValidationError, match="differ"):
        definition(initializer="i.a", instanceLifecycleConfig={"initializer": {"handler": "i.b"}})


def test_pre_stop_is_configured_by_its_handler_and_sent_in_fcs_header() -> None:
    hooked = definition(instanceLifecycleConfig={"preStop": {"handler": "index.pre_stop", "timeout": 4}})
    assert hooked.manifest.pre_stop is not None and hooked.manifest.pre_stop.timeout == 4
    assert static_headers(hooked, Settings())["x-fc-instance-lifecycle-pre-stop-handler"] == "index.pre_stop"
    for unhooked in (definition(), definition(instanceLifecycleConfig={"preFreeze": {"handler": "i.f"}}),
                     definition(instanceLifecycleConfig={"preStop": {"command": ["true"]}})):
        assert unhooked.manifest.pre_stop is None
        assert "x-fc-instance-lifecycle-pre-stop-handler" not in static_headers(unhooked, Settings())


@pytest.mark.parametrize("hook", [{"handler": "i.h", "timeout": 0}, {"handler": "i.h", "timeout": 601},
                                  {"handler": "i.h", "command": ["x"]}, {"handler": "i.h", "unknown": 1}])
def test_bad_hooks_are_refused(hook: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        definition(instanceLifecycleConfig={"preStop": hook})
