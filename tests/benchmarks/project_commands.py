"""The project commands' speed, as a user feels it: `fcemu up` in a project folder on a machine that has the
images (the image check included), and `fcemu invoke` of a warm function (Python's start-up included), each
timed as a whole process from outside."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.emulator_process import REPO, free_port

HERE = Path(__file__).parent
UP_RUNS = int(os.environ.get("BENCH_UP_RUNS", "5"))
INVOKE_RUNS = int(os.environ.get("BENCH_INVOKE_RUNS", "20"))


def _fcemu(project: Path, env: dict[str, str], *args: str) -> float:
    """One command's wall time, in ms; it must succeed."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "emulator", *args], cwd=project, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def measure() -> tuple[list[float], list[float]]:
    """(`fcemu up` times, `fcemu invoke` times) in ms, against a project of one no-op python function."""
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        shutil.copytree(HERE / "functions" / "noop", project / "functions" / "noop")
        env = {key: value for key, value in os.environ.items() if not key.startswith("FCEMU_")}
        env.update(PYTHONPATH=str(REPO), FCEMU_REDIS_PORT=str(free_port()))
        port = str(free_port())
        ups: list[float] = []
        invokes: list[float] = []
        try:
            for _ in range(UP_RUNS):
                ups.append(_fcemu(project, env, "up", "--port", port))
                _fcemu(project, env, "invoke", "noop", "-e", "{}")  # warm
                invokes += [_fcemu(project, env, "invoke", "noop", "-e", "{}") for _ in range(INVOKE_RUNS // UP_RUNS)]
                _fcemu(project, env, "down")
        finally:
            subprocess.run([sys.executable, "-m", "emulator", "down"], cwd=project, env=env, check=False,
                           capture_output=True)
    return ups, invokes
