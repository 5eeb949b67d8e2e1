"""The go1 and java rows of `make bench`: no-op Go and Java functions (tests/benchmarks/functions/noop-go,
noop-java), built offline as a user builds them (scripts/build-functions.sh), their images' Docker floors, and
their cold starts and warm invokes through the API, beside python's."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.latency import cold_starts, copy_noops, docker_floor, warm_invokes
from tests.support.emulator_process import EmulatorProcess

REPOSITORY = Path(__file__).parent.parent.parent
# function folder, image, the handler FC_FUNCTION_HANDLER names
RUNTIMES = {
    "go1": ("noop-go", os.environ.get("FCEMU_GO_RUNTIME_IMAGE", "fcemu/runtime-go1:latest"), "main"),
    "java11": ("noop-java", os.environ.get("FCEMU_JAVA_RUNTIME_IMAGE", "fcemu/runtime-java:latest"),
               "bench.Noop::handleRequest"),
}
# The targets: a warm invoke within this factor of python's p50 (a cold start within 1.3x the image's floor,
# as every runtime).
WARM_FACTORS = {"go1": 1.2, "java11": 1.5}


@dataclass
class Measured:
    floor: list[float]
    cold: list[float]
    warm: list[float]


def prepare(functions: Path, runs: int) -> dict[str, list[float]]:
    """Copies and builds each no-op `runs` times (a cold start each) and measures each image's Docker floor on the
    first copy, before any emulator runs; the floors by runtime."""
    for name, _, _ in RUNTIMES.values():
        copy_noops(functions, name, runs)
    folders = [str(folder) for folder in sorted(functions.iterdir())
               if folder.name.startswith(tuple(name for name, _, _ in RUNTIMES.values()))]
    subprocess.run(["bash", str(REPOSITORY / "scripts" / "build-functions.sh"), *folders], check=True,
                   stdout=subprocess.DEVNULL)
    return {runtime: docker_floor(functions / f"{name}-0", image, runs, handler, {"FC_RUNTIME": runtime})
            for runtime, (name, image, handler) in RUNTIMES.items()}


def measure(emulator: EmulatorProcess, floors: dict[str, list[float]], runs: int, warm_runs: int
            ) -> dict[str, Measured]:
    """Each runtime's cold starts, then its warm invokes right after, as the python and Node.js rows."""
    return {runtime: Measured(floors[runtime], cold_starts(emulator, name, runs),
                              warm_invokes(emulator, f"{name}-0", warm_runs))
            for runtime, (name, _, _) in RUNTIMES.items()}
