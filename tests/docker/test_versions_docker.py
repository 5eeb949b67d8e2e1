"""Versions and aliases through FC 3.0's official SDK: publish, list, delete; aliases with a canary weight; and
invocations with a qualifier, sync and async, that run the version they name on instances of its own."""
from __future__ import annotations

import base64
import json
import math
import uuid
from pathlib import Path

import docker
import fc2
import pytest
import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from tests.support.emulator_process import EmulatorProcess
from tests.support.fc_api import assert_v3_error, v3, zipped
from tests.support.redis_server import RedisServer
from tests.support.task_watcher import TaskWatcher
from tests.support.waits import wait_until_gone


def code_saying(word: str) -> bytes:
    """A function that answers its word and what it was told of its qualifier and version."""
    return zipped({"main.py": (
        "import json\n"
        "def handler(event, context):\n"
        f"    return json.dumps({{'word': '{word}', 'qualifier': context.service.qualifier,\n"
        "                       'versionId': context.service.version_id})\n"
    )})


def create(client: FC3Client, word: str) -> str:
    name = f"versioned-{uuid.uuid4().hex[:6]}"
    client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying(word)).decode()),
    )))
    return name


def update(client: FC3Client, name: str, word: str) -> None:
    client.update_function(name, fc3_models.UpdateFunctionRequest(body=fc3_models.UpdateFunctionInput(
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying(word)).decode()))))


def publish(client: FC3Client, name: str, description: str = "") -> str:
    request = fc3_models.PublishFunctionVersionRequest(body=fc3_models.PublishVersionInput(description=description))
    return client.publish_function_version(name, request).body.version_id


def invoke(client: FC3Client, name: str, qualifier: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The function's answer and the response's headers."""
    reply = client.invoke_function(name, fc3_models.InvokeFunctionRequest(body=b"x", qualifier=qualifier))
    return json.loads(reply.body.read()), reply.headers


def alias(client: FC3Client, name: str, alias_name: str, version: str, weights: dict[str, float] | None = None
          ) -> fc3_models.Alias:
    body = fc3_models.CreateAliasInput(alias_name=alias_name, version_id=version, additional_version_weight=weights)
    return client.create_alias(name, fc3_models.CreateAliasRequest(body=body)).body


def error_of(call) -> ClientException:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientException) as raised:
        call()
    return raised.value


def test_a_version_keeps_its_code_and_its_instances_while_latest_changes(
    fc3_client: FC3Client, docker_client: docker.DockerClient
) -> None:
    name = create(fc3_client, "one")
    assert publish(fc3_client, name, "first") == "1"
    refused = error_of(lambda: publish(fc3_client, name))
    assert (refused.code, refused.status_code) == ("VersionPublishError", 400)
    assert "No changes were made since last publish" in refused.message
    update(fc3_client, name, "two")
    assert publish(fc3_client, name) == "2"

    first, headers = invoke(fc3_client, name, "1")
    assert first == {"word": "one", "qualifier": "1", "versionId": "1"}
    assert headers["x-fc-invocation-service-version"] == "1"
    version_one_instance = headers["x-fc-instance-id"]
    latest, headers = invoke(fc3_client, name)
    assert latest["word"] == "two" and latest["qualifier"] == "LATEST"
    assert headers["x-fc-invocation-service-version"] == "LATEST"

    update(fc3_client, name, "three")
    assert invoke(fc3_client, name)[0]["word"] == "three"
    again, again_headers = invoke(fc3_client, name, "1")
    assert again["word"] == "one"
    assert again_headers["x-fc-instance-id"] == version_one_instance, "updating LATEST left version 1's instance"

    listed = fc3_client.list_function_versions(name, fc3_models.ListFunctionVersionsRequest()).body
    assert [v.version_id for v in listed.versions] == ["2", "1"] and listed.direction == "BACKWARD"
    assert listed.versions[1].description == "first" and listed.versions[1].created_time
    forward = fc3_client.list_function_versions(
        name, fc3_models.ListFunctionVersionsRequest(direction="FORWARD", limit=1)).body
    assert [v.version_id for v in forward.versions] == ["1"] and forward.next_token == "2"
    rest = fc3_client.list_function_versions(
        name, fc3_models.ListFunctionVersionsRequest(direction="FORWARD", limit=1, next_token="2")).body
    assert [v.version_id for v in rest.versions] == ["2"] and rest.next_token is None

    fc3_client.delete_function_version(name, "1")
    wait_until_gone(docker_client, version_one_instance)  # a deleted version's pool drains
    gone = error_of(lambda: invoke(fc3_client, name, "1"))
    assert (gone.code, gone.status_code) == ("VersionNotFound", 404)
    assert publish(fc3_client, name) == "3", "version ids are never reused"
    fc3_client.delete_function(name)


def test_an_alias_routes_sync_and_async_invocations_and_holds_its_versions(
    fc3_client: FC3Client, watcher: TaskWatcher, emulator: EmulatorProcess, http: requests.Session
) -> None:
    name = create(fc3_client, "one")
    publish(fc3_client, name)
    update(fc3_client, name, "two")
    publish(fc3_client, name)
    created = alias(fc3_client, name, "prod", "1")
    assert (created.alias_name, created.version_id) == ("prod", "1")
    again = error_of(lambda: alias(fc3_client, name, "prod", "2"))
    assert (again.code, again.status_code) == ("AliasAlreadyExists", 409)

    answer, headers = invoke(fc3_client, name, "prod")
    assert answer == {"word": "one", "qualifier": "prod", "versionId": "1"}
    assert headers["x-fc-invocation-service-version"] == "1"
    in_use = error_of(lambda: fc3_client.delete_function_version(name, "1"))
    assert (in_use.code, in_use.status_code) == ("VersionInUse", 409)

    update_body = fc3_models.UpdateAliasInput(version_id="2", description="moved")
    updated = fc3_client.update_alias(name, "prod", fc3_models.UpdateAliasRequest(body=update_body)).body
    assert (updated.version_id, updated.description) == ("2", "moved")
    assert fc3_client.get_alias(name, "prod").body.version_id == "2"
    assert invoke(fc3_client, name, "prod")[0]["word"] == "two"

    # LATEST (other code now) has a warm instance, which the dispatcher may claim the task onto: the task still
    # runs version 2, on an instance of version 2.
    update(fc3_client, name, "three")
    assert invoke(fc3_client, name)[0]["word"] == "three"
    headers_in = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id=f"{name}-1")
    fc3_client.invoke_function_with_options(
        name, fc3_models.InvokeFunctionRequest(body=b"later", qualifier="prod"), headers_in, RuntimeOptions())
    assert watcher.wait_for(name, f"{name}-1") == "Succeeded"
    task = fc3_client.get_async_task(name, f"{name}-1", fc3_models.GetAsyncTaskRequest()).body
    assert task.qualifier == "prod"
    assert json.loads(task.return_payload) == {"word": "two", "qualifier": "prod", "versionId": "2"}
    assert raw_task(http, emulator, name, f"{name}-1")["versionId"] == "2"
    running = [event.event_detail for event in task.events if event.status == "Running"]
    assert running[-1] == task.instance_id

    names = [a.alias_name for a in fc3_client.list_aliases(name, fc3_models.ListAliasesRequest()).body.aliases]
    assert names == ["prod"]
    fc3_client.delete_function_version(name, "1")  # no alias names it any more
    fc3_client.delete_alias(name, "prod")
    missing = error_of(lambda: invoke(fc3_client, name, "prod"))
    assert (missing.code, missing.status_code) == ("AliasNotFound", 404)

    alias(fc3_client, name, "staging", "2")
    fc3_client.delete_function(name)
    created_again = create(fc3_client, "fresh")
    assert created_again != name
    fc3_client.delete_function(created_again)


def test_a_deleted_function_takes_its_versions_and_aliases_along(fc3_client: FC3Client, emulator: EmulatorProcess,
                                                                 http: requests.Session) -> None:
    name = create(fc3_client, "one")
    publish(fc3_client, name)
    alias(fc3_client, name, "prod", "1")
    fc3_client.delete_function(name)
    fc3_client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="python3.10", handler="main.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code_saying("two")).decode()),
    )))
    assert_v3_error(http.post(v3(emulator, name) + "?qualifier=prod", data=b"x", timeout=30), 404, "AliasNotFound")
    assert publish(fc3_client, name) == "1", "a new function under the name starts its versions again"
    fc3_client.delete_function(name)


def raw_task(http: requests.Session, emulator: EmulatorProcess, name: str, task_id: str) -> dict[str, object]:
    """GetAsyncTask's body as sent (the SDK's model drops fcemu's versionId)."""
    reply = http.get(f"{emulator.url}/2023-03-30/functions/{name}/async-tasks/{task_id}", timeout=10)
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


def test_a_canary_weight_splits_invocations_as_drawn(fc3_client: FC3Client, watcher: TaskWatcher,
                                                     emulator: EmulatorProcess, http: requests.Session) -> None:
    name = create(fc3_client, "one")
    publish(fc3_client, name)
    update(fc3_client, name, "two")
    publish(fc3_client, name)
    alias(fc3_client, name, "canary", "1", {"2": 0.3})
    runs = 300
    versions = [invoke(fc3_client, name, "canary")[1]["x-fc-invocation-service-version"] for _ in range(runs)]
    assert set(versions) == {"1", "2"}
    # Three standard deviations of a binomial draw either side of its mean: fails about once in 370 runs.
    mean, sigma = runs * 0.3, math.sqrt(runs * 0.3 * 0.7)
    assert abs(versions.count("2") - mean) <= 3 * sigma, versions.count("2")

    # Drawn when an async task runs, and recorded on it: a weight of 1 always draws the additional version.
    fc3_client.update_alias(name, "canary", fc3_models.UpdateAliasRequest(
        body=fc3_models.UpdateAliasInput(additional_version_weight={"2": 1.0})))
    headers_in = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id=f"{name}-c")
    fc3_client.invoke_function_with_options(
        name, fc3_models.InvokeFunctionRequest(body=b"x", qualifier="canary"), headers_in, RuntimeOptions())
    assert watcher.wait_for(name, f"{name}-c") == "Succeeded"
    task = raw_task(http, emulator, name, f"{name}-c")
    assert (task["qualifier"], task["versionId"]) == ("canary", "2")
    assert json.loads(str(task["returnPayload"]))["word"] == "two"
    fc3_client.delete_function(name)


def test_bad_versions_and_aliases_get_fc_errors(fc3_client: FC3Client, emulator: EmulatorProcess,
                                                http: requests.Session) -> None:
    name = create(fc3_client, "one")
    publish(fc3_client, name)
    update(fc3_client, name, "two")
    publish(fc3_client, name)
    aliases = f"{emulator.url}/2023-03-30/functions/{name}/aliases"
    for bad_name in ("1st", "_x", "LATEST", "a" * 129, "a.b"):
        assert_v3_error(http.post(aliases, json={"aliasName": bad_name, "versionId": "1"}, timeout=10),
                        400, "InvalidArgument")
    for body, status, code in [
        ({"aliasName": "a", "versionId": "9"}, 404, "VersionNotFound"),
        ({"aliasName": "a"}, 400, "InvalidArgument"),
        ({"aliasName": "a", "versionId": "LATEST"}, 400, "InvalidArgument"),
        ({"aliasName": "a", "versionId": "1", "additionalVersionWeight": {"1": 0.5}}, 400,
         "AdditionalVersionContainsMajorVersion"),
        ({"aliasName": "a", "versionId": "1", "additionalVersionWeight": {"2": 1.5}}, 400, "InvalidArgument"),
        ({"aliasName": "a", "versionId": "1", "additionalVersionWeight": {"2": 0.1, "3": 0.1}}, 400,
         "InvalidArgument"),
        ({"aliasName": "a", "versionId": "1", "additionalVersionWeight": {"9": 0.1}}, 404, "VersionNotFound"),
        ({"aliasName": "a", "versionId": "1", "description": "d" * 257}, 400, "InvalidArgument"),
    ]:
        assert_v3_error(http.post(aliases, json=body, timeout=10), status, code)
    assert_v3_error(http.get(aliases + "/nope", timeout=10), 404, "AliasNotFound")
    assert_v3_error(http.put(aliases + "/nope", json={"versionId": "1"}, timeout=10), 404, "AliasNotFound")
    assert_v3_error(http.delete(aliases + "/nope", timeout=10), 404, "AliasNotFound")
    versions = f"{emulator.url}/2023-03-30/functions/{name}/versions"
    assert_v3_error(http.get(versions + "?direction=UP", timeout=10), 400, "InvalidArgument")
    assert_v3_error(http.get(versions + "?nextToken=x", timeout=10), 400, "InvalidArgument")
    assert_v3_error(http.delete(versions + "/7", timeout=10), 404, "VersionNotFound")
    assert_v3_error(http.delete(versions + "/x", timeout=10), 404, "VersionNotFound")
    assert_v3_error(http.post(v3(emulator, name) + "?qualifier=7", data=b"x", timeout=10), 404, "VersionNotFound")
    assert_v3_error(http.post(v3(emulator, name) + "?qualifier=nope", data=b"x",
                              headers={"x-fc-invocation-type": "Async"}, timeout=10), 404, "AliasNotFound")
    assert_v3_error(http.post(f"{emulator.url}/2023-03-30/functions/nobody/versions", timeout=10),
                    404, "FunctionNotFound")
    fc3_client.delete_function(name)


def test_a_function_from_files_is_published_from_its_folder_as_it_is(
    tmp_path: Path, module_redis: RedisServer, http: requests.Session
) -> None:
    """Publishing zips the function's folder into the code store: the version keeps running that code after the
    files change."""
    functions = tmp_path / "functions"
    folder = functions / "filed"
    folder.mkdir(parents=True)
    (folder / "function.yaml").write_text("functionName: filed\nruntime: python3.10\nhandler: index.handler\n"
                                          "memorySize: 128\ntimeout: 5\n")
    (folder / "index.py").write_text("def handler(event, context):\n    return 'before'\n")
    emulator = EmulatorProcess(functions, tmp_path / "fcemu.log", redis_url=module_redis.url,
                               dispatcher_enabled="false").start()
    try:
        versions = f"{emulator.url}/2023-03-30/functions/filed/versions"
        published = http.post(versions, json={"description": "from files"}, timeout=30)
        assert published.status_code == 200, published.text
        assert published.json()["versionId"] == "1"
        assert_v3_error(http.post(versions, json={}, timeout=30), 400, "VersionPublishError")
        mark = emulator.log_lines
        (folder / "index.py").write_text("def handler(event, context):\n    return 'after'\n")
        emulator.wait_for_log("reloaded functions: filed", after=mark)
        assert http.post(v3(emulator, "filed"), data=b"x", timeout=30).content == b"after"
        kept = http.post(v3(emulator, "filed") + "?qualifier=1", data=b"x", timeout=30)
        assert kept.content == b"before" and kept.headers["x-fc-invocation-service-version"] == "1"
        assert http.post(versions, json={}, timeout=30).json()["versionId"] == "2"
    finally:
        emulator.stop()


def test_service_versions_and_aliases_with_the_fc2_sdk(fc2_client: fc2.Client, tmp_path: Path) -> None:
    """An FC 2.0 service version is version N of each of its functions; a service alias routes them all."""
    service = f"svc-{uuid.uuid4().hex[:6]}"
    fc2_client.create_service(service)
    code = tmp_path / "code.zip"
    code.write_bytes(code_saying("one"))
    fc2_client.create_function(service, "greeter", "python3.10", "main.handler", codeZipFile=str(code))
    assert fc2_client.publish_version(service, "first").data["versionId"] == "1"
    with pytest.raises(fc2.FcError) as unchanged:
        fc2_client.publish_version(service)
    assert (unchanged.value.status_code, unchanged.value.err_code) == (400, "VersionPublishError")
    code.write_bytes(code_saying("two"))
    fc2_client.update_function(service, "greeter", codeZipFile=str(code))
    assert fc2_client.publish_version(service).data["versionId"] == "2"

    def word(qualifier: str | None) -> tuple[str, str]:
        reply = fc2_client.invoke_function(service, "greeter", payload=b"x", qualifier=qualifier)
        return json.loads(reply.data)["word"], reply.headers["x-fc-invocation-service-version"]

    assert word("1") == ("one", "1") and word(None) == ("two", "LATEST")
    fc2_client.create_alias(service, "prod", "1", description="stable")
    assert word("prod") == ("one", "1")
    assert fc2_client.get_alias(service, "prod").data["description"] == "stable"
    with pytest.raises(fc2.FcError) as in_use:
        fc2_client.delete_version(service, "1")
    assert (in_use.value.status_code, in_use.value.err_code) == (409, "VersionInUse")
    fc2_client.update_alias(service, "prod", "2")
    assert word("prod") == ("two", "2")
    assert [a["aliasName"] for a in fc2_client.list_aliases(service).data["aliases"]] == ["prod"]
    fc2_client.delete_version(service, "1")
    assert [v["versionId"] for v in fc2_client.list_versions(service).data["versions"]] == ["2"]

    code.write_bytes(code_saying("three"))
    fc2_client.update_function(service, "greeter", codeZipFile=str(code))
    latest = fc2_client.get_function(service, "greeter").data["codeChecksum"]
    at_two = fc2_client.get_function(service, "greeter", qualifier="prod").data
    assert at_two["codeChecksum"] != latest and at_two["versionId"] == "2"

    fc2_client.delete_alias(service, "prod")
    with pytest.raises(fc2.FcError) as gone:
        fc2_client.invoke_function(service, "greeter", payload=b"x", qualifier="prod")
    assert (gone.value.status_code, gone.value.err_code) == (404, "AliasNotFound")
    fc2_client.delete_function(service, "greeter")
    fc2_client.delete_service(service)


def test_a_nodejs_function_is_told_its_alias_and_version(fc3_client: FC3Client) -> None:
    name = f"versioned-node-{uuid.uuid4().hex[:6]}"
    code = zipped({"index.js": (
        "exports.handler = async (event, context) => JSON.stringify("
        "{qualifier: context.service.qualifier, versionId: context.service.versionId});\n"
    )})
    fc3_client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="nodejs18", handler="index.handler", memory_size=128, timeout=5,
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(code).decode()),
    )))
    version = publish(fc3_client, name)
    alias(fc3_client, name, "live", version)
    assert invoke(fc3_client, name, "live")[0] == {"qualifier": "live", "versionId": version}
    assert invoke(fc3_client, name)[0]["qualifier"] == "LATEST"
    fc3_client.delete_function(name)


def test_aliases_are_listed_by_name_a_page_at_a_time(fc3_client: FC3Client) -> None:
    name = create(fc3_client, "one")
    version = publish(fc3_client, name)
    for alias_name in ("beta", "alpha", "gamma", "other"):
        alias(fc3_client, name, alias_name, version)
    first = fc3_client.list_aliases(name, fc3_models.ListAliasesRequest(limit=2)).body
    assert [a.alias_name for a in first.aliases] == ["alpha", "beta"] and first.next_token == "gamma"
    rest = fc3_client.list_aliases(name, fc3_models.ListAliasesRequest(limit=2, next_token=first.next_token)).body
    assert [a.alias_name for a in rest.aliases] == ["gamma", "other"] and rest.next_token is None
    prefixed = fc3_client.list_aliases(name, fc3_models.ListAliasesRequest(prefix="g")).body
    assert [a.alias_name for a in prefixed.aliases] == ["gamma"]
    fc3_client.delete_function(name)


def test_a_task_whose_alias_went_before_it_ran_ends_invalid(fc3_client: FC3Client, watcher: TaskWatcher) -> None:
    name = create(fc3_client, "one")
    alias(fc3_client, name, "soon-gone", publish(fc3_client, name))
    headers_in = fc3_models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_async_task_id=f"{name}-g",
                                                  common_headers={"x-fc-async-delay": "2"})
    fc3_client.invoke_function_with_options(
        name, fc3_models.InvokeFunctionRequest(body=b"x", qualifier="soon-gone"), headers_in, RuntimeOptions())
    fc3_client.delete_alias(name, "soon-gone")
    assert watcher.wait_for(name, f"{name}-g") == "Invalid"
    task = fc3_client.get_async_task(name, f"{name}-g", fc3_models.GetAsyncTaskRequest()).body
    assert "alias 'soon-gone'" in task.task_error_message and task.qualifier == "soon-gone"
    fc3_client.delete_function(name)


def test_an_alias_switched_under_a_reserved_concurrency_of_one_runs_at_once(fc3_client: FC3Client) -> None:
    """The function's one instance is an idle one of the version the alias named before: it makes way for the new
    version's, rather than the invoke being throttled while nothing runs (the limit is the function's, shared by
    its versions' pools)."""
    name = create(fc3_client, "one")
    publish(fc3_client, name)
    update(fc3_client, name, "two")
    publish(fc3_client, name)
    fc3_client.put_concurrency_config(name, fc3_models.PutConcurrencyConfigRequest(
        body=fc3_models.PutConcurrencyInput(reserved_concurrency=1)))
    alias(fc3_client, name, "prod", "1")
    assert invoke(fc3_client, name, "prod")[0]["word"] == "one"
    fc3_client.update_alias(name, "prod", fc3_models.UpdateAliasRequest(
        body=fc3_models.UpdateAliasInput(version_id="2")))
    answer, headers = invoke(fc3_client, name, "prod")
    assert (answer["word"], headers["x-fc-invocation-service-version"]) == ("two", "2")
