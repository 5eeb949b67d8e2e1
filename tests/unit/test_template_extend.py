"""Serverless Devs' `extend` (docs/zh/extend.md of Serverless-Devs): a template inherits a parent deep-merged under
it (extend2: mappings merge, lists and scalars are replaced), variables are resolved on the merged document, and
an error in an inherited value names the parent file and its line. Pure logic, no emulator."""
from __future__ import annotations

from pathlib import Path

import pytest

from emulator.catalog.template import TemplateError, load_template

# The docs' example (fc component), with a trigger list and variables to show what merges and what is replaced.
BASE = """edition: 3.0.0
name: app
access: default
vars:
  stage: dev
resources:
  fc-deploy-test:
    component: fc
    props:
      region: cn-hangzhou
      service:
        name: fc-service
        nasConfig: Auto
        description: "Serverless Devs Service"
      function:
        name: hello-function
        description: "stage ${vars.stage}"
        codeUri: ./code
        runtime: python3.10
        handler: index.handler
        timeout: 60
        environmentVariables:
          A: from-parent
          B: from-parent
      triggers:
        - name: http
          type: http
          config: {authType: anonymous, methods: [GET]}
        - name: timer
          type: timer
          config: {cronExpression: "@every 1m", enable: true}
"""
PRE = """extend: s.yaml
vars:
  stage: pre
resources:
  fc-deploy-test:
    props:
      service:
        name: fc-service-pre
        tracingConfig: Disable
      function:
        environmentVariables:
          B: from-child
      triggers:
        - name: only
          type: http
          config: {authType: anonymous, methods: [POST]}
"""


def project(folder: Path, files: dict[str, str]) -> None:
    (folder / "code").mkdir(exist_ok=True)
    (folder / "code" / "index.py").write_text("def handler(event, context):\n    return event\n")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def load(source: Path):
    return load_template(source, account_id="111122223333", region="cn-hangzhou")


def test_the_docs_example_merges_mappings_and_replaces_lists_and_scalars(tmp_path: Path) -> None:
    project(tmp_path, {"s.yaml": BASE, "s.pre.yaml": PRE})
    template = load(tmp_path / "s.pre.yaml")
    assert sorted(template.definitions) == ["fc-service-pre$hello-function"]
    manifest = template.definitions["fc-service-pre$hello-function"].manifest
    assert manifest.runtime == "python3.10" and manifest.timeout == 60  # inherited
    assert manifest.environmentVariables == {"A": "from-parent", "B": "from-child"}  # mappings merge
    assert [trigger.triggerName for trigger in manifest.triggers] == ["only"]  # a list is replaced, not merged
    assert manifest.description == "stage pre"  # variables resolve on the merged document
    assert template.not_emulated["fc-deploy-test"] == ["region", "service.description", "service.nasConfig",
                                                       "service.tracingConfig"]
    # The parent alone is unchanged.
    assert sorted(load(tmp_path / "s.yaml").definitions) == ["fc-service$hello-function"]


def test_a_chain_resolves_each_parent_relative_to_its_child_and_hot_reload_watches_all(tmp_path: Path) -> None:
    project(tmp_path, {
        "s.yaml": BASE,
        "envs/common.yaml": "extend: ../s.yaml\nvars:\n  stage: common\n",
        "s.prod.yaml": "extend: envs/common.yaml\nresources:\n  fc-deploy-test:\n    props:\n"
                       "      service:\n        name: fc-service-prod\n",
    })
    template = load(tmp_path / "s.prod.yaml")
    manifest = template.definitions["fc-service-prod$hello-function"].manifest
    assert manifest.description == "stage common"
    assert {tmp_path / "s.yaml", tmp_path / "envs" / "common.yaml", tmp_path / "s.prod.yaml"} <= {
        path for path in template.watched}


def test_code_and_dot_env_are_relative_to_the_template_given_not_the_parent(tmp_path: Path) -> None:
    # As Serverless Devs, which runs relative to the -t template: the parent in base/ names ./code, and the
    # child's folder holds it (base/ has no code folder at all) and the .env.
    parent = BASE.replace('description: "stage ${vars.stage}"', "description: ${env('STAGE_NOTE')}")
    project(tmp_path, {"base/s.yaml": parent, "s.yaml": "extend: base/s.yaml\n", ".env": "STAGE_NOTE=beside child\n"})
    definition = load(tmp_path / "s.yaml").definitions["fc-service$hello-function"]
    assert definition.code_dir == (tmp_path / "code").resolve()
    assert definition.manifest.description == "beside child"


def test_an_error_in_an_inherited_value_names_the_parent_file_and_line(tmp_path: Path) -> None:
    project(tmp_path, {"s.yaml": BASE.replace("handler: index.handler", "handler: ${vars.nope}"),
                       "s.pre.yaml": PRE})
    with pytest.raises(TemplateError) as raised:
        load(tmp_path / "s.pre.yaml")
    assert str(raised.value).startswith(f"{tmp_path / 's.yaml'}, line 20: cannot resolve ${{vars.nope}}")


def test_an_error_in_an_overriding_value_names_the_child_file_and_line(tmp_path: Path) -> None:
    project(tmp_path, {"s.yaml": BASE, "s.pre.yaml": PRE.replace("name: fc-service-pre", "name: ${vars.nope}")})
    with pytest.raises(TemplateError) as raised:
        load(tmp_path / "s.pre.yaml")
    assert str(raised.value).startswith(f"{tmp_path / 's.pre.yaml'}, line 8: cannot resolve ${{vars.nope}}")


def test_a_missing_parent_names_the_file_and_line(tmp_path: Path) -> None:
    project(tmp_path, {"s.pre.yaml": "edition: 3.0.0\nextend: nowhere.yaml\n"})
    with pytest.raises(TemplateError) as raised:
        load(tmp_path / "s.pre.yaml")
    assert str(raised.value).startswith(f"{tmp_path / 's.pre.yaml'}, line 2: extend 'nowhere.yaml' does not exist")


def test_a_cycle_names_the_file_line_and_the_chain(tmp_path: Path) -> None:
    project(tmp_path, {"a.yaml": "extend: b.yaml\n", "b.yaml": "name: b\nextend: a.yaml\n"})
    with pytest.raises(TemplateError) as raised:
        load(tmp_path / "a.yaml")
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'b.yaml'}, line 2: extend 'a.yaml' makes a cycle")
    assert f"{tmp_path / 'a.yaml'} -> {tmp_path / 'b.yaml'} -> {tmp_path / 'a.yaml'}" in message
