"""A container per invocation, as `sam local invoke` runs one: `docker run --rm` of fcemu's runtime image runs the
same no-op handler once, prints its answer and exits. Timed from the `docker run` call to the answer on its stdout
(the figure set beside fcemu's) and to the command's exit, the container removed (what a caller waits for).
Every such invoke is a cold one, so the same runs stand beside fcemu's cold start and its warm invoke."""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# Loads the function's module from /code as the agent does and calls its handler once with the bench's event.
ONE_SHOT = (
    "import importlib, json, sys; sys.path.insert(0, '/code'); "
    "print(json.dumps(importlib.import_module('index').handler({}, None)), flush=True)"
)


@dataclass
class DockerRunTimes:
    answer: list[float]
    exit: list[float]


def available() -> str | None:
    """Why this peer cannot run here, or None."""
    return None if shutil.which("docker") else "no docker CLI on PATH"


def measure(code_dir: Path, image: str, runs: int) -> DockerRunTimes:
    answer, exited = [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            ["docker", "run", "--rm", "--label", "fcemu=1", "--label", "fcemu.owner=bench-peer", "--memory", "128m",
             "--volume", f"{code_dir}:/code:ro", image, "python3", "-c", ONE_SHOT],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        answered = time.perf_counter()
        _, error = process.communicate(timeout=60)
        ended = time.perf_counter()
        if process.returncode != 0 or line.strip() != b"{}":
            raise RuntimeError(f"docker run peer failed ({process.returncode}): {line!r} {error.decode()[-500:]}")
        answer.append((answered - started) * 1000)
        exited.append((ended - started) * 1000)
    return DockerRunTimes(answer, exited)
