"""Go builds where the account has no writable home (a CI or service account): Go's default cache is under $HOME,
so scripts/build-go-function.sh (as runtimes/build.sh for the go1 agent) falls back to one under $TMPDIR."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.go_functions import BUILD_SCRIPT, GO_TEST_FUNCTIONS


def test_a_go_function_builds_without_a_home_with_its_cache_under_tmpdir(tmp_path: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if name not in ("HOME", "GOCACHE",
                                                                                      "XDG_CACHE_HOME")}
    environment["TMPDIR"] = str(tmp_path)
    output = tmp_path / "out" / "main"
    built = subprocess.run(["bash", str(BUILD_SCRIPT), str(GO_TEST_FUNCTIONS / "go-noop"), str(output)],
                           check=False, env=environment, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert output.read_bytes()[:4] == b"\x7fELF"
    assert any((tmp_path / "fcemu-go-cache").iterdir())
