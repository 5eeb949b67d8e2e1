"""`make bench`: cold start and warm sync invoke latency of a no-op python function, printed as a table.

Measured against a real `fcemu serve` process and the real Docker engine on this machine; the Docker floor
(create + start a container and get the agent's first answer, without fcemu) is measured alongside.
"""
from __future__ import annotations

import http.client
import os
import platform
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import docker

from tests.support.emulator_process import EmulatorProcess

HERE = Path(__file__).parent
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
WARM_RUNS = int(os.environ.get("BENCH_WARM_RUNS", "2000"))
IMAGE = os.environ.get("FCEMU_PYTHON_RUNTIME_IMAGE", "fcemu/runtime-python3:latest")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def docker_floor(code_dir: Path) -> list[float]:
    """Create + start + first HTTP answer, straight through the Docker SDK: the floor fcemu cannot beat."""
    client = docker.from_env()
    timings = []
    for _ in range(COLD_RUNS):
        started = time.perf_counter()
        container = client.containers.run(
            IMAGE, detach=True, ports={"9000/tcp": ("127.0.0.1", None)}, labels={"fcemu": "1", "fcemu.owner": "bench"},
            volumes={str(code_dir): {"bind": "/code", "mode": "ro"}}, mem_limit="128m",
        )
        try:
            container.reload()
            port = int(container.ports["9000/tcp"][0]["HostPort"])
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    connection.request("POST", "/invoke", body=b"{}", headers={"x-fc-function-handler": "index.handler"})
                    connection.getresponse().read()
                    break
                except (ConnectionError, http.client.HTTPException, OSError):
                    time.sleep(0.003)
            timings.append((time.perf_counter() - started) * 1000)
        finally:
            container.remove(force=True)
    client.close()
    return timings


def cold_starts(emulator: EmulatorProcess) -> list[float]:
    timings = []
    for index in range(COLD_RUNS):
        started = time.perf_counter()
        request = urllib.request.Request(
            f"{emulator.url}/2023-03-30/functions/noop-{index}/invocations", data=b"{}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            reply.read()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def warm_invokes(emulator: EmulatorProcess) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port)
    path = "/2023-03-30/functions/noop-0/invocations"
    timings = []
    for index in range(WARM_RUNS + 100):
        started = time.perf_counter()
        connection.request("POST", path, body=b"{}")
        reply = connection.getresponse()
        reply.read()
        if index >= 100:  # the first hundred warm the code paths
            timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    return timings


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        functions = root / "functions"
        for index in range(COLD_RUNS):
            # One function per cold start, so that each first invoke finds no warm instance.
            target = functions / f"noop-{index}"
            shutil.copytree(HERE / "functions" / "noop", target)
            manifest = target / "function.yaml"
            manifest.write_text(manifest.read_text().replace("functionName: noop", f"functionName: noop-{index}"))
        floor = docker_floor(functions / "noop-0")
        emulator = EmulatorProcess(functions, root / "fcemu.log").start()
        try:
            cold = cold_starts(emulator)
            warm = warm_invokes(emulator)
        finally:
            emulator.stop()
    rows = [
        ("Docker floor: create+start+first answer", floor, None),
        ("fcemu cold start to first answer (API)", cold, f"<= {1.3 * statistics.median(floor):.0f} (1.3x floor)"),
        ("fcemu warm sync invoke (API, keep-alive)", warm, "p50 < 1.5"),
    ]
    print(f"\nfcemu benchmark on {platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()})")
    print("| measure | n | p50 ms | p99 ms | max ms | target ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, values, target in rows:
        print(f"| {name} | {len(values)} | {statistics.median(values):.2f} | {percentile(values, 0.99):.2f} | "
              f"{max(values):.2f} | {target or '-'} |")


if __name__ == "__main__":
    main()
