"""Fixtures the Docker tests share beyond the root conftest's: FC's official SDK clients of both API versions,
against the shared emulator; the Go and Java test functions, built in the run."""
from __future__ import annotations

from pathlib import Path

import docker
import fc2
import pytest
from alibabacloud_fc20230330.client import Client as FC3Client
from alibabacloud_tea_openapi import models as openapi_models

from emulator.settings import Settings
from tests.support.emulator_process import EmulatorProcess
from tests.support.go_functions import build_go_test_functions
from tests.support.java_functions import JavaFunctions, build_java_functions


@pytest.fixture(scope="module")
def fc2_client(emulator: EmulatorProcess) -> fc2.Client:
    return fc2.Client(endpoint=emulator.url, accessKeyID="test-ak", accessKeySecret="test-sk")


@pytest.fixture(scope="module")
def fc3_client(emulator: EmulatorProcess) -> FC3Client:
    config = openapi_models.Config(
        access_key_id="test-ak", access_key_secret="test-sk", endpoint=f"127.0.0.1:{emulator.port}", protocol="http"
    )
    return FC3Client(config)


@pytest.fixture(scope="session")
def go_binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tests/functions/go-*, built offline in this run, by folder name."""
    return build_go_test_functions(tmp_path_factory.mktemp("go-functions"))


@pytest.fixture(scope="session")
def java_functions(tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient) -> JavaFunctions:
    """The Java runtime's test functions, compiled once per run (tests/support/java_functions.py)."""
    return build_java_functions(tmp_path_factory.mktemp("java"), docker_client, Settings().java_runtime_image)
