"""`fcemu logs` as a user runs it against an emulator: a process of its own, whose output the test reads."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.support.emulator_process import REPO, EmulatorProcess


def cli(emulator: EmulatorProcess, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "FCEMU_PORT": str(emulator.port), "FCEMU_HOST": "127.0.0.1"}
    return subprocess.Popen([sys.executable, "-m", "emulator", "logs", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
