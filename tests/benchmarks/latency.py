"""Latency measures shared by the bench's rows: a runtime image's Docker floor, cold starts and warm sync invokes
through the API, and the no-op functions' copies they run on."""
from __future__ import annotations

import http.client
import shutil
import time
import urllib.request
from pathlib import Path

import docker

from tests.support.emulator_process import EmulatorProcess

FUNCTIONS = Path(__file__).parent / "functions"
# The first warm invokes warm the code paths and are not counted.
WARM_UP_RUNS = 100


def docker_floor(code_dir: Path, image: str, runs: int, handler: str = "index.handler",
                 environment: dict[str, str] | None = None) -> list[float]:
    """Create + start + first HTTP answer, straight through the Docker SDK: the floor fcemu cannot beat. The
    request carries what an agent needs of FC's headers (the handler, a timeout) and the instance's secret."""
    client = docker.from_env()
    timings = []
    headers = {"x-fc-function-handler": handler, "x-fc-function-timeout": "3", "x-fc-request-id": "floor",
               "x-fcemu-agent-token": "bench"}
    for _ in range(runs):
        started = time.perf_counter()
        container = client.containers.run(
            image, detach=True, ports={"9000/tcp": ("127.0.0.1", None)}, labels={"fcemu": "1", "fcemu.owner": "bench"},
            volumes={str(code_dir): {"bind": "/code", "mode": "ro"}}, mem_limit="128m",
            environment={"FCEMU_AGENT_TOKEN": "bench", "FC_FUNCTION_HANDLER": handler, **(environment or {})},
        )
        try:
            container.reload()
            port = int(container.ports["9000/tcp"][0]["HostPort"])
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    connection.request("POST", "/invoke", body=b"{}", headers=headers)
                    connection.getresponse().read()
                    break
                except (ConnectionError, http.client.HTTPException, OSError):
                    time.sleep(0.003)
            timings.append((time.perf_counter() - started) * 1000)
        finally:
            container.remove(force=True)
    client.close()
    return timings


def cold_starts(emulator: EmulatorProcess, prefix: str, runs: int) -> list[float]:
    """The first invoke of each copy prefix-0 .. prefix-<runs-1>: a new instance each."""
    timings = []
    for index in range(runs):
        started = time.perf_counter()
        request = urllib.request.Request(
            f"{emulator.url}/2023-03-30/functions/{prefix}-{index}/invocations", data=b"{}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            reply.read()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def warm_invokes(emulator: EmulatorProcess, function: str, runs: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port)
    path = f"/2023-03-30/functions/{function}/invocations"
    timings = []
    for index in range(runs + WARM_UP_RUNS):
        started = time.perf_counter()
        connection.request("POST", path, body=b"{}")
        reply = connection.getresponse()
        reply.read()
        if index >= WARM_UP_RUNS:
            timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    return timings


def copy_noops(functions: Path, name: str, count: int, as_name: str = "") -> None:
    """One copy of a no-op function per cold start (name-0, name-1...), so each first invoke finds no warm instance."""
    for index in range(count):
        target = functions / f"{as_name or name}-{index}"
        shutil.copytree(FUNCTIONS / name, target)
        manifest = target / "function.yaml"
        manifest.write_text(manifest.read_text().replace(f"functionName: {name}\n",
                                                         f"functionName: {as_name or name}-{index}\n"))
