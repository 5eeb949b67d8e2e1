"""Go functions as a go1 user ships them: built offline with scripts/build-go-function.sh (against the repository's
copy of fc-runtime-go-sdk) and zipped as a binary named by the handler."""
from __future__ import annotations

import base64
import io
import subprocess
import zipfile
from pathlib import Path

import requests
from alibabacloud_fc20230330 import models as fc3_models
from alibabacloud_fc20230330.client import Client as FC3Client

from tests.support.emulator_process import REPO

GO_TEST_FUNCTIONS = REPO / "tests" / "functions"
BUILD_SCRIPT = REPO / "scripts" / "build-go-function.sh"


def build_go_function(source: Path, output: Path) -> Path:
    """The function's static linux binary, built offline (GOPROXY=off) into `output`."""
    subprocess.run(["bash", str(BUILD_SCRIPT), str(source), str(output)], check=True, capture_output=True)
    return output


def build_go_test_functions(target: Path) -> dict[str, Path]:
    """Every tests/functions/go-* folder built into target/<name>/main, by folder name."""
    return {folder.name: build_go_function(folder, target / folder.name / "main")
            for folder in sorted(GO_TEST_FUNCTIONS.glob("go-*")) if (folder / "go.mod").is_file()}


def binary_zip(binary: Path, name: str = "main") -> bytes:
    """A code zip holding the binary at its root under `name` (the function's handler), executable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo(name)
        entry.external_attr = 0o100755 << 16
        entry.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(entry, binary.read_bytes())
    return buffer.getvalue()


def deploy_go(client: FC3Client, binary: Path, name: str, handler: str = "main",
              **fields: object) -> str:
    """Creates a go1 function of the binary through FC 3.0's API (CreateFunction); `fields` are
    CreateFunctionInput's (environment_variables, initializer, instance_concurrency...). Returns its name."""
    client.create_function(fc3_models.CreateFunctionRequest(body=fc3_models.CreateFunctionInput(
        function_name=name, runtime="go1", handler=handler, memory_size=fields.pop("memory_size", 128),
        timeout=fields.pop("timeout", 10),
        code=fc3_models.InputCodeLocation(zip_file=base64.b64encode(binary_zip(binary)).decode()), **fields,
    )))
    return name


def remove_deployed(emulator_url: str, prefix: str = "go-") -> None:
    """Deletes every function named `prefix`... that was deployed through the API (FC 2.0 ones as `service$function`, then
    their services): deployed functions live in the shared Redis, where every later emulator of the run would load
    them (and pre-warm them), so a test module leaves none behind."""
    listed = requests.get(f"{emulator_url}/2023-03-30/functions", params={"prefix": prefix, "limit": 100}, timeout=30)
    assert listed.status_code == 200, listed.text
    services = set()
    for function in listed.json().get("functions") or []:
        service, dollar, name = function["functionName"].partition("$")
        if dollar:
            url = f"{emulator_url}/2016-08-15/services/{service}/functions/{name}"
            services.add(service)
        else:
            url = f"{emulator_url}/2023-03-30/functions/{service}"
        for trigger in requests.get(f"{url}/triggers", timeout=30).json().get("triggers") or []:
            requests.delete(f"{url}/triggers/{trigger['triggerName']}", timeout=30)
        deleted = requests.delete(url, timeout=30)
        # A function of the functions folder (go-parity) is the folder's to change, not the API's: it stays.
        assert deleted.status_code == 204 or "is defined by" in deleted.text, (url, deleted.status_code, deleted.text)
    for service in services:
        requests.delete(f"{emulator_url}/2016-08-15/services/{service}", timeout=30)
