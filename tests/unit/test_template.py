"""The Serverless Devs template loader: variables, the fc3 props' mapping to definitions, and errors that name
the file, the line and the expression. Pure logic, no emulator."""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import cast

import pytest
from redis.asyncio import Redis

from emulator.catalog.async_configs import AsyncConfigs
from emulator.catalog.loader import ManifestError
from emulator.catalog.sources import load_sources
from emulator.catalog.template import TemplateError, load_template
from emulator.settings import Settings

EXAMPLE = Path(__file__).parents[1] / "templates" / "python-folder" / "s.yaml"


def write(folder: Path, text: str) -> Path:
    (folder / "code").mkdir(exist_ok=True)
    (folder / "code" / "index.py").write_text("def handler(event, context):\n    return event\n")
    source = folder / "s.yaml"
    source.write_text(text)
    return source


def load(source: Path):
    return load_template(source, account_id="111122223333", region="cn-shanghai")


def test_the_example_maps_to_definitions_with_every_variable_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPLATE_GREETING", raising=False)
    template = load(EXAMPLE)
    assert sorted(template.definitions) == ["tpl-echo", "tpl-greeter"]
    greeter = template.definitions["tpl-greeter"]
    manifest = greeter.manifest
    assert manifest.memorySize == 256  # a whole-value expression keeps its type
    assert manifest.role == "acs:ram::111122223333:role/aliyunfcdefaultrole"
    assert manifest.environmentVariables == {
        "GREETING": "hello from .env", "OWN_NAME": "tpl-greeter", "OTHER_HANDLER": "index.echo",
        "ACCOUNT": "111122223333",
    }
    assert manifest.api_version == "2023-03-30"
    assert [trigger.triggerType for trigger in manifest.triggers] == ["http"]
    assert greeter.code_dir == (EXAMPLE.parent / "code").resolve()
    assert greeter.code_fingerprint
    assert template.not_emulated == {"greeter": ["logConfig", "region", "vpcConfig"], "echo": ["region"]}
    assert "greeter (logConfig, region, vpcConfig)" in template.not_emulated_summary()


def test_the_process_environment_wins_over_dot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPLATE_GREETING", "from the shell")
    monkeypatch.setenv("TEMPLATE_TEST_REGION", "cn-beijing")
    manifest = load(EXAMPLE).definitions["tpl-greeter"].manifest
    assert manifest.environmentVariables["GREETING"] == "from the shell"


def test_config_region_and_text_interpolation(tmp_path: Path) -> None:
    source = write(tmp_path, """edition: 3.0.0
name: p
vars:
  prefix: app
resources:
  f:
    component: fc3
    props:
      functionName: ${vars.prefix}-${config('region')}
      runtime: python3.10
      handler: index.handler
      code: code
      description: "${this.name} in ${config('Region')}"
""")
    manifest = load(source).definitions["app-cn-shanghai"].manifest
    assert manifest.description == "f in cn-shanghai"


@pytest.mark.parametrize(("expression", "why"), [
    ("${vars.missing}", "vars has no missing"),
    ("${env('FCEMU_TEST_SURELY_UNSET')}", "FCEMU_TEST_SURELY_UNSET is not set"),
    ("${env.FCEMU_TEST_SURELY_UNSET}", "FCEMU_TEST_SURELY_UNSET is not set"),
    ("${resources.nope.props.handler}", "no resource named 'nope'"),
    ("${resources.f.output.url}", "only a resource's name and props"),
    ("${config('AccessKeyID')}", "config()"),
    ("${path('x')}", "path() is not supported"),
    ("${vars.a + 1}", "not a variable fcemu understands"),
])
def test_an_unresolvable_expression_names_file_line_and_expression(
    tmp_path: Path, expression: str, why: str
) -> None:
    source = write(tmp_path, f"""edition: 3.0.0
name: p
vars:
  a: 1
resources:
  f:
    component: fc3
    props:
      functionName: f
      runtime: python3.10
      handler: index.handler
      code: code
      description: "{expression}"
""")
    with pytest.raises(TemplateError) as raised:
        load(source)
    message = str(raised.value)
    assert message.startswith(f"{source}, line 13: cannot resolve {expression}: ")
    assert why in message


def test_a_reference_cycle_is_an_error_not_a_recursion(tmp_path: Path) -> None:
    source = write(tmp_path, """edition: 3.0.0
name: p
resources:
  f:
    component: fc3
    props:
      functionName: f
      runtime: python3.10
      handler: ${this.props.description}
      code: code
      description: ${this.props.handler}
""")
    with pytest.raises(TemplateError, match="line 9: cannot resolve .* refers to itself"):
        load(source)


@pytest.mark.parametrize(("props", "error"), [
    ("      code: ./nowhere\n", "line 7: resource 'f': code folder './nowhere' does not exist"),
    ("", "line 4: resource 'f': code is missing"),
    ("      code: code\n      memorySize: 100\n", "line 4: resource 'f': memorySize: Input should be greater than or equal to 128"),
    ("      code: code\n      noSuchProp: 1\n", "unknown field(s) noSuchProp"),
])
def test_bad_props_name_the_resource_and_line(tmp_path: Path, props: str, error: str) -> None:
    source = write(tmp_path, "edition: 3.0.0\nname: p\nresources:\n  f:\n    component: fc3\n    props:\n"
                   "      functionName: f\n      runtime: python3.10\n      handler: index.handler\n"
                   .replace("    props:\n", "    props:\n" + props))
    with pytest.raises(TemplateError) as raised:
        load(source)
    assert error in str(raised.value)


def test_other_components_and_editions_are_refused_with_their_line(tmp_path: Path) -> None:
    source = write(tmp_path, "edition: 3.0.0\nname: p\nresources:\n  f:\n    component: aws\n    props: {}\n")
    with pytest.raises(TemplateError, match=r"line 5: resource 'f': component 'aws' is not supported"):
        load(source)
    source.write_text("edition: 2.0.0\nname: p\nservices: {}\n")
    with pytest.raises(TemplateError, match="line 1: edition '2.0.0' is not supported"):
        load(source)


def test_functions_and_template_load_together_and_a_shared_name_is_an_error(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    (functions / "tpl-echo").mkdir(parents=True)
    (functions / "tpl-echo" / "function.yaml").write_text(
        "functionName: other\nruntime: python3.10\nhandler: index.handler\n")
    settings = Settings(functions_dir=functions, template=EXAMPLE)
    definitions, template = load_sources(settings)
    assert sorted(definitions) == ["other", "tpl-echo", "tpl-greeter"] and template is not None
    (functions / "tpl-echo" / "function.yaml").write_text(
        "functionName: tpl-echo\nruntime: python3.10\nhandler: index.handler\n")
    with pytest.raises(ManifestError, match="functionName 'tpl-echo' is already defined by"):
        load_sources(settings)
    # With a template, a functions folder that does not exist is no error.
    definitions, _ = load_sources(Settings(functions_dir=tmp_path / "none", template=EXAMPLE))
    assert sorted(definitions) == ["tpl-echo", "tpl-greeter"]


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_code_as_a_zip_is_unpacked_once_under_the_data_dir_keyed_by_checksum(tmp_path: Path) -> None:
    data = zip_of({"index.py": "def handler(event, context):\n    return b'zipped'\n"})
    (tmp_path / "code.zip").write_bytes(data)
    source = tmp_path / "s.yaml"
    source.write_text("edition: 3.0.0\nname: p\nresources:\n  f:\n    component: fc3\n    props:\n"
                      "      functionName: f\n      runtime: python3.10\n      handler: index.handler\n"
                      "      code: ./code.zip\n")
    data_dir = tmp_path / "data"
    definition = load_template(source, account_id="1", region="cn-hangzhou", data_dir=data_dir).definitions["f"]
    assert definition.code_dir == data_dir / "template-code" / hashlib.sha256(data).hexdigest()
    assert (definition.code_dir / "index.py").read_text().endswith("b'zipped'\n")
    again = load_template(source, account_id="1", region="cn-hangzhou", data_dir=data_dir).definitions["f"]
    assert again.code_dir == definition.code_dir and again.code_fingerprint == definition.code_fingerprint
    # An edited zip is a new folder, so the function's fingerprint changes and it is redeployed.
    (tmp_path / "code.zip").write_bytes(zip_of({"index.py": "def handler(event, context):\n    return b'v2'\n"}))
    edited = load_template(source, account_id="1", region="cn-hangzhou", data_dir=data_dir).definitions["f"]
    assert edited.code_dir != definition.code_dir and edited.code_fingerprint != definition.code_fingerprint


def test_a_bad_zip_names_the_file_line_and_the_zip_problem(tmp_path: Path) -> None:
    (tmp_path / "code.zip").write_bytes(zip_of({"../evil.py": "x = 1\n"}))
    source = tmp_path / "s.yaml"
    source.write_text("edition: 3.0.0\nname: p\nresources:\n  f:\n    component: fc3\n    props:\n"
                      "      functionName: f\n      runtime: python3.10\n      handler: index.handler\n"
                      "      code: ./code.zip\n")
    with pytest.raises(TemplateError) as raised:
        load_template(source, account_id="1", region="cn-hangzhou", data_dir=tmp_path / "data")
    assert str(raised.value).startswith(f"{source}, line 10: resource 'f': code './code.zip' cannot be used as a zip")
    assert "points outside the code folder" in str(raised.value)
    assert not (tmp_path / "data" / "template-code").exists() or not any((tmp_path / "data" / "template-code").iterdir())


LEGACY = """edition: 1.0.0
name: legacy
vars:
  service: svc
services:
  hello:
    component: devsapp/fc
    props:
      region: cn-hangzhou
      service:
        name: ${vars.service}
        role: acs:ram::1:role/AliyunFcDefaultRole
        logConfig: auto
      function:
        name: hello
        runtime: python3.10
        handler: index.handler
        codeUri: ./code
        memorySize: 256
        instanceType: e1
        environmentVariables:
          FUNCTION: ${services.hello.props.function.name}
        asyncConfiguration:
          destination:
            onFailure: acs:mns:::/topics/t/messages
          maxAsyncRetryAttempts: 1
      triggers:
        - name: web
          type: http
          config:
            authType: anonymous
            methods: [GET, POST]
        - name: tick
          type: timer
          qualifier: LATEST
          config:
            cronExpression: '0 0 8 * * *'
            enable: true
            payload: awesome-fc
"""


def test_a_legacy_fc_resource_is_the_fc2_function_service_dollar_function(tmp_path: Path) -> None:
    template = load(write(tmp_path, LEGACY))
    assert sorted(template.definitions) == ["svc$hello"]
    definition = template.definitions["svc$hello"]
    manifest = definition.manifest
    assert manifest.api_version == "2016-08-15"
    assert (manifest.runtime, manifest.handler, manifest.memorySize) == ("python3.10", "index.handler", 256)
    assert manifest.role == "acs:ram::1:role/AliyunFcDefaultRole"
    assert manifest.environmentVariables == {"FUNCTION": "hello"}
    assert definition.code_dir == (tmp_path / "code").resolve()
    assert [(t.triggerName, t.triggerType) for t in manifest.triggers] == [("web", "http"), ("tick", "timer")]
    assert manifest.triggers[0].triggerConfig["authType"] == "anonymous"
    assert manifest.triggers[0].triggerConfig["methods"] == ["GET", "POST"]
    assert manifest.triggers[1].triggerConfig == {"cronExpression": "0 0 8 * * *", "enable": True,
                                                  "payload": "awesome-fc"}
    assert manifest.asyncInvokeConfig is not None and manifest.asyncInvokeConfig.maxAsyncRetryAttempts == 1
    assert manifest.asyncInvokeConfig.destinationConfig.onFailure.destination == "acs:mns:::/topics/t/messages"
    assert template.not_emulated == {"hello": ["function.instanceType", "region", "service.logConfig"]}


@pytest.mark.parametrize(("change", "error"), [
    (("        name: ${vars.service}\n", ""), "line 6: resource 'hello': service.name is required"),
    (("        instanceType: e1\n", "        noSuch: 1\n"), "resource 'hello': unknown function field(s) noSuch"),
    (("        codeUri: ./code\n", "        ossBucket: b\n        ossKey: k\n"), "(ossBucket/ossKey) is not supported"),
    (("          qualifier: LATEST\n", "          bogus: 1\n"), "triggers[1]: unknown field(s) bogus"),
    (("        runtime: python3.10\n", "        runtime: cobol\n"), "unsupported runtime 'cobol'"),
])
def test_bad_legacy_props_name_the_resource(tmp_path: Path, change: tuple[str, str], error: str) -> None:
    with pytest.raises(TemplateError) as raised:
        load(write(tmp_path, LEGACY.replace(*change)))
    assert error in str(raised.value)


def test_an_fc3_concurrency_config_is_the_function_s_reserved_concurrency(tmp_path: Path) -> None:
    source = write(tmp_path, """edition: 3.0.0
name: p
resources:
  f:
    component: fc3
    props:
      functionName: capped
      runtime: python3.10
      handler: index.handler
      code: code
      concurrencyConfig:
        reservedConcurrency: 3
""")
    assert load(source).definitions["capped"].manifest.max_instances == 3


def test_fc3_async_config_and_triggers_keep_their_qualifier(tmp_path: Path) -> None:
    source = write(tmp_path, """edition: 3.0.0
name: p
resources:
  f:
    component: fc3
    props:
      functionName: released
      runtime: python3.10
      handler: index.handler
      code: code
      asyncInvokeConfig:
        qualifier: prod
        maxAsyncRetryAttempts: 0
      triggers:
        - triggerName: nightly
          triggerType: timer
          qualifier: prod
          triggerConfig: {cronExpression: "0 0 3 * * *", enable: true}
""")
    definition = load(source).definitions["released"]
    manifest = definition.manifest
    assert manifest.asyncInvokeConfig is not None and manifest.asyncInvokeConfig.qualifier == "prod"
    assert [trigger.qualifier for trigger in manifest.triggers] == ["prod"]
    configs = AsyncConfigs(cast(Redis, None))  # reads the manifest only: no Redis call
    assert configs.effective(definition, "prod").maxAsyncRetryAttempts == 0
    assert configs.get(definition) is None, "the manifest's config is prod's, not LATEST's"
    assert configs.effective(definition).maxAsyncRetryAttempts == 3
    assert [(entry.qualifier, entry.from_manifest) for entry in configs.entries([definition])] == [("prod", True)]


PROVISIONED = """edition: 3.0.0
name: p
resources:
  f:
    component: fc3
    props:
      functionName: warm
      runtime: python3.10
      handler: index.handler
      code: code
      provisionConfig:
        defaultTarget: 2
        alwaysAllocateCPU: false
        alwaysAllocateGPU: true
        scheduledActions: []
        targetTrackingPolicies: []
"""


def test_an_fc3_provision_config_is_the_function_s_for_latest(tmp_path: Path) -> None:
    template = load(write(tmp_path, PROVISIONED))
    declared = template.definitions["warm"].manifest.provisionConfig
    assert declared is not None and declared.qualifier == "LATEST"
    stored = declared.stored()
    assert (stored.defaultTarget, stored.alwaysAllocateCPU, stored.alwaysAllocateGPU) == (2, False, True)
    assert template.not_emulated["f"] == []  # no longer a prop fcemu ignores


def test_an_fc3_provision_config_may_name_an_alias_and_the_deprecated_target(tmp_path: Path) -> None:
    source = write(tmp_path, PROVISIONED.replace("defaultTarget: 2", "target: 1\n        qualifier: prod"))
    declared = load(source).definitions["warm"].manifest.provisionConfig
    assert declared is not None and (declared.qualifier, declared.stored().defaultTarget) == ("prod", 1)


@pytest.mark.parametrize(("change", "error"), [
    (("defaultTarget: 2", "alwaysAllocateCPU: true"), "defaultTarget (or the deprecated target) is required"),
    (("defaultTarget: 2", "defaultTarget: -1"), "provisionConfig.defaultTarget"),
    (("defaultTarget: 2", "defaultTarget: 2\n        qualifier: '1'"), "qualifier '1' is a version"),
    (("defaultTarget: 2", "defaultTarget: 2\n        qualifier: _x"), "qualifier '_x' is neither LATEST nor an alias"),
    (("scheduledActions: []", "scheduledActions: {}"), "provisionConfig.scheduledActions"),
    (("targetTrackingPolicies: []", "minInstances: 1"), "provisionConfig.minInstances"),
])
def test_a_bad_provision_config_names_the_resource(tmp_path: Path, change: tuple[str, str], error: str) -> None:
    with pytest.raises(TemplateError) as raised:
        load(write(tmp_path, PROVISIONED.replace(*change)))
    assert "resource 'f'" in str(raised.value) and error in str(raised.value)
